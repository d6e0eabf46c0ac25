// client.ts - HeraldClient: the typed calls of the API a web or mobile client makes (sign-in,
// feed, preferences, sending), with the session handled for the caller: the access token is
// kept in memory, a 401 triggers one refresh (one in flight at a time, however many calls saw
// the 401) whose rotated refresh token goes to the TokenStorage, and POSTs that create
// something carry a generated Idempotency-Key. Types come from src/generated/openapi.ts.
import type { components, paths } from './generated/openapi';
import { HeraldError, HeraldNetworkError, errorFromResponse } from './errors';
import { memoryStorage, type TokenStorage } from './storage';
import { HeraldStream, type StreamOptions } from './stream';

type Schemas = components['schemas'];
export type Notification = Schemas['Notification'];
export type NotificationFeed = Schemas['NotificationFeed'];
export type NotificationPreferences = Schemas['NotificationPreferences'];
export type PreferencesUpdate = Schemas['PreferencesUpdateRequest'];
export type TokenPair = Schemas['TokenPair'];
export type MfaChallenge = Schemas['MfaChallenge'];
export type User = Schemas['User'];
export type RegisterRequest = Schemas['RegisterRequest'];
export type SendNotificationRequest = Schemas['SendNotificationRequest'];
export type NotificationCreated = Schemas['NotificationCreated'];
export type FeedQuery = NonNullable<paths['/api/v1/notifications']['get']['parameters']['query']>;
export type StreamTicket = Schemas['StreamTicket'];

export interface ClientOptions {
  /** The API's origin, e.g. "https://api.example.com" ("" or omitted: this page's origin). */
  baseUrl?: string;
  /** Where the refresh token lives (default: memory only). */
  storage?: TokenStorage;
  /** A service API key instead of a user session (sending notifications from a server). */
  apiKey?: string;
  /** The fetch to use (default: globalThis.fetch). */
  fetch?: typeof fetch;
  /** Makes the Idempotency-Key of a POST (default: crypto.randomUUID()). */
  idempotencyKey?: () => string;
  /** Called when the session ends: sign-out, or a refresh the API refused. */
  onSessionEnd?: (reason: 'signed_out' | 'refresh_failed') => void;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined | null>;
  body?: unknown;
  /** Sent as Idempotency-Key (POSTs that create something get a generated one otherwise). */
  idempotencyKey?: string;
  /** false: no Authorization header, no refresh. */
  auth?: boolean;
  signal?: AbortSignal;
}

export type SignInResult = { status: 'signed_in'; tokens: TokenPair } | { status: 'mfa_required'; challenge: MfaChallenge };

/** POSTs that create something and accept Idempotency-Key (see the contract). */
const IDEMPOTENT_POSTS = new Set(['/api/v1/notifications', '/api/v1/notifications/bulk', '/api/v1/announcements', '/api/v1/devices']);

/** Methods whose repetition changes nothing more than the first call. */
const SAFE_TO_REPEAT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

export class HeraldClient {
  readonly baseUrl: string;
  private readonly storage: TokenStorage;
  private readonly fetchImpl: typeof fetch;
  private readonly makeKey: () => string;
  private readonly onSessionEnd?: ClientOptions['onSessionEnd'];
  private readonly apiKey?: string;
  private accessToken: string | null = null;
  private refreshing: Promise<string> | null = null;

  constructor(options: ClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
    this.storage = options.storage ?? memoryStorage();
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.makeKey = options.idempotencyKey ?? (() => globalThis.crypto.randomUUID());
    this.onSessionEnd = options.onSessionEnd;
    this.apiKey = options.apiKey;
  }

  // ------------------------------------------------------------------ session

  /** Signs in; an account with two-factor authentication answers with a challenge instead. */
  async signIn(email: string, password: string): Promise<SignInResult> {
    const res = await this.send('POST', '/api/v1/auth/login', { body: { email, password }, auth: false });
    if (res.status === 202) return { status: 'mfa_required', challenge: (await res.json()) as MfaChallenge };
    const tokens = (await res.json()) as TokenPair;
    await this.setSession(tokens.access_token, tokens.refresh_token);
    return { status: 'signed_in', tokens };
  }

