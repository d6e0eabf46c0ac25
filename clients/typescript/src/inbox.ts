// inbox.ts - <herald-inbox>: a bell with the unread count that opens a panel with the user's
// feed (infinite scroll over the cursor; mark read/unread, delete, read all, clear), the
// per-category inbox preferences, and new notifications arriving live over the stream. Shadow
// DOM, no dependency beyond HeraldClient. The page hands it a signed-in client:
// `document.querySelector('herald-inbox').client = client`. Attributes: theme (light, dark,
// auto), lang (en, fr), page-size; property `strings` overrides any text.
import { HeraldClient, type Notification, type NotificationPreferences } from './client';
import { HeraldError } from './errors';
import type { HeraldStream, StreamEvent } from './stream';
import { INBOX_CSS } from './inbox-style';
import { STRINGS, fmt, type InboxStrings } from './strings';

const BELL_SVG =
  '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"/></svg>';

const TEMPLATE = `<style>${INBOX_CSS}</style>
<button class="bell" part="bell" type="button" aria-haspopup="dialog" aria-expanded="false" aria-controls="panel">${BELL_SVG}<span class="badge" part="badge" hidden></span></button>
<div class="panel" id="panel" part="panel" role="dialog" aria-labelledby="title" tabindex="-1" hidden>
<header><h2 id="title"></h2><div class="actions">
<button type="button" data-act="read-all"></button><button type="button" data-act="clear" hidden></button>
<button type="button" data-act="settings" aria-pressed="false"></button><button type="button" data-act="close">✕</button></div></header>
<div class="status" role="status"></div>
<div class="body"><div class="feed" role="feed" aria-busy="false" aria-labelledby="title"></div>
<div class="more" aria-hidden="true"></div>
<section class="prefs" hidden aria-labelledby="ptitle"><h3 id="ptitle"></h3><p></p><ul></ul></section></div>
</div><div class="sr" aria-live="polite"></div>`;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}

