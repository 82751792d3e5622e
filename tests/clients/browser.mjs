// Shared by the browser clients: starts Debian's Chromium through playwright-core with a new,
// empty profile and the flags this machine's closed network needs, and records what the page
// says on its console so a failure can be explained.
//
// Environment: COPRODUCE_CHROMIUM (default /usr/bin/chromium), COPRODUCE_NODE_MODULES (the
// node_modules folder that holds playwright-core; default: resolved from here).

import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const modules = process.env.COPRODUCE_NODE_MODULES;
const require = createRequire(modules ? join(modules, 'noop.js') : import.meta.url);
const { chromium } = require('playwright-core');

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Opens a page; returns it with the console log, page errors and a close function. */
export async function openBrowser() {
  const started = Date.now();
  const profile = mkdtempSync(join(tmpdir(), 'coproduce-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.COPRODUCE_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: FLAGS,
    timeout: 60_000,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  console.log(`chromium started in ${Date.now() - started} ms`);
  const consoleLines = [];
  const pageErrors = [];
  page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => pageErrors.push(String(e && e.stack ? e.stack : e)));
  page.on('response', (r) => {
    if (r.status() >= 400) consoleLines.push(`[response] ${r.request().method()} ${r.url()} -> ${r.status()}`);
  });
  page.on('requestfailed', (r) =>
    consoleLines.push(`[requestfailed] ${r.method()} ${r.url()}: ${r.failure()?.errorText}`),
  );
  const close = async () => {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  };
  return { page, consoleLines, pageErrors, close };
}

/** Prints the console and page errors, under a heading, for diagnosis. */
export function printLogs(consoleLines, pageErrors) {
  console.log(`--- browser console (${consoleLines.length} lines)`);
  for (const line of consoleLines) console.log(line.slice(0, 2000));
  console.log(`--- page errors (${pageErrors.length})`);
  for (const line of pageErrors) console.log(line.slice(0, 2000));
}

/** The base URL from the first argument, without a trailing slash. */
export function baseUrl() {
  const base = process.argv[2];
  if (!base) {
    console.error('usage: node <script> <base url, e.g. http://127.0.0.1:8080>');
    process.exit(2);
  }
  return base.replace(/\/+$/, '');
}