  /** Completes a sign-in that answered mfa_required, with a TOTP or recovery code. */
  async verifyMfa(challenge: string, code: string): Promise<TokenPair> {
    const tokens = await this.json<TokenPair>('POST', '/api/v1/auth/mfa/verify', { body: { challenge, code }, auth: false });
    await this.setSession(tokens.access_token, tokens.refresh_token);
    return tokens;
  }

  /** Uses tokens obtained elsewhere (accessToken may be null: the next call refreshes). */
  async setSession(accessToken: string | null, refreshToken: string | null): Promise<void> {
    this.accessToken = accessToken;
    await this.storage.set(refreshToken);
  }

  /** True when a refresh token is stored (a session can be resumed). */
  async hasSession(): Promise<boolean> {
    return this.accessToken != null || (await this.storage.get()) != null;
  }

  /** Revokes the refresh token's family and forgets the session. */
  async signOut(): Promise<void> {
    const rt = await this.storage.get();
    this.accessToken = null;
    await this.storage.set(null);
    if (rt) await this.send('POST', '/api/v1/auth/logout', { body: { refresh_token: rt }, auth: false });
    this.onSessionEnd?.('signed_out');
  }

  /** Exchanges the refresh token for a new pair now; concurrent callers share one request. */
  refresh(): Promise<string> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<string> {
    const rt = await this.storage.get();
    if (!rt) throw new HeraldError(401, { type: 'authentication_error', code: 'not_signed_in', message: 'No session to refresh: sign in.' });
    let tokens: TokenPair;
    try {
      tokens = await this.json<TokenPair>('POST', '/api/v1/auth/refresh', { body: { refresh_token: rt }, auth: false });
    } catch (e) {
      if (e instanceof HeraldError && e.status === 401) {
        this.accessToken = null;
        await this.storage.set(null);
        this.onSessionEnd?.('refresh_failed');
      }
      throw e;
    }
    await this.setSession(tokens.access_token, tokens.refresh_token);
    return tokens.access_token;
  }

  // ------------------------------------------------------------------ account

  /** Creates an account (202 whether or not the address was taken); then signIn. */
  async register(body: RegisterRequest): Promise<void> {
    await this.send('POST', '/api/v1/auth/register', { body, auth: false });
  }

  me(): Promise<User> {
    return this.json('GET', '/api/v1/users/me');
  }

  // ------------------------------------------------------------------ feed

  /** One page of the feed (newest first) with the unread count. */
  listNotifications(query: FeedQuery = {}): Promise<NotificationFeed> {
    return this.json('GET', '/api/v1/notifications', { query });
  }

  /** Every page of the feed, following the cursor (starting_after = the last id). */
  async *notificationPages(query: FeedQuery = {}): AsyncGenerator<NotificationFeed> {
    let cursor = query.starting_after;
    for (;;) {
      const page = await this.listNotifications({ ...query, starting_after: cursor });
      yield page;
      if (!page.has_more || page.data.length === 0) return;
      cursor = page.data[page.data.length - 1].id;
    }
  }

  /** Every notification of the feed, newest first: `for await (const n of client.notifications())`. */
  async *notifications(query: FeedQuery = {}): AsyncGenerator<Notification> {
    for await (const page of this.notificationPages(query)) yield* page.data;
  }

  async unreadCount(): Promise<number> {
    const r = await this.json<Schemas['UnreadCount']>('GET', '/api/v1/notifications/unread-count');
    return r.unread_count;
  }

  getNotification(id: string): Promise<Notification> {
    return this.json('GET', `/api/v1/notifications/${encodeURIComponent(id)}`);
  }

  markRead(id: string): Promise<Notification> {
    return this.json('POST', `/api/v1/notifications/${encodeURIComponent(id)}/read`);
  }

  markUnread(id: string): Promise<Notification> {
    return this.json('POST', `/api/v1/notifications/${encodeURIComponent(id)}/unread`);
  }

  markAllRead(): Promise<Schemas['ReadAllResult']> {
    return this.json('POST', '/api/v1/notifications/read-all');
  }

