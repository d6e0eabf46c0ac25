// client.test.mjs - HeraldClient against a real herald-api (lib/stack.mjs): every public method
// at least once, typed errors, idempotency keys, cursor pagination, the refresh race (calls
// that all see 401 share one refresh), and the stream (events, a dropped connection resumed
// with last_event_id on a new ticket, session.expired).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST, newUser, startStack, streamMode, waitFor } from './lib/stack.mjs';

const { HeraldClient, HeraldError, SseParser, memoryStorage } = await import(pathToFileURL(path.join(DIST, 'herald-client.js')).href);

// Every public method of HeraldClient is recorded when called; the last test checks all were.
const INTERNAL = new Set(['constructor', 'doRefresh', 'currentToken', 'refreshAfter', 'raw']);
const used = new Set();
const publicMethods = Object.getOwnPropertyNames(HeraldClient.prototype).filter((name) => {
  const d = Object.getOwnPropertyDescriptor(HeraldClient.prototype, name);
  return typeof d.value === 'function' && !INTERNAL.has(name);
});
for (const name of publicMethods) {
  const orig = HeraldClient.prototype[name];
  HeraldClient.prototype[name] = function (...args) {
    used.add(name);
    return orig.apply(this, args);
  };
}

let stack;
let admin; // a HeraldClient signed in as the generated admin
let user; // { email, password, id }
const sent = []; // ids sent to user, oldest first

/** A client that records the requests it makes. */
function recordingClient(extra = {}) {
  const requests = [];
  const client = new HeraldClient({
    baseUrl: stack.base,
    fetch: (url, init) => {
      requests.push({ url: String(url), method: init?.method ?? 'GET', headers: { ...(init?.headers ?? {}) } });
      return fetch(url, init);
    },
    ...extra,
  });
  return { client, requests };
}

async function send(title, extra = {}) {
  const r = await admin.sendNotification({ user_id: user.id, category: 'client-test', title, body: `body of ${title}`, channels: ['in_app'], ...extra });
  sent.push(r.id);
  return r;
}

before(async () => {
  stack = await startStack();
  admin = new HeraldClient({ baseUrl: stack.base });
  assert.equal((await admin.signIn(stack.admin.email, stack.admin.password)).status, 'signed_in');
  user = await newUser(stack.base);
  const c = new HeraldClient({ baseUrl: stack.base });
  await c.signIn(user.email, user.password);
  user.id = (await c.me()).id;
});

after(async () => {
  await stack?.stop();
});

