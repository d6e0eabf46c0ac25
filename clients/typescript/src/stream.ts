// stream.ts - HeraldStream: the live events of the signed-in user's feed over server-sent
// events. Tickets are single use, so the stream reconnects by itself rather than letting an
// EventSource retry: on any drop it closes, waits (the server's `retry:` or 1 s, doubling up
// to maxDelayMs, with jitter), gets a new ticket and reconnects with last_event_id, so the
// server replays what was missed. After session.expired or stream.overflow it reconnects at
// once; it stops for good when a ticket is refused (401, 403) or the API has no stream (404,
// 405). Two transports: fetch (reads the body, sees heartbeats; works
// in Node and browsers) and the browser's EventSource.
import type { components } from './generated/openapi';
import type { HeraldClient } from './client';
import { HeraldError } from './errors';

type Schemas = components['schemas'];

/** An event of the stream (NotificationStreamEvent of the contract): `type` is its `event`. */
export type StreamEvent =
  | { type: 'notification.created'; id: string; data: Schemas['StreamNotificationCreated']['data'] }
  | { type: 'notification.updated'; id: string; data: Schemas['StreamNotificationUpdated']['data'] }
  | { type: 'unread_count'; id: string; data: Schemas['StreamUnreadCount']['data'] }
  | { type: 'stream.reset'; id: string; data: Schemas['StreamReset']['data'] }
  | { type: Schemas['StreamEnd']['event']; id: string; data: Schemas['StreamEnd']['data'] };

export type StreamState = 'connecting' | 'open' | 'waiting' | 'closed';

export interface StreamOptions {
  /** Every event, in order. */
  onEvent?: (event: StreamEvent) => void;
  /** connecting -> open -> (waiting -> connecting -> open)* -> closed. */
  onState?: (state: StreamState, detail?: { delayMs?: number; error?: unknown }) => void;
  /** 'fetch' (default where EventSource is missing) or 'eventsource'. */
  transport?: 'fetch' | 'eventsource';
  /** Resume after this event id (e.g. one kept from an earlier page). */
  lastEventId?: string;
  /** Backoff bounds (ms). */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** fetch transport: reconnect when nothing (not even a heartbeat) came for this long. */
  idleTimeoutMs?: number;
}

const KNOWN = new Set(['notification.created', 'notification.updated', 'unread_count', 'stream.reset', 'session.expired', 'stream.overflow']);

/** Incremental parser of a text/event-stream body (the WHATWG rules: fields, comments,
 *  multi-line data, CRLF). push() returns the events completed by the chunk. */
export class SseParser {
  private buf = '';
  private data: string[] = [];
  private event = '';
  private id: string | null = null;
  retry: number | null = null;

