/**
 * Acting as a seeded user from the IDE (development): sign in through the router with the
 * documented development password, keep the tokens in this browser tab only (sessionStorage:
 * gone when the tab closes; never in the HTML, never in localStorage), and add
 * `authorization: Bearer …` to every request GraphiQL sends unless the tab's own Headers set one.
 * The access token is refreshed shortly before it expires (one refresh at a time: a refresh token
 * works once, and presenting it twice would end the session).
 */
import { useSyncExternalStore } from 'react';
import { pageConfig } from './page-config.ts';
import { DEVELOPMENT_PASSWORD, seededEmail } from './tabs.ts';

export interface Session {
  userId: string;
  name: string;
  admin: boolean;
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

const STORAGE_KEY = 'commerce-ide:session';
/** Refresh this long before the access token expires. */
const REFRESH_MARGIN_MS = 30_000;

let current: Session | null = load();
let notice: string | null = null;
let refreshing: Promise<Session | null> | null = null;
const listeners = new Set<() => void>();

function load(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

function set(session: Session | null, message: string | null = null): void {
  current = session;
  notice = message;
  try {
    if (session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage refused (private mode quotas): the session lives in memory only.
  }
  snapshot = { session: current, notice };
  for (const listener of listeners) listener();
}

let snapshot: { session: Session | null; notice: string | null } = { session: current, notice };

/** The signed-in user (or null) and the last notice (e.g. an expired session), for React. */
export function useSession(): { session: Session | null; notice: string | null } {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => snapshot,
  );
}

interface GraphQLAnswer<Data> {
  data?: Data | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** One operation against the router, anonymously (the sign-in mutations need no token). */
export async function request<Data>(query: string, variables: Record<string, unknown> = {}): Promise<Data> {
  const response = await fetch(pageConfig.graphqlPath, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const answer = (await response.json()) as GraphQLAnswer<Data>;
  const error = answer.errors?.[0];
  if (error || !answer.data) throw new Error(error ? `${error.message}${error.extensions?.code ? ` (${error.extensions.code})` : ''}` : `HTTP ${response.status}`);
  return answer.data;
}

interface AuthPayload {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  user: { id: string; name: string };
}

const AUTH_FIELDS = 'accessToken expiresIn refreshToken user { id name }';

function sessionFrom(payload: AuthPayload, admin: boolean): Session {
  return {
    userId: payload.user.id,
    name: payload.user.name,
    admin,
    accessToken: payload.accessToken,
    refreshToken: payload.refreshToken,
    expiresAt: Date.now() + payload.expiresIn * 1000,
  };
}

/** Scopes from the token's payload, only to label the admin (the router, not the page, verifies tokens). */
function hasAdminScope(accessToken: string): boolean {
  try {
    const payload = JSON.parse(atob(accessToken.split('.')[1]?.replace(/-/g, '+').replace(/_/g, '/') ?? '')) as { scope?: unknown };
    return typeof payload.scope === 'string' && payload.scope.split(' ').includes('admin');
  } catch {
    return false;
  }
}

/** Signs in as seeded user `userId` with the development password. */
export async function signInAs(userId: number): Promise<Session> {
  const data = await request<{ signIn: AuthPayload }>(
    `mutation IdeSignIn($email: String!, $password: String!) { signIn(email: $email, password: $password) { ${AUTH_FIELDS} } }`,
    { email: seededEmail(userId), password: DEVELOPMENT_PASSWORD },
  );
  const session = sessionFrom(data.signIn, hasAdminScope(data.signIn.accessToken));
  set(session);
  return session;
}

/** Ends the session on the server (its refresh tokens stop working) and forgets it here. */
export async function signOut(): Promise<void> {
  const session = current;
  set(null);
  if (!session) return;
  try {
    await request(`mutation IdeSignOut($token: String!) { signOut(refreshToken: $token) { signedOut } }`, { token: session.refreshToken });
  } catch {
    // Already over on the server (expired, revoked): nothing more to end.
  }
}

/** The session with an access token good for a while longer, refreshing it first if needed. */
async function freshSession(): Promise<Session | null> {
  const session = current;
  if (!session || session.expiresAt - Date.now() > REFRESH_MARGIN_MS) return session;
  refreshing ??= (async () => {
    try {
      const data = await request<{ refreshSession: AuthPayload }>(
        `mutation IdeRefresh($token: String!) { refreshSession(refreshToken: $token) { ${AUTH_FIELDS} } }`,
        { token: session.refreshToken },
      );
      const renewed = sessionFrom(data.refreshSession, session.admin);
      set(renewed);
      return renewed;
    } catch {
      set(null, `The session of ${session.name} ended; sign in again.`);
      return null;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/**
 * The fetch GraphiQL's fetcher uses: adds the signed-in user's token unless the request already
 * has an Authorization header (the tab's Headers win). A 401 for our token (the router restarted
 * with a new signing key, the session was revoked) signs out here, with a notice.
 */
export const authorizedFetch: typeof fetch = async (input, init) => {
  const headers = new Headers(init?.headers);
  let used: Session | null = null;
  if (!headers.has('authorization')) {
    used = await freshSession();
    if (used) headers.set('authorization', `Bearer ${used.accessToken}`);
  }
  const response = await fetch(input, { ...init, headers });
  if (response.status === 401 && used && current === used) set(null, `The router refused the token of ${used.name}; sign in again.`);
  return response;
};