describe('session', () => {
  test('register, sign in, me; the refresh token stays in the given storage', async () => {
    const u = { email: `reg-${Date.now()}@example.test`, password: 'Reg-a-long-password-1' };
    const storage = memoryStorage();
    const c = new HeraldClient({ baseUrl: stack.base, storage });
    await c.register({ ...u, name: 'Reg Test' });
    assert.equal(await c.hasSession(), false);
    const r = await c.signIn(u.email, u.password);
    assert.equal(r.status, 'signed_in');
    assert.match(await storage.get(), /^rt_/);
    assert.equal((await c.me()).email, u.email);
    assert.equal(await c.hasSession(), true);
  });

  test('typed errors: code, type, param, status, request id', async () => {
    const c = new HeraldClient({ baseUrl: stack.base });
    const e = await c.signIn(user.email, 'wrong-password-123').catch((x) => x);
    assert.ok(e instanceof HeraldError);
    assert.equal(e.status, 401);
    assert.equal(e.code, 'invalid_credentials');
    assert.equal(e.type, 'authentication_error');
    assert.ok(e.requestId);
    const v = await c.register({ email: 'short@example.test', password: 'x' }).catch((x) => x);
    assert.equal(v.status, 400);
    assert.equal(v.param, 'password');
    assert.equal(v.code, 'password_too_short');
    assert.ok(v.errors.length >= 1);
    const m = await c.verifyMfa('mc_not-a-challenge', '123456').catch((x) => x);
    assert.ok(m instanceof HeraldError && m.status >= 400 && m.status < 500, String(m));
    const nf = await admin.getNotification('00000000-0000-4000-8000-000000000000').catch((x) => x);
    assert.equal(nf.code, 'not_found');
  });

  test('the refresh race: three calls that see 401 make one refresh, and the session goes on', async () => {
    const storage = memoryStorage();
    const { client, requests } = recordingClient({ storage });
    await client.signIn(user.email, user.password);
    // A stale access token (as after 15 minutes), with the valid refresh token.
    await client.setSession('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bm90LXZhbGlk', await storage.get());
    const rt = requests.length; // only the sign-in so far
    assert.equal(rt, 1);
    const [me, count, page] = await Promise.all([client.me(), client.unreadCount(), client.listNotifications({ limit: 1 })]);
    assert.equal(me.id, user.id);
    assert.equal(typeof count, 'number');
    assert.equal(page.object, 'list');
    const refreshes = requests.filter((r) => r.url.endsWith('/api/v1/auth/refresh'));
    assert.equal(refreshes.length, 1, `refreshes: ${refreshes.length}`);
    const unauthorized = requests.filter((r) => r.headers.Authorization?.includes('bm90LXZhbGlk'));
    assert.equal(unauthorized.length, 3, 'each call first went out with the stale token');
    // The rotated refresh token works (a second refresh would have revoked the family).
    await client.refresh();
    assert.equal((await client.me()).id, user.id);
  });

  test('a refused refresh ends the session once', async () => {
    const ends = [];
    const c = new HeraldClient({ baseUrl: stack.base, onSessionEnd: (r) => ends.push(r) });
    await c.setSession(null, 'rt_not-a-real-token');
    const e = await c.me().catch((x) => x);
    assert.equal(e.code, 'invalid_refresh_token');
    assert.deepEqual(ends, ['refresh_failed']);
    assert.equal(await c.hasSession(), false);
  });

  test('sign out revokes the refresh token', async () => {
    const storage = memoryStorage();
    const c = new HeraldClient({ baseUrl: stack.base, storage });
    await c.signIn(user.email, user.password);
    const rt = await storage.get();
    await c.signOut();
    assert.equal(await c.hasSession(), false);
    const other = new HeraldClient({ baseUrl: stack.base });
    await other.setSession(null, rt);
    await assert.rejects(other.me(), (e) => e.code === 'invalid_refresh_token');
  });
});

