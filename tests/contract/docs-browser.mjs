#!/usr/bin/env node
// docs-browser.mjs - the /docs page in a real (headless) Chromium.
//
//   node docs-browser.mjs --bin build/bin/herald-api --spec openapi/openapi.yaml [--out DIR]
//
// Starts herald-api with HERALD_DOCS_DIR unset, so the Redoc bundle is read from the `docs`
// folder next to the executable (build/bin/docs, filled by the build or the contract_docs_assets
// test), loads http://127.0.0.1:PORT/docs and checks that Redoc rendered every operation of the
// document (its summary shows in the page), that nothing was requested from another origin,
// and that the page logged no error (Content-Security-Policy violations included). Saves a
// screenshot (docs-page.png) in --out. Chromium: $CHROMIUM, else /usr/bin/chromium (Debian
// package "chromium"). Without it the test is skipped (exit 77), except under CI=true.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { Harness, parseArgs, requireNodeModules } from './lib/harness.mjs';
import { Report } from './lib/report.mjs';

requireNodeModules();
const report = new Report('docs-browser');
const SKIP = 77;

function findChromium() {
  const candidates = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return candidates.find((c) => c && existsSync(c)) ?? null;
}

async function main() {
  let args;
  try {
    args = parseArgs();
  } catch (e) {
    console.error(`docs-browser: ${e.message}`);
    console.log('0 passed, 1 failed');
    return 1;
  }
  const chromiumPath = findChromium();
  if (!chromiumPath) {
    const why = 'Chromium is not installed (Debian package "chromium"; or set CHROMIUM=/path/to/chrome)';
    if (process.env.CI === 'true' || process.env.HERALD_REQUIRE_BROWSER === '1') {
      report.record('a Chromium to drive', [why]);
      return report.finish();
    }
    console.log(`docs-browser: SKIPPED: ${why}`);
    return SKIP;
  }
  let chromium;
  try {
    ({ chromium } = createRequire(import.meta.url)('playwright-core'));
  } catch {
    report.record('playwright-core is installed', ['run "npm ci" in tests/contract']);
    return report.finish();
  }

  const h = new Harness(args, { report });
  // The bundle comes from next to the executable: no HERALD_DOCS_DIR.
  h.serverDefs.installed = () => ({ HERALD_DOCS_DIR: '' });
  const bundle = path.join(path.dirname(args.bin), 'docs', 'redoc.standalone.js');
  let browser;
  try {
    report.record(`the Redoc bundle is installed next to the binary (${bundle})`,
      existsSync(bundle) ? [] : ['missing: run scripts/docs-assets.sh (the dependency step of make run / make test), then rebuild']);
    const server = await h.server('installed');
    const url = `${server.base}/docs`;
    report.info(`docs-browser: ${url} in ${chromiumPath}`);

    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const consoleErrors = [];
    const foreign = [];
    const failed = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) consoleErrors.push(m.text());
    });
    const blocked = []; // requests to other origins that the page's CSP stopped in the browser
    page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(`${server.base}/`) && !u.startsWith('data:') && !u.startsWith('blob:') && u !== 'about:blank') foreign.push(u);
    });
    page.on('requestfailed', (r) => {
      if (r.failure()?.errorText === 'csp') blocked.push(r.url());
      else failed.push(`${r.url()}: ${r.failure()?.errorText}`);
    });
    const specLoaded = page.waitForResponse((r) => r.url() === `${server.base}/api/v1/openapi.json`, { timeout: 30000 }).catch(() => null);

    const nav = await page.goto(url, { waitUntil: 'load', timeout: 30000 });
    report.record('GET /docs answers 200 text/html in the browser',
      nav?.status() === 200 && /text\/html/.test(nav.headers()['content-type'] ?? '') ? [] : [`status ${nav?.status()} ${nav?.headers()['content-type']}`]);
    const specResponse = await specLoaded;
    report.record('the page fetched the document from /api/v1/openapi.json', specResponse?.status() === 200 ? [] : ['no 200 for /api/v1/openapi.json']);

    // Redoc renders asynchronously: wait for the first operation, then read the whole DOM.
    const summaries = h.ops.map((o) => o.op.summary).filter(Boolean);
    let rendered = true;
    try {
      await page.waitForFunction((s) => document.body.innerText.includes(s), summaries[0], { timeout: 30000 });
    } catch {
      rendered = false;
    }
    await page.waitForTimeout(500);
    const text = await page.evaluate(() => document.body.innerText);
    const dom = await page.content();
    report.record(`Redoc rendered (the page shows "${summaries[0]}")`, rendered ? [] : [`not within 30 s; page text: ${text.slice(0, 300)}`]);
    report.record(`every operation of the document is on the page (${summaries.length})`,
      summaries.filter((s) => !text.includes(s)).map((s) => `"${s}" is missing`));
    report.record(`the title "${h.doc.info.title}" is on the page`, text.includes(h.doc.info.title) ? [] : ['missing']);
    report.record('no Redoc error is shown', /Something went wrong|Error downloading|Invalid (OpenAPI|spec)/i.test(text) ? [text.slice(0, 300)] : []);
    // Redoc's sidebar credit always asks for its logo on Redocly's CDN; the CSP must stop it (and
    // anything else from another origin) in the browser, so nothing leaves this machine.
    if (blocked.length) report.info(`docs-browser: blocked by the page's CSP (never sent): ${[...new Set(blocked)].join(', ')}`);
    report.record('nothing from another origin was loaded (no CDN; the CSP blocks any attempt)',
      foreign.filter((u) => !blocked.includes(u)).map((u) => `${u} was requested and not blocked`));
    report.record('no request failed', failed);
    const blockedText = (m) => blocked.some((u) => m.includes(u)) && /Content Security Policy/i.test(m);
    report.record('no console error (CSP violations other than the blocked credit logo included)',
      consoleErrors.filter((m) => !blockedText(m)));
    report.record('the rendered DOM is not trivially small', dom.length > 20000 ? [] : [`only ${dom.length} characters`]);

    if (args.out) {
      const shot = path.join(args.out, 'docs-page.png');
      await page.screenshot({ path: shot, fullPage: false });
      report.info(`docs-browser: screenshot ${shot}`);
    }
  } catch (e) {
    report.record('docs browser run', [e.stack ?? e.message]);
  } finally {
    if (browser) await browser.close().catch(() => {});
    await h.teardown();
  }
  return report.finish();
}

process.exitCode = await main();
