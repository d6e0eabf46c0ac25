// inbox.test.mjs - <herald-inbox> on the /demo page of a real herald-api (HERALD_DEMO_DIR), in
// headless Chromium (Debian's /usr/bin/chromium, or $CHROMIUM) driven by playwright-core: the
// badge equals the API's unread count, a notification sent through the API appears within a
// second without reload, marking read updates the badge, a dropped connection resumes without
// losing events, infinite scroll, preferences, keyboard and ARIA, reduced motion. With
// HERALD_CLIENT_SHOTS=DIR it saves the light and dark screenshots there (docs/images/).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DIST, newUser, startStack, waitFor } from './lib/stack.mjs';
import { tempDir } from '../../../tests/contract/lib/server.mjs';

const CHROMIUM = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((c) => c && existsSync(c));
const skip = !CHROMIUM && process.env.CI !== 'true' ? 'Chromium is not installed (Debian package "chromium")' : false;
const { HeraldClient } = await import(pathToFileURL(path.join(DIST, 'herald-client.js')).href);

let stack, browser, page, admin, userClient, user;
const errors = [];

/** Runs fn(inboxShadowRoot, arg) in the page. */
const inShadow = (fn, arg) => page.evaluate(([src, a]) => new Function('root', 'a', `return (${src})(root, a)`)(document.querySelector('herald-inbox').shadowRoot, a), [fn.toString(), arg]);
const badge = () => inShadow((r) => (r.querySelector('.badge').hidden ? 0 : Number(r.querySelector('.badge').textContent)));
const articleIds = () => inShadow((r) => [...r.querySelectorAll('article')].map((a) => a.dataset.id));
const send = (title, extra = {}) => admin.sendNotification({ user_id: user.id, category: 'inbox-test', title, body: `The body of ${title}.`, channels: ['in_app'], ...extra });