describe('feed', () => {
  let client;
  before(async () => {
    client = new HeraldClient({ baseUrl: stack.base });
    await client.signIn(user.email, user.password);
  });

  test('sending: a generated Idempotency-Key per POST, and a given key replays', async () => {
    const { client: sender, requests } = recordingClient();
    await sender.signIn(stack.admin.email, stack.admin.password);
    const a = await sender.sendNotification({ user_id: user.id, category: 'client-test', title: 'idem a', body: 'a', channels: ['in_app'] });
    const b = await sender.sendNotification({ user_id: user.id, category: 'client-test', title: 'idem b', body: 'b', channels: ['in_app'] });
    sent.push(a.id, b.id);
    const keys = requests.filter((r) => r.method === 'POST' && r.url.endsWith('/api/v1/notifications')).map((r) => r.headers['Idempotency-Key']);
    assert.equal(keys.length, 2);
    assert.ok(keys.every((k) => /^[0-9a-f-]{36}$/.test(k)), keys.join());
    assert.notEqual(keys[0], keys[1]);
    const body = { user_id: user.id, category: 'client-test', title: 'idem c', body: 'c', channels: ['in_app'] };
    const c1 = await sender.sendNotification(body, { idempotencyKey: `client-test-${Date.now()}` });
    const c2 = await sender.sendNotification(body, { idempotencyKey: requests.at(-1).headers['Idempotency-Key'] });
    sent.push(c1.id);
    assert.equal(c2.id, c1.id, 'the same key and body give the first answer again');
  });

  test('cursor pagination as an async iterator: every notification once, newest first', async () => {
    for (let i = 0; i < 5; i++) await send(`page ${i}`);
    const seen = [];
    for await (const n of client.notifications({ limit: 2 })) seen.push(n);
    assert.equal(new Set(seen.map((n) => n.id)).size, seen.length, 'no duplicates');
    for (const id of sent) assert.ok(seen.some((n) => n.id === id), `missing ${id}`);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i - 1].created_at >= seen[i].created_at, 'newest first');
    let pages = 0;
    for await (const p of client.notificationPages({ limit: 3 })) pages++, assert.ok(p.data.length <= 3);
    assert.equal(pages, Math.ceil(seen.length / 3));
  });

  test('read, unread, read all, delete, clear, counts', async () => {
    const id = sent.at(-1);
    const n = await client.getNotification(id);
    assert.equal(n.id, id);
    const before = await client.unreadCount();
    assert.equal((await client.markRead(id)).read, true);
    assert.equal(await client.unreadCount(), before - 1);
    assert.equal((await client.markUnread(id)).read, false);
    assert.equal(await client.unreadCount(), before);
    const all = await client.markAllRead();
    assert.equal(all.unread_count, 0);
    assert.equal(all.updated, before);
    await client.deleteNotification(id);
    await assert.rejects(client.getNotification(id), (e) => e.status === 404);
    sent.pop();
    // POST /notifications/clear: deletes the feed where the API has it; else a 404/405 HeraldError.
    const cleared = await client.clearNotifications().then(() => 'cleared', (e) => e);
    if (cleared === 'cleared') {
      assert.equal((await client.listNotifications()).data.length, 0);
      sent.length = 0;
    } else assert.ok(cleared instanceof HeraldError && [404, 405].includes(cleared.status), String(cleared));
  });

  test('preferences: read, turn a category off for the inbox, back on', async () => {
    const p = await client.getPreferences();
    assert.equal(p.object, 'notification_preferences');
    const off = await client.updatePreferences({ categories: { ...p.categories, 'client-test': { in_app: false } } });
    assert.equal(off.categories['client-test'].in_app, false);
    const on = await client.updatePreferences({ categories: { ...p.categories, 'client-test': { in_app: true } } });
    assert.equal(on.categories['client-test'].in_app, true);
    const bad = await client.updatePreferences({ quiet_hours: { enabled: true, start: '25:00', end: '07:00' } }).catch((e) => e);
    assert.equal(bad.status, 400);
    assert.match(bad.param, /quiet_hours/);
  });
});

