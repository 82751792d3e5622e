// GraphiQL as a person meets it: open <base>/graphql in Chromium without pasting a token, open
// the documentation explorer and expect the schema's root type `Query` in it.
//
//   node tests/clients/graphiql.mjs http://127.0.0.1:8080
//
// Exits 0 when the docs explorer shows `query: Query`, 1 otherwise (with the docs pane's text,
// GraphiQL's calls to POST /graphql and their answers, and the browser console), 2 on misuse.

import { baseUrl, openBrowser, printLogs } from './browser.mjs';

const base = baseUrl();
const { page, consoleLines, pageErrors, close } = await openBrowser();

// Every call GraphiQL makes to the API, with the Authorization header it sent and the answer.
const calls = [];
page.on('response', async (response) => {
  const request = response.request();
  if (request.method() !== 'POST' || !request.url().includes('/graphql')) return;
  const auth = request.headers()['authorization'];
  let body = '';
  try {
    body = await response.text();
  } catch (e) {
    body = `(body unreadable: ${e})`;
  }
  let operation = '';
  try {
    const sent = JSON.parse(request.postData() || '{}');
    operation = sent.operationName || (sent.query || '').trim().split(/\s+/).slice(0, 2).join(' ');
  } catch {
    operation = '(not JSON)';
  }
  calls.push(
    `POST ${request.url()} operation=${operation} authorization=${auth === undefined ? '(none)' : JSON.stringify(auth)}` +
      ` -> ${response.status()} ${body.slice(0, 600)}`,
  );
});

let ok = false;
let reason = '';
const t0 = Date.now();
const step = (what) => console.log(`${what} after ${Date.now() - t0} ms`);
try {
  await page.goto(`${base}/graphql`, { waitUntil: 'load', timeout: 30_000 });
  await page.locator('.graphiql-container').waitFor({ timeout: 30_000 });
  step('GraphiQL rendered');

  const button = page.locator('button[aria-label="Show Documentation Explorer"]');
  await button.waitFor({ timeout: 15_000 });
  await button.click();

  const pane = page.locator('.graphiql-doc-explorer');
  await pane.waitFor({ timeout: 15_000 });
  // Wait until the explorer has settled: the root types, or an error.
  const settled = page.locator(
    '.graphiql-doc-explorer-root-type, .graphiql-doc-explorer-error, .graphiql-doc-explorer .graphiql-spinner',
  );
  await settled.first().waitFor({ timeout: 20_000 }).catch(() => {});
  await page
    .locator('.graphiql-doc-explorer-root-type, .graphiql-doc-explorer-error')
    .first()
    .waitFor({ timeout: 20_000 })
    .catch(() => {});

  step('docs explorer settled');
  const paneText = (await pane.innerText().catch(() => '(docs pane unreadable)')).trim();
  console.log('--- documentation explorer text');
  console.log(paneText ? paneText.slice(0, 1500) + (paneText.length > 1500 ? ' ...' : '') : '(empty)');

  const pageText = await page.locator('body').innerText();
  const rootTypes = await page.locator('.graphiql-doc-explorer-root-type').allInnerTexts();
  // Each root type is rendered as `<span class=root-type>query</span>: <a>Query</a>`.
  const queryRoot = page.locator('.graphiql-doc-explorer-root-type', { hasText: /^query$/ });
  const queryLine =
    (await queryRoot.count()) > 0
      ? await queryRoot.first().locator('xpath=..').innerText({ timeout: 5_000 }).catch(() => '')
      : '';
  if (pageText.includes('Error fetching schema')) {
    reason = 'GraphiQL says "Error fetching schema": its introspection query was refused';
  } else if (!rootTypes.includes('query')) {
    reason = `the docs explorer lists no query root type (root types: ${JSON.stringify(rootTypes)})`;
  } else if (!/query\s*:\s*Query\b/.test(queryLine)) {
    reason = `the query root type is not named Query: ${JSON.stringify(queryLine)}`;
  } else {
    ok = true;
    console.log(`docs explorer root type: ${queryLine.replace(/\s+/g, ' ')}`);
  }
} catch (e) {
  reason = `the page did not behave as expected: ${e && e.message ? e.message : e}`;
  const text = await page.locator('body').innerText().catch(() => '(page text unreadable)');
  console.log('--- page text');
  console.log(text.slice(0, 4000));
}

console.log(`--- POST /graphql calls made by GraphiQL (${calls.length})`);
for (const line of calls) console.log(line);
printLogs(consoleLines, pageErrors);
await close();

if (ok) {
  console.log('PASS graphiql: the documentation explorer shows the root type Query');
  process.exit(0);
}
console.log(`FAIL graphiql: ${reason}`);
process.exit(1);
