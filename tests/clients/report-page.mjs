// The printable evidence report as a reader meets it: open <base><path> in Chromium with the
// bearer token, and expect a rendered page with an SVG chart of one bar pair per level, table
// headers, no script, and a content security policy that blocks scripts; keep a screenshot and
// an A4 PDF of the print layout.
//
//   node tests/clients/report-page.mjs http://127.0.0.1:8080 /api/v1/reports/evidence?... TOKEN OUT_DIR
//
// Exits 0 when all holds, 1 otherwise (with the page text and console), 2 on misuse.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { baseUrl, openBrowser, printLogs } from './browser.mjs';

const base = baseUrl();
const [path, token, out] = process.argv.slice(3);
if (!path || !token || !out) {
  console.log('usage: report-page.mjs BASE PATH TOKEN OUT_DIR');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const { page, consoleLines, pageErrors, close } = await openBrowser();

let ok = false;
let reason = '';
try {
  await page.setExtraHTTPHeaders({ Authorization: `Bearer ${token}` });
  const response = await page.goto(`${base}${path}`, { waitUntil: 'load', timeout: 30_000 });
  const status = response ? response.status() : 0;
  const csp = response ? (await response.allHeaders())['content-security-policy'] || '' : '';
  console.log(`GET ${path} -> ${status}; CSP: ${csp}`);
  // A script the page might carry cannot run: try to add one and see it blocked.
  const injected = await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__ran = true';
    document.body.appendChild(s);
    return window.__ran === true;
  });
  const facts = await page.evaluate(() => ({
    title: document.title,
    scripts: document.querySelectorAll('script').length - 1,
    svgs: document.querySelectorAll('svg').length,
    pairs: [...document.querySelectorAll('svg g[class^="bar-pair-"]')].map((g) => g.getAttribute('class')),
    bars: document.querySelectorAll('svg rect.bar').length,
    svgTitle: document.querySelector('svg title')?.textContent || '',
    headings: document.querySelectorAll('h1, h2').length,
    tableHeaders: document.querySelectorAll('th[scope]').length,
    width: document.documentElement.scrollWidth,
  }));
  console.log(`page: ${JSON.stringify(facts)}; injected script ran: ${injected}`);
  await page.screenshot({ path: join(out, 'evidence-report.png'), fullPage: true });
  await page.emulateMedia({ media: 'print' });
  await page.pdf({ path: join(out, 'evidence-report.pdf'), format: 'A4', printBackground: true });
  console.log(`kept ${join(out, 'evidence-report.png')} and evidence-report.pdf`);
  const uniquePairs = new Set(facts.pairs);
  if (status !== 200) reason = `status ${status}`;
  else if (!csp.includes("default-src 'none'")) reason = `no script-blocking CSP: ${csp}`;
  else if (injected) reason = 'an injected script ran';
  else if (facts.scripts > 0) reason = `${facts.scripts} script elements`;
  else if (facts.svgs < 1) reason = 'no SVG chart';
  else if (uniquePairs.size !== 5 || facts.bars !== 10) reason = `expected 5 bar pairs (10 bars), got ${uniquePairs.size} pairs, ${facts.bars} bars`;
  else if (!facts.svgTitle) reason = 'the chart has no text alternative';
  else if (facts.headings < 3 || facts.tableHeaders < 5) reason = 'too few headings or table headers';
  else ok = true;
} catch (e) {
  reason = `the page did not behave as expected: ${e && e.message ? e.message : e}`;
  const text = await page.locator('body').innerText().catch(() => '(page text unreadable)');
  console.log('--- page text');
  console.log(text.slice(0, 4000));
}

printLogs(consoleLines, pageErrors);
await close();

if (ok) {
  console.log('PASS report-page: rendered with its chart, no script runs');
  process.exit(0);
}
console.log(`FAIL report-page: ${reason}`);
process.exit(1);