before(async () => {
  if (skip) return;
  const demoDir = tempDir('herald-demo-');
  stack = await startStack({ env: { HERALD_DEMO_DIR: demoDir } });
  const u = await newUser(stack.base, 'inbox');
  execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/demo.mjs', import.meta.url)), '--out', demoDir, '--email', u.email, '--password', u.password], { stdio: 'ignore' });
  admin = new HeraldClient({ baseUrl: stack.base });
  await admin.signIn(stack.admin.email, stack.admin.password);
  userClient = new HeraldClient({ baseUrl: stack.base });
  await userClient.signIn(u.email, u.password);
  user = await userClient.me();
  await send('Your invoice is ready', { category: 'billing' });
  await send('Ada commented on your post', { category: 'social' });
  await send('Weekly summary', { category: 'digest' });
  const { chromium } = createRequire(import.meta.url)('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  page = await browser.newPage({ viewport: { width: 900, height: 640 } });
  page.on('console', (m) => m.type() === 'error' && !/Failed to load resource|ERR_|EventSource/.test(m.text()) && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${stack.base}/demo`);
  // Three sent above, and the security alert of the page's own sign-in (a device the account
  // has not used before: Chromium, where the test signed in from Node).
  await page.waitForFunction(() => window.heraldDemo && document.querySelector('herald-inbox').shadowRoot.querySelectorAll('article').length >= 4, null, { timeout: 15000 });
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('the page loads, the badge equals the API unread count, the bell says it', { skip }, async (t) => {
  t.diagnostic(`stream: ${stack.mode === 'real' ? "the API's own" : 'the fake stream (test/lib/fake-stream.mjs)'}`);
  const n = await userClient.unreadCount();
  assert.equal(n, 4);
  await waitFor(async () => (await badge()) === n, 2000, 'badge = unread');
  const label = await inShadow((r) => r.querySelector('.bell').getAttribute('aria-label'));
  assert.equal(label, 'Notifications, 4 unread');
  assert.deepEqual(errors, []);
});

test('a notification sent through the API appears within a second, without reload', { skip }, async (t) => {
  await waitFor(() => page.evaluate(() => document.querySelector('herald-inbox').shadowRoot && true), 1000, 'inbox');
  // Wait until the stream is open (the unread_count of the connection arrived).
  await waitFor(async () => stack.front.log.some((r) => r.url.startsWith('/api/v1/notifications/stream?')), 5000, 'stream opened');
  await new Promise((r) => setTimeout(r, 300));
  const before = await badge();
  const t0 = Date.now();
  const sent = await send('Live one');
  await page.waitForFunction((id) => !!document.querySelector('herald-inbox').shadowRoot.querySelector(`article[data-id="${id}"]`), sent.id, { timeout: 1000, polling: 20 });
  const ms = Date.now() - t0;
  t.diagnostic(`appeared after ${ms} ms`);
  assert.ok(ms < 1000);
  await waitFor(async () => (await badge()) === before + 1, 1000, 'badge + 1');
  assert.equal((await articleIds())[0], sent.id, 'newest first');
  const live = await inShadow((r) => r.querySelector('[aria-live]').textContent);
  assert.match(live, /Live one|^$/);
});

test('notification text is shown as text, never as markup', { skip }, async () => {
  const evil = await send('<img src=x onerror="window.__pwned=1">', { body: '<script>window.__pwned=2</script>' });
  await page.waitForFunction((id) => !!document.querySelector('herald-inbox').shadowRoot.querySelector(`article[data-id="${id}"]`), evil.id, { timeout: 3000 });
  const art = await inShadow((r, id) => {
    const a = r.querySelector(`article[data-id="${id}"]`);
    return { imgs: a.querySelectorAll('img,script').length, links: a.querySelectorAll('a').length, title: a.querySelector('.t').textContent };
  }, evil.id);
  assert.deepEqual(art, { imgs: 0, links: 0, title: '<img src=x onerror="window.__pwned=1">' });
  assert.equal(await page.evaluate(() => window.__pwned ?? null), null);
  await userClient.deleteNotification(evil.id);
  await page.waitForFunction((id) => !document.querySelector('herald-inbox').shadowRoot.querySelector(`article[data-id="${id}"]`), evil.id, { timeout: 3000 });
});

test('keyboard: Enter opens, arrows move, Escape closes and gives focus back to the bell', { skip }, async () => {
  await page.evaluate(() => document.querySelector('herald-inbox').shadowRoot.querySelector('.bell').focus());
  await page.keyboard.press('Enter');
  assert.equal(await inShadow((r) => r.querySelector('.bell').getAttribute('aria-expanded')), 'true');
  assert.equal(await inShadow((r) => r.activeElement?.id), 'panel');
  await page.keyboard.press('Tab'); // first action button of the panel
  await inShadow((r) => r.querySelector('article').focus());
  await page.keyboard.press('ArrowDown');
  assert.equal(await inShadow((r) => r.activeElement?.getAttribute('aria-posinset')), '2');
  await page.keyboard.press('Escape');
  assert.equal(await inShadow((r) => r.querySelector('.panel').hidden), true);
  assert.equal(await inShadow((r) => r.activeElement?.className), 'bell');
  assert.equal(await inShadow((r) => r.querySelector('.feed').getAttribute('role')), 'feed');
});

test('mark read updates the badge and the API', { skip }, async () => {
  await inShadow((r) => r.querySelector('.bell').click());
  const before = await badge();
  const first = (await articleIds())[0];
  await inShadow((r) => r.querySelector('article [data-act=toggle]').click());
  await waitFor(async () => (await badge()) === before - 1, 2000, 'badge - 1');
  assert.equal((await userClient.getNotification(first)).read, true);
  assert.equal(await userClient.unreadCount(), before - 1);
});

test('a dropped connection resumes without losing events', { skip }, async (t) => {
  const tickets = stack.front.count('POST /api/v1/notifications/stream-tickets');
  stack.front.dropConnections();
  const during = [await send('Sent while the connection was down'), await send('And another one')];
  await page.waitForFunction((ids) => ids.every((id) => document.querySelector('herald-inbox').shadowRoot.querySelector(`article[data-id="${id}"]`)), during.map((s) => s.id), { timeout: 8000, polling: 50 });
  assert.ok(stack.front.count('POST /api/v1/notifications/stream-tickets') > tickets, 'a new ticket');
  const resumed = stack.front.log.filter((r) => r.url.startsWith('/api/v1/notifications/stream?')).at(-1);
  assert.match(resumed.url, /last_event_id=/);
  const ids = await articleIds();
  assert.equal(new Set(ids).size, ids.length, 'nothing twice');
  await waitFor(async () => (await badge()) === (await userClient.unreadCount()), 2000, 'badge = API after resume');
  t.diagnostic(`resumed with ${resumed.url.replace(/ticket=[^&]+/, 'ticket=…')}`);
});

test('mark all read, delete, clear shown only when the API has it', { skip }, async () => {
  await inShadow((r) => r.querySelector('[data-act=read-all]').click());
  await waitFor(async () => (await badge()) === 0, 2000, 'badge 0');
  assert.equal(await userClient.unreadCount(), 0);
  const ids = await articleIds();
  await inShadow((r) => r.querySelector('article [data-act=delete]').click());
  await waitFor(async () => (await articleIds()).length === ids.length - 1, 2000, 'one article less');
  await assert.rejects(userClient.getNotification(ids[0]), (e) => e.status === 404);
  // GET of a POST-only path answers 405 where POST /notifications/clear exists, 404 where not.
  const probe = await userClient.send('GET', '/api/v1/notifications/clear').catch((e) => e);
  assert.ok([404, 405].includes(probe.status), `probe ${probe.status}`);
  const hidden = await inShadow((r) => r.querySelector('[data-act=clear]').hidden);
  assert.equal(hidden, probe.status === 404, `clear hidden=${hidden} with a ${probe.status} probe`);
});

test('infinite scroll loads the next pages over the cursor', { skip }, async () => {
  for (let i = 0; i < 24; i++) await send(`Bulk ${i}`);
  await page.reload();
  await page.waitForFunction(() => document.querySelector('herald-inbox')?.shadowRoot?.querySelectorAll('article').length >= 20, null, { timeout: 10000 });
  const total = (await userClient.listNotifications({ limit: 100 })).data.length;
  await inShadow((r) => r.querySelector('.bell').click());
  for (let i = 0; i < 20 && (await articleIds()).length < total; i++) {
    await inShadow((r) => {
      const b = r.querySelector('.body');
      b.scrollTop = b.scrollHeight;
    });
    await new Promise((res) => setTimeout(res, 150));
  }
  const ids = await articleIds();
  assert.equal(ids.length, total);
  assert.equal(new Set(ids).size, total);
});

test('preferences: turning a category off reaches the API', { skip }, async () => {
  await inShadow((r) => r.querySelector('[data-act=settings]').click());
  await page.waitForFunction(() => document.querySelector('herald-inbox').shadowRoot.querySelector('input[data-cat="billing"]'), null, { timeout: 3000 });
  await inShadow((r) => r.querySelector('input[data-cat="billing"]').click());
  await waitFor(async () => (await userClient.getPreferences()).categories.billing?.in_app === false, 3000, 'billing off');
  assert.equal(await inShadow((r) => r.querySelector('input[data-cat="billing"]').getAttribute('role')), 'switch');
  await inShadow((r) => r.querySelector('[data-act=settings]').click());
});

test('reduced motion, strings, screenshots light and dark', { skip }, async () => {
  await page.emulateMedia({ reducedMotion: 'reduce' });
  const dur = await inShadow((r) => getComputedStyle(r.querySelector('.badge')).transitionDuration);
  assert.equal(dur, '0s');
  await page.emulateMedia({ reducedMotion: 'no-preference' });
  await page.evaluate(() => document.querySelector('herald-inbox').setAttribute('lang', 'fr'));
  assert.equal(await inShadow((r) => r.querySelector('[data-act=read-all]').textContent), 'Tout marquer comme lu');
  await page.evaluate(() => {
    const i = document.querySelector('herald-inbox');
    i.setAttribute('lang', 'en');
    i.strings = { title: 'Your updates' };
  });
  assert.equal(await inShadow((r) => r.querySelector('#title').textContent), 'Your updates');
  await page.evaluate(() => (document.querySelector('herald-inbox').strings = {}));
  // For the pictures: the older ones read, three new ones arriving live.
  await userClient.markAllRead();
  await send('Payment received', { category: 'payments', body: 'We received your payment of €42.00 for invoice INV-2041.' });
  await send('Grace mentioned you', { category: 'social', body: '“Looks good to me, ship it!” in Release checklist.' });
  await send('Your export is ready', { category: 'account', body: 'Download it within 7 days.', action_url: 'https://example.com/exports/1' });
  await waitFor(async () => (await badge()) === 3, 3000, 'three unread');
  await inShadow((r) => (r.querySelector('.body').scrollTop = 0));
  const shots = process.env.HERALD_CLIENT_SHOTS;
  for (const theme of ['light', 'dark']) {
    await page.selectOption('#theme', theme);
    const bg = await inShadow((r) => getComputedStyle(r.querySelector('.panel')).backgroundColor);
    assert.equal(bg, theme === 'dark' ? 'rgb(13, 17, 23)' : 'rgb(255, 255, 255)');
    if (shots) {
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: path.join(shots, `inbox-${theme}.png`) });
    }
  }
  assert.deepEqual(errors, []);
});