  push(chunk: string): { event: string; data: string; id: string | null }[] {
    this.buf += chunk;
    const out: { event: string; data: string; id: string | null }[] = [];
    let nl: number;
    while ((nl = this.buf.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buf.slice(0, nl);
      const eolLen = this.buf.startsWith('\r\n', nl) ? 2 : 1;
      if (this.buf[nl] === '\r' && nl + 1 === this.buf.length) break; // a CR that may precede LF
      this.buf = this.buf.slice(nl + eolLen);
      if (line === '') {
        if (this.data.length) out.push({ event: this.event || 'message', data: this.data.join('\n'), id: this.id });
        this.data = [];
        this.event = '';
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') this.data.push(value);
      else if (field === 'event') this.event = value;
      else if (field === 'id' && !value.includes('\0')) this.id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    }
    return out;
  }
}

export class HeraldStream {
  /** The id of the last event received (sent as last_event_id on reconnect). */
  lastEventId: string | null;
  state: StreamState = 'connecting';
  /** How many times a connection opened (1 + reconnects). */
  connections = 0;
  private closed = false;
  private failures = 0;
  private serverRetry: number | null = null;
  private abort: AbortController | null = null;
  private source: EventSource | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly opts: Required<Pick<StreamOptions, 'minDelayMs' | 'maxDelayMs' | 'idleTimeoutMs'>> & StreamOptions;

  constructor(private readonly client: HeraldClient, options: StreamOptions) {
    this.opts = { minDelayMs: 1000, maxDelayMs: 30000, idleTimeoutMs: 45000, ...options };
    this.lastEventId = options.lastEventId ?? null;
  }

  /** Starts connecting (HeraldClient.stream calls it). */
  start(): void {
    void this.connect();
  }

  /** Stops for good. */
  close(): void {
    this.closed = true;
    this.teardown();
    this.setState('closed');
  }

  /** Drops the current connection and reconnects at once (e.g. after the page comes back online). */
  reconnect(): void {
    if (this.closed) return;
    this.teardown();
    this.failures = 0;
    void this.connect();
  }

  private setState(state: StreamState, detail?: { delayMs?: number; error?: unknown }): void {
    this.state = state;
    this.opts.onState?.(state, detail);
  }

  private teardown(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.abort?.abort();
    this.abort = null;
    this.source?.close();
    this.source = null;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    this.setState('connecting');
    let url: string;
    try {
      const ticket = await this.client.createStreamTicket();
      const u = new URL(ticket.url, this.client.baseUrl || globalThis.location?.href);
      if (this.lastEventId != null) u.searchParams.set('last_event_id', this.lastEventId);
      url = this.client.baseUrl ? this.client.url(u.pathname + u.search) : u.pathname + u.search;
    } catch (e) {
      // No session any more, or an API without the stream (404, 405): stop; anything else
      // (network, 429, 503): try again later.
      if (e instanceof HeraldError && [401, 403, 404, 405].includes(e.status)) {
        this.closed = true;
        this.setState('closed', { error: e });
        return;
      }
      this.retryLater(e);
      return;
    }
    if (this.closed) return;
    const es = this.opts.transport ?? (typeof EventSource === 'function' ? 'eventsource' : 'fetch');
    if (es === 'eventsource') this.openEventSource(url);
    else void this.openFetch(url);
  }

  private retryLater(error: unknown): void {
    if (this.closed) return;
    this.teardown();
    const base = Math.max(this.opts.minDelayMs, this.serverRetry ?? 0);
    const exp = Math.min(this.opts.maxDelayMs, base * 2 ** Math.min(this.failures, 10));
    const delayMs = Math.round(exp / 2 + Math.random() * (exp / 2));
    this.failures++;
    this.setState('waiting', { delayMs, error });
    this.timer = setTimeout(() => void this.connect(), delayMs);
  }

  private opened(): void {
    this.connections++;
    this.failures = 0;
    this.setState('open');
  }

  private dispatch(type: string, data: string, id: string | null): void {
    if (id != null && id !== '') this.lastEventId = id;
    if (!KNOWN.has(type)) return;
    let parsed: unknown = null;
    try {
      parsed = data === '' ? null : JSON.parse(data);
    } catch {
      parsed = data;
    }
    this.opts.onEvent?.({ type, id: id ?? '', data: parsed } as StreamEvent);
    // The server closes after these: reconnect at once (a new ticket refreshes an expired
    // access token; a revoked session then ends the stream with the ticket's 401).
    if (type === 'session.expired' || type === 'stream.overflow') this.reconnect();
  }

  private openEventSource(url: string): void {
    const source = new EventSource(url);
    this.source = source;
    source.onopen = () => this.opened();
    source.onerror = () => {
      if (this.source === source) this.retryLater(new Error('stream connection lost'));
    };
    for (const type of KNOWN) {
      source.addEventListener(type, (ev) => {
        const me = ev as MessageEvent;
        this.dispatch(type, String(me.data ?? ''), me.lastEventId || null);
      });
    }
  }

  private async openFetch(url: string): Promise<void> {
    const abort = new AbortController();
    this.abort = abort;
    const idle = () => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => abort.abort(new Error('stream idle')), this.opts.idleTimeoutMs);
    };
    try {
      const headers: Record<string, string> = { Accept: 'text/event-stream' };
      if (this.lastEventId != null) headers['Last-Event-ID'] = this.lastEventId;
      idle();
      const res = await this.client.fetcher(url, { headers, signal: abort.signal, cache: 'no-store' });
      if (!res.ok || !res.body) throw new HeraldError(res.status, { message: `stream answered ${res.status}` }, res.headers);
      this.opened();
      const parser = new SseParser();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        idle();
        for (const ev of parser.push(value)) this.dispatch(ev.event, ev.data, ev.id);
        if (parser.retry != null) this.serverRetry = parser.retry;
        if (this.closed) return;
      }
      throw new Error('stream ended');
    } catch (e) {
      if (this.abort === abort && !this.closed) this.retryLater(e);
    }
  }
}
