// storage.ts - where the client keeps the refresh token. The default keeps it in memory only
// (a reload signs the user out); an application that wants sessions to survive a reload passes
// its own TokenStorage (e.g. backed by an httpOnly cookie endpoint or a native keychain).
export interface TokenStorage {
  /** The stored refresh token, or null. */
  get(): string | null | Promise<string | null>;
  /** Stores the refresh token (null: forget it). */
  set(token: string | null): void | Promise<void>;
}

/** Keeps the token in this object only. */
export function memoryStorage(): TokenStorage {
  let token: string | null = null;
  return {
    get: () => token,
    set: (t) => {
      token = t;
    },
  };
}

/** Keeps the token in a Web Storage object (sessionStorage, localStorage) under key: only
 *  when the application chooses to; any script of the page can read it there. */
export function webStorage(store: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>, key = 'herald.refresh_token'): TokenStorage {
  return {
    get: () => store.getItem(key),
    set: (t) => (t == null ? store.removeItem(key) : store.setItem(key, t)),
  };
}