export class HeraldInbox extends HTMLElement {
  static observedAttributes = ['lang', 'theme'];
  private readonly root: ShadowRoot;
  private _client: HeraldClient | null = null;
  private _strings: Partial<InboxStrings> = {};
  private items: Notification[] = [];
  private hasMore = false;
  private loading = false;
  private unread = 0;
  private stream: HeraldStream | null = null;
  private poll: ReturnType<typeof setInterval> | null = null;
  private observer: IntersectionObserver | null = null;
  private prefs: NotificationPreferences | null = null;
  private generation = 0;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    this.root.innerHTML = TEMPLATE;
    this.$('.bell').addEventListener('click', () => this.toggle());
    this.$('.actions').addEventListener('click', (e) => this.onAction(e));
    this.$('.feed').addEventListener('click', (e) => this.onItemAction(e));
    this.$('.panel').addEventListener('keydown', (e) => this.onKey(e as KeyboardEvent));
    this.onOutside = this.onOutside.bind(this);
  }

  /** The signed-in client; setting it (re)loads the feed and opens the stream. */
  get client(): HeraldClient | null {
    return this._client;
  }
  set client(c: HeraldClient | null) {
    this._client = c;
    if (this.isConnected) void this.start();
  }

  /** Texts to use instead of the built-in ones (any subset of InboxStrings). */
  set strings(s: Partial<InboxStrings>) {
    this._strings = s;
    this.renderTexts();
  }
  get strings(): InboxStrings {
    return { ...(STRINGS[this.getAttribute('lang') ?? 'en'] ?? STRINGS.en), ...this._strings };
  }

  /** The unread count shown on the badge. */
  get unreadCount(): number {
    return this.unread;
  }

  connectedCallback(): void {
    if (!this.hasAttribute('theme')) this.setAttribute('theme', 'auto');
    this.renderTexts();
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void this.loadMore();
    }, { root: this.$('.body') });
    this.observer.observe(this.$('.more'));
    document.addEventListener('click', this.onOutside, true);
    if (this._client) void this.start();
  }

  disconnectedCallback(): void {
    this.stop();
    this.observer?.disconnect();
    document.removeEventListener('click', this.onOutside, true);
  }

  attributeChangedCallback(): void {
    this.renderTexts();
  }

  /** Opens or closes the panel (focus moves into it, and back to the bell). */
  toggle(open = this.$('.panel').hidden): void {
    const panel = this.$('.panel');
    const bell = this.$('.bell');
    if (open === !panel.hidden) return;
    panel.hidden = !open;
    bell.setAttribute('aria-expanded', String(open));
    if (open) {
      panel.focus();
      void this.loadMore();
    } else if (this.root.activeElement && panel.contains(this.root.activeElement)) {
      bell.focus();
    }
  }

  // ------------------------------------------------------------------ data

  private async start(): Promise<void> {
    this.stop();
    const gen = ++this.generation;
    this.items = [];
    this.hasMore = true;
    this.$('.feed').textContent = '';
    await this.loadMore();
    if (gen !== this.generation || !this._client) return;
    void this.probeClear();
    this.stream = this._client.stream({
      onEvent: (ev) => this.onEvent(ev),
      onState: (state, detail) => {
        this.setStatus(state === 'waiting' ? this.strings.offline : '');
        const err = detail?.error;
        if (state === 'closed' && err instanceof HeraldError && (err.status === 404 || err.status === 405)) this.startPolling();
        if (state === 'closed' && err instanceof HeraldError && err.status === 401) this.setStatus(this.strings.sessionExpired);
      },
    });
  }

  private stop(): void {
    this.generation++;
    this.stream?.close();
    this.stream = null;
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
  }

  /** Without a stream in the API: every 10 s, the first page's new items and the count. */
  private startPolling(): void {
    if (this.poll || !this._client) return;
    const c = this._client;
    this.poll = setInterval(() => {
      c.listNotifications({ limit: 20 }).then((page) => {
        this.setUnread(page.unread_count);
        const fresh = page.data.filter((n) => !this.items.some((i) => i.id === n.id));
        for (const n of fresh.reverse()) this.onEvent({ type: 'notification.created', id: '', data: n });
      }, () => undefined);
    }, 10000);
  }

  /** Shows "clear all" only when the API has POST /notifications/clear: a GET of that path
   *  answers 405 then (documented path, other method) and 404 without it. */
  private async probeClear(): Promise<void> {
    const c = this._client;
    if (!c) return;
    try {
      await c.send('GET', '/api/v1/notifications/clear');
    } catch (e) {
      this.$('[data-act=clear]').hidden = !(e instanceof HeraldError && e.status === 405);
    }
  }

  private async loadMore(): Promise<void> {
    const c = this._client;
    if (!c || this.loading || !this.hasMore) return;
    const gen = this.generation;
    this.loading = true;
    this.$('.feed').setAttribute('aria-busy', 'true');
    this.$('.more').textContent = this.strings.loading;
    try {
      const last = this.items[this.items.length - 1];
      const page = await c.listNotifications({ limit: Number(this.getAttribute('page-size') ?? 20), starting_after: last?.id });
      if (gen !== this.generation) return;
      this.hasMore = page.has_more;
      this.setUnread(page.unread_count);
      for (const n of page.data) if (!this.items.some((i) => i.id === n.id)) this.appendItem(n);
      this.setStatus('');
    } catch (e) {
      if (gen === this.generation) this.setStatus(this.strings.loadError);
      this.hasMore = false;
    } finally {
      this.loading = false;
      this.$('.feed').setAttribute('aria-busy', 'false');
      this.renderFooter();
    }
    // A first page shorter than the panel never scrolls: keep loading while the sentinel shows.
    if (this.hasMore && gen === this.generation && !this.$('.panel').hidden) {
      const body = this.$('.body');
      if (body.scrollHeight <= body.clientHeight + 40) void this.loadMore();
    }
  }

  private onEvent(ev: StreamEvent): void {
    switch (ev.type) {
      case 'notification.created': {
        const n = ev.data;
        if (this.items.some((i) => i.id === n.id)) return;
        this.items.unshift(n);
        this.$('.feed').prepend(this.renderItem(n));
        this.renumber();
        this.renderFooter();
        this.announce(fmt(this.strings.newNotification, { title: n.title ?? n.body ?? '' }));
        this.bump();
        break;
      }
      case 'notification.updated': {
        const d = ev.data;
        if (d.deleted) this.removeItem(d.id);
        else if (typeof d.read === 'boolean') this.patch(d.id, { read: d.read });
        break;
      }
      case 'unread_count':
        this.setUnread(ev.data.unread);
        break;
      case 'stream.reset':
        void this.reload();
        break;
      case 'session.expired':
        this.setStatus(this.strings.sessionExpired);
        break;
    }
  }

  private async reload(): Promise<void> {
    this.generation++;
    this.items = [];
    this.hasMore = true;
    this.loading = false;
    this.$('.feed').textContent = '';
    await this.loadMore();
  }

  // ------------------------------------------------------------------ actions

  private async onAction(e: Event): Promise<void> {
    const act = (e.target as Element).closest('button')?.dataset.act;
    const c = this._client;
    if (!act) return;
    if (act === 'close') return this.toggle(false);
    if (act === 'settings') return this.showPrefs(this.$('.prefs').hidden);
    if (!c) return;
    try {
      if (act === 'read-all') {
        await c.markAllRead();
        for (const n of this.items) this.patch(n.id, { read: true });
        this.setUnread(0);
      } else if (act === 'clear') {
        if (!window.confirm(this.strings.clearConfirm)) return;
        await c.clearNotifications();
        this.items = [];
        this.$('.feed').textContent = '';
        this.hasMore = false;
        this.setUnread(0);
        this.renderFooter();
      }
    } catch (err) {
      if (act === 'clear' && err instanceof HeraldError && (err.status === 404 || err.status === 405)) {
        this.$('[data-act=clear]').hidden = true;
        this.$('[data-act=settings]').focus();
      } else this.setStatus((err as Error).message);
    }
  }

  private async onItemAction(e: Event): Promise<void> {
    const btn = (e.target as Element).closest('button');
    const art = (e.target as Element).closest('article');
    const c = this._client;
    if (!btn || !art || !c) return;
    const id = art.dataset.id!;
    const n = this.items.find((i) => i.id === id);
    try {
      if (btn.dataset.act === 'toggle' && n) {
        const updated = n.read ? await c.markUnread(id) : await c.markRead(id);
        this.patch(id, { read: updated.read });
        this.syncCount();
        this.$<HTMLElement>(`article[data-id="${id}"] [data-act=toggle]`).focus();
      } else if (btn.dataset.act === 'delete') {
        const next = (art.nextElementSibling ?? art.previousElementSibling) as HTMLElement | null;
        await c.deleteNotification(id);
        this.removeItem(id);
        this.syncCount();
        (next ?? this.$('.panel')).focus();
      }
    } catch (err) {
      this.setStatus((err as Error).message);
    }
  }

  /** After a change made here: an open stream sends the new unread_count itself (counting
   *  here as well would race with it); otherwise ask the API. */
  private syncCount(): void {
    const c = this._client;
    if (!c || this.stream?.state === 'open') return;
    c.unreadCount().then((n) => this.setUnread(n), () => undefined);
  }

  private onKey(e: KeyboardEvent): void {
    if (e.key === 'Escape') {
      e.preventDefault();
      this.toggle(false);
      this.$('.bell').focus();
      return;
    }
    const arts = [...this.root.querySelectorAll<HTMLElement>('article')];
    const cur = (this.root.activeElement as HTMLElement | null)?.closest('article');
    if (!arts.length || !['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(e.key)) return;
    if (e.key !== 'Home' && e.key !== 'End' && !cur) return;
    const i = cur ? arts.indexOf(cur as HTMLElement) : 0;
    const j = e.key === 'Home' ? 0 : e.key === 'End' ? arts.length - 1 : Math.max(0, Math.min(arts.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)));
    e.preventDefault();
    arts[j].focus();
  }

  private onOutside(e: Event): void {
    if (!this.$('.panel').hidden && !e.composedPath().includes(this)) this.toggle(false);
  }

  // ------------------------------------------------------------------ preferences

  private async showPrefs(show: boolean): Promise<void> {
    const c = this._client;
    this.$('.prefs').hidden = !show;
    this.$('.feed').hidden = show;
    this.$('.more').hidden = show;
    const btn = this.$('[data-act=settings]');
    btn.setAttribute('aria-pressed', String(show));
    btn.textContent = show ? this.strings.back : this.strings.settings;
    if (!show || !c) return;
    try {
      this.prefs = await c.getPreferences();
      this.renderPrefs();
    } catch (err) {
      this.setStatus((err as Error).message);
    }
  }

  private renderPrefs(): void {
    const p = this.prefs;
    const ul = this.$('.prefs ul');
    ul.textContent = '';
    if (!p) return;
    const cats = new Set([...Object.keys(p.categories), ...this.items.map((n) => n.category)]);
    if (!cats.size) ul.append(el('li', {}, this.strings.noCategories));
    for (const cat of [...cats].sort()) {
      const id = `pref-${cat.replace(/[^A-Za-z0-9_-]/g, '_')}`;
      const li = el('li');
      const input = el('input', { type: 'checkbox', role: 'switch', id, 'data-cat': cat });
      input.checked = p.categories[cat]?.in_app ?? p.channels.in_app;
      input.addEventListener('change', () => void this.setCategory(cat, input));
      li.append(el('label', { for: id }, cat), input);
      ul.append(li);
    }
  }

  private async setCategory(cat: string, input: HTMLInputElement): Promise<void> {
    const c = this._client;
    const p = this.prefs;
    if (!c || !p) return;
    const categories = { ...p.categories, [cat]: { ...(p.categories[cat] ?? {}), in_app: input.checked } };
    input.disabled = true;
    try {
      this.prefs = await c.updatePreferences({ categories });
    } catch (err) {
      input.checked = !input.checked;
      this.setStatus((err as Error).message);
    } finally {
      input.disabled = false;
    }
  }

  // ------------------------------------------------------------------ rendering

  private $<T extends HTMLElement = HTMLElement>(sel: string): T {
    return this.root.querySelector(sel) as T;
  }

  private renderTexts(): void {
    const s = this.strings;
    this.$('#title').textContent = s.title;
    this.$('[data-act=read-all]').textContent = s.markAllRead;
    this.$('[data-act=clear]').textContent = s.clear;
    this.$('[data-act=settings]').textContent = this.$('.prefs').hidden ? s.settings : s.back;
    this.$('[data-act=close]').setAttribute('aria-label', s.close);
    this.$('#ptitle').textContent = s.preferencesTitle;
    this.$('.prefs p').textContent = s.preferencesHint;
    this.setUnread(this.unread);
    this.renderFooter();
  }

  private renderItem(n: Notification): HTMLElement {
    const s = this.strings;
    const art = el('article', { tabindex: '0', 'data-id': n.id, 'aria-labelledby': `t-${n.id}`, part: 'item' });
    const title = el('p', { class: 't', id: `t-${n.id}` });
    const href = n.action_url && /^https?:\/\//i.test(n.action_url) ? n.action_url : null;
    if (href) title.append(el('a', { href, rel: 'noopener' }, n.title ?? n.category));
    else title.textContent = n.title ?? n.category;
    const lang = this.getAttribute('lang') ?? undefined;
    const when = new Date(n.created_at);
    const meta = el('time', { class: 'm', datetime: n.created_at }, `${n.category} · ${when.toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' })}`);
    const acts = el('div', { class: 'ia' });
    acts.append(el('button', { type: 'button', 'data-act': 'toggle' }, n.read ? s.markUnread : s.markRead), el('button', { type: 'button', 'data-act': 'delete', 'aria-label': `${s.delete}: ${n.title ?? n.category}` }, s.delete));
    art.append(title, acts);
    if (n.body) art.append(el('p', { class: 'b' }, n.body));
    art.append(meta);
    art.classList.toggle('unread', !n.read);
    return art;
  }

  private appendItem(n: Notification): void {
    this.items.push(n);
    this.$('.feed').append(this.renderItem(n));
    this.renumber();
  }

  private patch(id: string, change: Partial<Notification>): void {
    const n = this.items.find((i) => i.id === id);
    if (!n) return;
    Object.assign(n, change);
    const art = this.root.querySelector<HTMLElement>(`article[data-id="${id}"]`);
    if (!art) return;
    art.classList.toggle('unread', !n.read);
    art.querySelector('[data-act=toggle]')!.textContent = n.read ? this.strings.markUnread : this.strings.markRead;
  }

  private removeItem(id: string): void {
    this.items = this.items.filter((i) => i.id !== id);
    this.root.querySelector(`article[data-id="${id}"]`)?.remove();
    this.renumber();
    this.renderFooter();
  }

  private renumber(): void {
    this.root.querySelectorAll('article').forEach((a, i) => {
      a.setAttribute('aria-posinset', String(i + 1));
      a.setAttribute('aria-setsize', this.hasMore ? '-1' : String(this.items.length));
    });
  }

  private renderFooter(): void {
    const more = this.$('.more');
    more.textContent = this.loading ? this.strings.loading : this.items.length === 0 && !this.hasMore ? this.strings.empty : '';
    more.classList.toggle('empty', this.items.length === 0);
  }

  private setUnread(n: number): void {
    this.unread = n;
    const badge = this.$('.badge');
    badge.hidden = n === 0;
    badge.textContent = n > 99 ? '99+' : String(n);
    this.$('.bell').setAttribute('aria-label', n ? fmt(this.strings.bell, { count: n }) : this.strings.bellNone);
    this.dispatchEvent(new CustomEvent('herald-unread', { detail: { unread: n } }));
  }

  private bump(): void {
    const badge = this.$('.badge');
    badge.classList.add('bump');
    setTimeout(() => badge.classList.remove('bump'), 200);
  }

  private setStatus(text: string): void {
    this.$('.status').textContent = text;
  }

  private announce(text: string): void {
    const live = this.$('.sr');
    live.textContent = '';
    setTimeout(() => {
      live.textContent = text;
    }, 50);
  }
}

if (typeof customElements !== 'undefined' && !customElements.get('herald-inbox')) {
  customElements.define('herald-inbox', HeraldInbox);
}
