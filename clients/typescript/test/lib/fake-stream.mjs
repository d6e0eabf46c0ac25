// fake-stream.mjs - the notification stream of the API (POST /api/v1/notifications/stream-tickets,
// GET /api/v1/notifications/stream) played by the tests for an API that does not serve it yet.
// It follows the stream's interface: single-use tickets, `retry:`, heartbeat comments, events
// with increasing ids (notification.created, notification.updated, unread_count on connect and
// on change, stream.reset, session.expired with its reason), replay after Last-Event-ID / ?last_event_id=. It
// learns what happened by reading each user's feed from the real API every 100 ms.
import { randomBytes } from 'node:crypto';

const KEEP = 500; // events kept per user for replay

export class FakeStream {
  constructor(apiBase) {
    this.api = apiBase;
    this.tickets = new Map(); // ticket -> { token, userId, expires }
    this.users = new Map(); // userId -> watcher
    this.nextId = 1;
    this.clients = new Set();
  }

  handles(method, path) {
    return path === '/api/v1/notifications/stream-tickets' || path === '/api/v1/notifications/stream';
  }

  async handle(req, res) {
    const url = new URL(req.url, 'http://x');
    try {
      if (url.pathname.endsWith('/stream-tickets')) {
        if (req.method !== 'POST') return json(res, 405, err('method_not_allowed', 'Use POST.'), { Allow: 'POST' });
        return await this.ticket(req, res);
      }
      if (req.method !== 'GET') return json(res, 405, err('method_not_allowed', 'Use GET.'), { Allow: 'GET' });
      return await this.stream(req, res, url);
    } catch (e) {
      json(res, 503, err('unavailable', String(e?.message ?? e), 'api_error'));
    }
  }

  async whoami(token) {
    const r = await fetch(`${this.api}/api/v1/users/me`, { headers: { Authorization: `Bearer ${token}` } });
    return r.ok ? (await r.json()).id : null;
  }

  async ticket(req, res) {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const userId = token ? await this.whoami(token) : null;
    if (!userId) return json(res, 401, err('invalid_token', 'The access token is missing, invalid or expired.', 'authentication_error'));
    const ticket = randomBytes(32).toString('base64url');
    const expires = Date.now() + 30000;
    this.tickets.set(ticket, { token, userId, expires });
    await this.watch(userId, token);
    json(res, 201, { object: 'stream_ticket', ticket, expires_at: new Date(expires).toISOString(), url: `/api/v1/notifications/stream?ticket=${ticket}` });
  }

  async stream(req, res, url) {
    let who = null;
    const t = url.searchParams.get('ticket');
    if (t) {
      const rec = this.tickets.get(t);
      this.tickets.delete(t); // single use
      if (rec && rec.expires > Date.now()) who = rec;
    } else {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const userId = token ? await this.whoami(token) : null;
      if (userId) who = { token, userId };
      if (userId) await this.watch(userId, token);
    }
    if (!who) return json(res, 401, err('invalid_ticket', 'The stream ticket is missing, used or expired.', 'authentication_error'));
    const w = this.users.get(who.userId);
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.write('retry: 3000\n\n');
    const last = url.searchParams.get('last_event_id') ?? req.headers['last-event-id'];
    if (last != null && /^\d+$/.test(last)) {
      const n = Number(last);
      const oldest = w.log.length ? w.log[0].id : this.nextId;
      if (n + 1 < oldest) send(res, { id: this.nextId++, type: 'stream.reset', data: { reason: 'replay_window' } });
      else for (const ev of w.log) if (ev.id > n) send(res, ev);
    }
    send(res, { id: this.nextId++, type: 'unread_count', data: { unread: w.unread } });
    const client = { res, userId: who.userId };
    w.clients.add(client);
    this.clients.add(client);
    const hb = setInterval(() => res.write(': heartbeat\n\n'), 5000);
    res.on('close', () => {
      clearInterval(hb);
      w.clients.delete(client);
      this.clients.delete(client);
    });
  }

  /** Starts (or refreshes the token of) the feed watcher of a user. */
  async watch(userId, token) {
    let w = this.users.get(userId);
    if (w) {
      w.token = token;
      return;
    }
    const feed = await this.read(token);
    w = { token, log: [], clients: new Set(), seen: feed.items, unread: feed.unread };
    this.users.set(userId, w);
    w.timer = setInterval(() => void this.poll(w), 100);
  }

  async read(token) {
    const r = await fetch(`${this.api}/api/v1/notifications?limit=100`, { headers: { Authorization: `Bearer ${token}` } });
    if (!r.ok) throw new Error(`feed read: ${r.status}`);
    const page = await r.json();
    return { items: new Map(page.data.map((n) => [n.id, n])), order: page.data, unread: page.unread_count };
  }

  async poll(w) {
    if (w.busy) return;
    w.busy = true;
    try {
      const feed = await this.read(w.token);
      for (const n of [...feed.order].reverse()) {
        const before = w.seen.get(n.id);
        if (!before) this.emit(w, 'notification.created', n);
        else if (before.read !== n.read) this.emit(w, 'notification.updated', { id: n.id, read: n.read, read_at: n.read_at, deleted: false });
      }
      for (const id of w.seen.keys()) if (!feed.items.has(id)) this.emit(w, 'notification.updated', { id, read: true, deleted: true });
      if (feed.unread !== w.unread) this.emit(w, 'unread_count', { unread: feed.unread });
      w.seen = feed.items;
      w.unread = feed.unread;
    } catch {
      /* the API is briefly away: try again on the next tick */
    } finally {
      w.busy = false;
    }
  }

  emit(w, type, data) {
    const ev = { id: this.nextId++, type, data };
    w.log.push(ev);
    if (w.log.length > KEEP) w.log.shift();
    for (const c of w.clients) send(c.res, ev);
  }

  /** Tells every open stream its session ended (session.expired, reason), then closes them. */
  expireAll(reason = 'token_expired') {
    for (const c of this.clients) {
      send(c.res, { id: this.nextId++, type: 'session.expired', data: { reason } });
      c.res.end();
    }
  }

  dropAll() {
    for (const c of this.clients) c.res.destroy();
  }

  stop() {
    for (const w of this.users.values()) clearInterval(w.timer);
    this.dropAll();
  }
}

function send(res, ev) {
  res.write(`id: ${ev.id}\nevent: ${ev.type}\ndata: ${JSON.stringify(ev.data)}\n\n`);
}

function err(code, message, type = 'invalid_request_error') {
  return { error: { type, code, message } };
}

function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