  async deleteNotification(id: string): Promise<void> {
    await this.send('DELETE', `/api/v1/notifications/${encodeURIComponent(id)}`);
  }

  /** Deletes the whole feed (POST /notifications/clear). An API without it answers 404
   *  (HeraldError code not_found): callers hide the action then. */
  async clearNotifications(): Promise<unknown> {
    const res = await this.send('POST', '/api/v1/notifications/clear');
    return res.status === 204 ? null : res.json();
  }

  getPreferences(): Promise<NotificationPreferences> {
    return this.json('GET', '/api/v1/users/me/preferences');
  }

  updatePreferences(body: PreferencesUpdate): Promise<NotificationPreferences> {
    return this.json('PUT', '/api/v1/users/me/preferences', { body });
  }

  /** Sends a notification (admins or API keys), with an Idempotency-Key (generated unless given). */
  sendNotification(body: SendNotificationRequest, options: { idempotencyKey?: string } = {}): Promise<NotificationCreated> {
    return this.json('POST', '/api/v1/notifications', { body, idempotencyKey: options.idempotencyKey });
  }

  // ------------------------------------------------------------------ stream

  /** A single-use, short-lived ticket for the event stream. */
  createStreamTicket(): Promise<StreamTicket> {
    return this.json('POST', '/api/v1/notifications/stream-tickets');
  }

  /** Opens the live event stream (reconnects with Last-Event-ID and backoff until close()). */
  stream(options: StreamOptions = {}): HeraldStream {
    const s = new HeraldStream(this, options);
    s.start();
    return s;
  }

  /** The absolute URL of an API path. */
  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  /** The fetch this client uses (the stream reads with it too). */
  get fetcher(): typeof fetch {
    return this.fetchImpl;
  }

  // ------------------------------------------------------------------ transport

  /** A call whose 2xx JSON body is returned; other statuses throw HeraldError. */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, options);
    return (await res.json()) as T;
  }

  /** A call that returns the 2xx Response; other statuses throw HeraldError. A 401 with a
   *  user session refreshes once and repeats the call (same Idempotency-Key). */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const auth = options.auth !== false;
    const key = options.idempotencyKey ?? (method === 'POST' && IDEMPOTENT_POSTS.has(path) ? this.makeKey() : undefined);
    let token = auth ? await this.currentToken() : null;
    let res = await this.raw(method, path, options, token, key);
    if (res.status === 401 && auth && !this.apiKey && (await this.storage.get()) != null) {
      await res.body?.cancel();
      token = await this.refreshAfter(token);
      res = await this.raw(method, path, options, token, key);
    }
    if (!res.ok) throw await errorFromResponse(res);
    return res;
  }

  /** The token to send: the API key, the access token, or a fresh one from the refresh token. */
  private async currentToken(): Promise<string | null> {
    if (this.apiKey) return this.apiKey;
    if (this.accessToken) return this.accessToken;
    if (this.refreshing) return this.refreshing;
    return (await this.storage.get()) ? this.refresh() : null;
  }

  /** After a 401 sent with `used`: a token refreshed since then, or a new refresh. */
  private refreshAfter(used: string | null): Promise<string> {
    if (this.refreshing) return this.refreshing;
    if (this.accessToken && this.accessToken !== used) return Promise.resolve(this.accessToken);
    return this.refresh();
  }

  private async raw(method: string, path: string, options: RequestOptions, token: string | null, key?: string): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (key) headers['Idempotency-Key'] = key;
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    let url = this.url(path);
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined && v !== null) qs.set(k, String(v));
    if ([...qs.keys()].length) url += `?${qs}`;
    const init = { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), signal: options.signal };
    try {
      return await this.fetchImpl(url, init);
    } catch (e) {
      // A connection that broke before any answer (a reused keep-alive socket the network
      // dropped) is retried once when repeating the request is harmless.
      if (!options.signal?.aborted && (key || SAFE_TO_REPEAT.has(method))) {
        await new Promise((r) => setTimeout(r, 50));
        try {
          return await this.fetchImpl(url, init);
        } catch (e2) {
          e = e2;
        }
      }
      throw new HeraldNetworkError(`${method} ${path}: ${(e as Error)?.message ?? e}`, e);
    }
  }
}