describe('stream', () => {
  test('the SSE parser: fields, comments, multi-line data, CRLF, retry, split chunks', () => {
    const p = new SseParser();
    assert.deepEqual(p.push(': hello\r\nretry: 1500\r\n\r\nid: 7\nevent: unread_count\nda'), []);
    assert.equal(p.retry, 1500);
    const evs = p.push('ta: {"unread":\ndata: 2}\n\nevent: x\ndata\n\n');
    assert.deepEqual(evs, [
      { event: 'unread_count', data: '{"unread":\n2}', id: '7' },
      { event: 'x', data: '', id: '7' },
    ]);
  });

  test(`live events, a dropped connection resumed without loss `, async (t) => {
    t.diagnostic(`stream: ${stack.mode === 'real' ? "the API's own" : 'the fake stream (tests/lib/fake-stream.mjs)'}`);
    const client = new HeraldClient({ baseUrl: stack.base });
    await client.signIn(user.email, user.password);
    const events = [];
    const states = [];
    const s = client.stream({ transport: 'fetch', onEvent: (e) => events.push(e), onState: (st) => states.push(st), minDelayMs: 100, maxDelayMs: 400 });
    try {
      await waitFor(() => events.some((e) => e.type === 'unread_count'), 5000, 'unread_count on connect');
      const t0 = Date.now();
      const a = await send('live a');
      await waitFor(() => events.some((e) => e.type === 'notification.created' && e.data.id === a.id), 1000, 'notification.created within 1 s');
      t.diagnostic(`notification.created after ${Date.now() - t0} ms`);
      // Drop every connection, send while it is down, and expect the event after the reconnect.
      const tickets = stack.front.count('POST /api/v1/notifications/stream-tickets');
      stack.front.dropConnections();
      const b = await send('while down');
      await waitFor(() => events.some((e) => e.type === 'notification.created' && e.data.id === b.id), 5000, 'the event sent while down');
      assert.equal(s.connections, 2);
      assert.equal(stack.front.count('POST /api/v1/notifications/stream-tickets'), tickets + 1, 'a new ticket for the reconnect');
      const resumed = stack.front.log.filter((r) => r.url.startsWith('/api/v1/notifications/stream?')).at(-1);
      assert.match(resumed.url, /[?&]last_event_id=/, resumed.url);
      assert.ok(states.includes('waiting'));
      const ids = events.map((e) => Number(e.id)).filter((n) => Number.isFinite(n) && n > 0);
      for (let i = 1; i < ids.length; i++) assert.ok(ids[i] >= ids[i - 1], 'event ids increase');
      const created = events.filter((e) => e.type === 'notification.created').map((e) => e.data.id);
      assert.equal(new Set(created).size, created.length, 'no event twice');
      // A change made elsewhere arrives as notification.updated and unread_count.
      const other = new HeraldClient({ baseUrl: stack.base });
      await other.signIn(user.email, user.password);
      await other.markRead(b.id);
      await waitFor(() => events.some((e) => e.type === 'notification.updated' && e.data.id === b.id && e.data.read === true), 2000, 'notification.updated');
      const expected = await other.unreadCount();
      await waitFor(() => events.filter((e) => e.type === 'unread_count').at(-1)?.data.unread === expected, 2000, 'unread_count');
      const ticket = await client.createStreamTicket();
      assert.match(ticket.url, /^\/api\/v1\/notifications\/stream\?ticket=/);
    } finally {
      s.close();
    }
    assert.equal(s.state, 'closed');
  });

  // The API's own stream ends a revoked session with session.expired; the client then finds no
  // way back in (its tokens are refused) and stops.
  test('a revoked session: session.expired, then the stream stops for good', { skip: streamMode() !== 'real' && "needs the API's stream" }, async () => {
    const ends = [];
    const client = new HeraldClient({ baseUrl: stack.base, onSessionEnd: (r) => ends.push(r) });
    const mine = await newUser(stack.base, 'revoke');
    await client.signIn(mine.email, mine.password);
    const events = [];
    const s = client.stream({ transport: 'fetch', onEvent: (e) => events.push(e), minDelayMs: 50 });
    try {
      await waitFor(() => s.state === 'open' && events.some((e) => e.type === 'unread_count'), 5000, 'open');
      const other = new HeraldClient({ baseUrl: stack.base });
      await other.signIn(mine.email, mine.password);
      await other.send('DELETE', '/api/v1/users/me/sessions'); // ends every session of the account
      await waitFor(() => s.state === 'closed', 5000, 'closed');
      assert.equal(events.at(-1).type, 'session.expired');
      assert.equal(events.at(-1).data.reason, 'session_revoked');
      assert.deepEqual(ends, ['refresh_failed']);
      assert.equal(s.connections, 1);
    } finally {
      s.close();
    }
  });

  // The fake stream can end a session on demand; the API's own does it when the token ends.
  test('session.expired: a new ticket and on; once the session is gone, closed for good', { skip: streamMode() === 'real' && 'needs the fake stream' }, async () => {
    const storage = memoryStorage();
    const client = new HeraldClient({ baseUrl: stack.base, storage });
    await client.signIn(user.email, user.password);
    const events = [];
    const s = client.stream({ transport: 'fetch', onEvent: (e) => events.push(e), minDelayMs: 50 });
    try {
      await waitFor(() => s.state === 'open', 5000, 'open');
      stack.front.fake.expireAll('token_expired');
      await waitFor(() => s.connections === 2 && s.state === 'open', 3000, 'reconnected after session.expired');
      assert.equal(events.find((e) => e.type === 'session.expired')?.data.reason, 'token_expired');
      // The session ends: no valid access token, no refresh token.
      await client.setSession('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.ZW5kZWQ', null);
      stack.front.fake.expireAll('session_revoked');
      await waitFor(() => s.state === 'closed', 3000, 'closed');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(s.connections, 2, 'no reconnect without a session');
    } finally {
      s.close();
    }
  });
});

test('every public method of HeraldClient was used', () => {
  const missing = publicMethods.filter((m) => !used.has(m));
  assert.deepEqual(missing, [], `not exercised: ${missing.join(', ')}`);
});
