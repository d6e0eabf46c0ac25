// guide.test.mjs - runs every example of docs/build-a-client.md (the blocks after an
// "<!-- example: NAME expect: TEXT -->" line) against a real herald-api: the JavaScript ones
// with Node, the HTML and React ones in headless Chromium. The placeholders of the guide
// (http://localhost:8080, ada@example.com, its password, HERALD_API_KEY, RECIPIENT_ID) become
// this run's server, account and API key; each example must exit 0 and print TEXT.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { DIST, ROOT, newUser, startStack } from './lib/stack.mjs';
import { tempDir } from '../../../tests/contract/lib/server.mjs';

const GUIDE = path.join(ROOT, 'docs/build-a-client.md');
const CHROMIUM = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((c) => c && existsSync(c));
const noBrowser = !CHROMIUM && process.env.CI !== 'true' ? 'Chromium is not installed (Debian package "chromium")' : false;
const { HeraldClient } = await import(pathToFileURL(path.join(DIST, 'herald-client.js')).href);

/** The examples of the guide: [{ name, expect, lang, code }]. */
function examples() {
  const text = readFileSync(GUIDE, 'utf8');
  const re = /<!-- example: (\w+)(?: expect: (.*?))? -->\n```(\w+)\n([\s\S]*?)```/g;
  return [...text.matchAll(re)].map((m) => ({ name: m[1], expect: m[2] ?? null, lang: m[3], code: m[4] }));
}

const dir = tempDir('herald-guide-');
let stack, user, apiKey, recipient;

function fill(code, base) {
  return code
    .replaceAll("'http://localhost:8080'", JSON.stringify(base))
    .replaceAll('ada@example.com', user.email)
    .replaceAll('correct horse battery staple', user.password)
    .replaceAll('HERALD_API_KEY', JSON.stringify(apiKey))
    .replaceAll('RECIPIENT_ID', JSON.stringify(recipient));
}

function runNode(file) {
  return new Promise((resolve) => {
    execFile(process.execPath, [file], { timeout: 30000 }, (err, stdout, stderr) => resolve({ code: err ? err.code ?? 1 : 0, stdout, stderr }));
  });
}

before(async () => {
  stack = await startStack({ staticDir: dir });
  // The guide's "ada": an account with two unread notifications.
  user = await newUser(stack.base, 'guide');
  const u = new HeraldClient({ baseUrl: stack.base });
  await u.signIn(user.email, user.password);
  recipient = (await u.me()).id;
  const admin = new HeraldClient({ baseUrl: stack.base });
  await admin.signIn(stack.admin.email, stack.admin.password);
  apiKey = (await admin.json('POST', '/api/v1/admin/api-keys', { body: { name: `guide-${Date.now()}` } })).secret;
  for (const title of ['Welcome', 'Your invoice is ready']) {
    await admin.sendNotification({ user_id: recipient, category: 'guide', title, body: title, channels: ['in_app'] });
  }
});

after(async () => {
  await stack?.stop();
});

test('the guide has its examples', () => {
  const names = examples().map((e) => e.name);
  for (const n of ['auth', 'storage', 'errors', 'feed', 'send', 'stream', 'html', 'react']) assert.ok(names.includes(n), `no example "${n}"`);
});

for (const ex of examples().filter((e) => e.lang === 'js')) {
  test(`example "${ex.name}" runs and prints "${ex.expect}"`, async () => {
    const file = path.join(dir, `${ex.name}.mjs`);
    const code = fill(ex.code, stack.base).replaceAll("'@herald/client'", JSON.stringify(pathToFileURL(path.join(DIST, 'herald-client.js')).href));
    writeFileSync(file, code);
    const r = await runNode(file);
    assert.equal(r.code, 0, `exit ${r.code}\n${r.stderr}`);
    assert.ok(r.stdout.includes(fill(ex.expect, stack.base)), `printed:\n${r.stdout}`);
  });
}

test('the HTML and React examples in Chromium', { skip: noBrowser }, async (t) => {
  const html = examples().find((e) => e.name === 'html');
  const react = examples().find((e) => e.name === 'react');
  writeFileSync(path.join(dir, 'herald-inbox.js'), readFileSync(path.join(DIST, 'herald-inbox.js')));
  writeFileSync(path.join(dir, 'html.html'), fill(html.code, stack.base));
  // The React component, compiled with esbuild's JSX transform against test/lib/mini-react.mjs.
  writeFileSync(path.join(dir, 'Inbox.jsx'), react.code);
  writeFileSync(path.join(dir, 'react-main.jsx'), fill(`
    import { render } from 'react';
    import { Inbox } from './Inbox.jsx';
    import { HeraldClient } from '@herald/client';
    const client = new HeraldClient({ baseUrl: 'http://localhost:8080' });
    await client.signIn('ada@example.com', 'correct horse battery staple');
    const el = render(<Inbox client={client} theme="dark" />, document.body);
    console.log(el.client === client ? 'herald-inbox has a client' : 'no client');
  `, stack.base));
  const mini = path.join(path.dirname(new URL(import.meta.url).pathname), 'lib/mini-react.mjs');
  await build({
    entryPoints: [path.join(dir, 'react-main.jsx')], bundle: true, format: 'esm', outfile: path.join(dir, 'react.js'), jsx: 'automatic', logLevel: 'error',
    alias: { react: mini, 'react/jsx-runtime': mini, '@herald/client/inbox': path.join(DIST, 'herald-inbox.js'), '@herald/client': path.join(DIST, 'herald-inbox.js') },
  });
  writeFileSync(path.join(dir, 'react.html'), '<!DOCTYPE html><meta charset="utf-8"><body><script type="module" src="react.js"></script>');
  const { chromium } = createRequire(import.meta.url)('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${stack.base}/guide/html.html`);
    await page.waitForFunction(() => document.querySelector('herald-inbox')?.shadowRoot?.querySelectorAll('article').length >= 2, null, { timeout: 10000 });
    const reader = new HeraldClient({ baseUrl: stack.base });
    await reader.signIn(user.email, user.password);
    const title = `(${await reader.unreadCount()}) My app`;
    await page.waitForFunction((want) => document.title === want, title, { timeout: 5000 }); // herald-unread reached the page
    assert.equal(await page.evaluate(() => document.querySelector('herald-inbox').shadowRoot.querySelector('#title').textContent), 'Updates');
    assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('herald-inbox')).getPropertyValue('--herald-accent').trim()), '#7c3aed');
    const logs = [];
    page.on('console', (m) => logs.push(m.text()));
    await page.goto(`${stack.base}/guide/react.html`);
    await page.waitForFunction(() => document.querySelector('herald-inbox')?.shadowRoot?.querySelectorAll('article').length >= 2, null, { timeout: 10000 });
    assert.ok(logs.includes(react.expect), `console: ${logs.join(' | ')}`);
    assert.equal(await page.evaluate(() => document.querySelector('herald-inbox').getAttribute('theme')), 'dark');
    assert.deepEqual(errors, []);
    t.diagnostic('html and react examples rendered the feed');
  } finally {
    await browser.close();
  }
});
