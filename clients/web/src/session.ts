import { useSyncExternalStore } from 'react';
import type { SessionTokensFragment } from './generated/graphql/graphql.ts';

/**
 * The signed-in session: tokens in memory, mirrored to sessionStorage so a reload of this tab
 * keeps the user signed in (nothing survives closing the tab, and no other tab sees it). The
 * access token is refreshed shortly before it expires, once however many requests need it.
 */
export interface Session {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds when the access token expires. */
  expiresAt: number;
  user: SessionTokensFragment['user'];
}

const STORAGE_KEY = 'commerce.session';
/** Refresh this long before expiry, so a request never leaves with a token about to lapse. */
const REFRESH_MARGIN_MS = 30_000;

type Refresher = (refreshToken: string) => Promise<SessionTokensFragment>;

function read(): Session | null {
  try {
    const raw = window.sessionStorage.getItem(STORAGE_KEY);
    const parsed = raw ? (JSON.parse(raw) as Session) : null;
    return parsed && typeof parsed.accessToken === 'string' && typeof parsed.refreshToken === 'string' ? parsed : null;
  } catch {
    return null;
  }
}

let current: Session | null = read();
let refreshing: Promise<Session | null> | null = null;
let refresher: Refresher | null = null;
const listeners = new Set<() => void>();

function set(next: Session | null): void {
  current = next;
  try {
    if (next) window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(next));
    else window.sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage can be full or disabled: the session still lives in memory for this page.
  }
  for (const listener of listeners) listener();
}

export const session = {
  get: () => current,

  /** Keeps the tokens a signIn, signUp or refreshSession answered with. */
  start(tokens: SessionTokensFragment): Session {
    const next = { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresAt: Date.now() + tokens.expiresIn * 1_000, user: tokens.user };
    set(next);
    return next;
  },

  end(): void {
    set(null);
  },

  /** How tokens are refreshed (the Apollo client's RefreshSession); set once the client exists. */
  useRefresher(refresh: Refresher): void {
    refresher = refresh;
  },

  /** A usable access token: the current one, or a fresh one when it is about to expire; null when signed out. */
  async accessToken(): Promise<string | null> {
    if (!current) return null;
    if (current.expiresAt - Date.now() > REFRESH_MARGIN_MS) return current.accessToken;
    return (await session.refresh())?.accessToken ?? null;
  },

  /**
   * Exchanges the refresh token for new tokens, once for all concurrent callers (a refresh token
   * works once: two exchanges would end the session). A refusal signs the user out.
   */
  refresh(): Promise<Session | null> {
    if (refreshing) return refreshing;
    const from = current;
    if (!from || !refresher) return Promise.resolve(null);
    const exchange = refresher;
    refreshing = exchange(from.refreshToken)
      .then((tokens) => (current === from ? session.start(tokens) : current))
      .catch(() => {
        if (current === from) set(null);
        return null;
      })
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  },

  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

export function useSession(): Session | null {
  return useSyncExternalStore(session.subscribe, session.get);
}
