// Swagger UI as a person meets it: open <base>/docs/ in Chromium and expect it to render the
// OpenAPI document's operations.
//
//   node tests/clients/swagger-ui.mjs http://127.0.0.1:8080 [minimum operations, default 20]
//
// Exits 0 when at least the minimum number of operations (.opblock) is rendered and
// /api/v1/organisations is among them, 1 otherwise (with the page text and console), 2 on misuse.

import { baseUrl, openBrowser, printLogs } from './browser.mjs';

const base = baseUrl();
const minimum = Number(process.argv[3] || 20);
const { page, consoleLines, pageErrors, close } = await openBrowser();

let ok = false;
let reason = '';
try {
  const response = await page.goto(`${base}/docs/`, { waitUntil: 'load', timeout: 30_000 });
  console.log(`GET ${base}/docs/ -> ${response ? response.status() : '(no response)'}`);
  await page.locator('.swagger-ui').first().waitFor({ timeout: 30_000 });
  const blocks = page.locator('.opblock');
  await blocks.first().waitFor({ timeout: 30_000 });
  const count = await blocks.count();
  const title = (await page.locator('.info .title').innerText().catch(() => '')).trim();
  const paths = await page.locator('.opblock-summary-path').allInnerTexts();
  const cleaned = paths.map((p) => p.replace(/\u200b/g, '').trim());
  console.log(`title: ${title.replace(/\s+/g, ' ')}`);
  console.log(`operations rendered: ${count}`);
  const errors = await page.locator('.swagger-ui .errors-wrapper').allInnerTexts();
  if (errors.length) console.log(`swagger-ui errors: ${errors.join(' | ')}`);
  if (count < minimum) {
    reason = `only ${count} operations rendered, expected at least ${minimum}`;
  } else if (!cleaned.includes('/api/v1/organisations')) {
    reason = `/api/v1/organisations is not among the rendered paths: ${JSON.stringify(cleaned)}`;
  } else if (errors.length) {
    reason = `Swagger UI shows errors: ${errors.join(' | ')}`;
  } else {
    ok = true;
  }
} catch (e) {
  reason = `the page did not behave as expected: ${e && e.message ? e.message : e}`;
  const text = await page.locator('body').innerText().catch(() => '(page text unreadable)');
  console.log('--- page text');
  console.log(text.slice(0, 4000));
}

printLogs(consoleLines, pageErrors);
await close();

if (ok) {
  console.log('PASS swagger-ui: the operations are rendered');
  process.exit(0);
}
console.log(`FAIL swagger-ui: ${reason}`);
process.exit(1);
