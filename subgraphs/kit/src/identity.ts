/**
 * Who is calling, as a subgraph sees it. The router verifies the caller's token and forwards the
 * result in headers it sets itself and signs (signing.ts); a subgraph trusts these headers only on
 * a request whose signature it has verified, never as sent by a client.
 */
export interface Viewer {
  /** The signed-in user's id; null for an anonymous caller. */
  userId: number | null;
  scopes: ReadonlySet<string>;
}

/** What a subgraph knows about one request besides its GraphQL document. */
export interface RequestInfo {
  viewer: Viewer;
  /** The router's request id, for logs that follow one request across services. */
  requestId: string;
  /** The client's address as the router saw it; null when unknown. */
  clientIp: string | null;
}

export const ANONYMOUS: Viewer = Object.freeze({ userId: null, scopes: new Set<string>() });

/** The headers the router sets on every subgraph request; every one of them is covered by the signature. */
export const IDENTITY_HEADERS = {
  userId: 'x-commerce-user-id',
  scopes: 'x-commerce-scopes',
  clientIp: 'x-commerce-client-ip',
  requestId: 'x-request-id',
} as const;

export const SIGNED_IDENTITY_HEADERS: readonly string[] = Object.values(IDENTITY_HEADERS);

export function viewer(userId: number | null, scopes: Iterable<string> = []): Viewer {
  return { userId, scopes: new Set(scopes) };
}

export function hasAnyScope(who: Viewer, scopes: readonly string[]): boolean {
  return scopes.some((scope) => who.scopes.has(scope));
}

/** The identity headers for a request made on behalf of `info` (router → subgraph). */
export function identityHeaders(info: RequestInfo): Record<string, string> {
  return {
    [IDENTITY_HEADERS.userId]: info.viewer.userId === null ? '' : String(info.viewer.userId),
    [IDENTITY_HEADERS.scopes]: [...info.viewer.scopes].join(' '),
    [IDENTITY_HEADERS.clientIp]: info.clientIp ?? '',
    [IDENTITY_HEADERS.requestId]: info.requestId,
  };
}

const USER_ID = /^[1-9]\d{0,9}$/;
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/; // RFC 6749 scope-token characters

/** Reads the identity headers of a request whose signature has been verified. */
export function requestInfoFromHeaders(headers: Record<string, string | string[] | undefined>, fallbackRequestId: string): RequestInfo {
  const read = (name: string) => {
    const value = headers[name];
    return (Array.isArray(value) ? value[0] : value) ?? '';
  };
  const userIdText = read(IDENTITY_HEADERS.userId);
  const userId = USER_ID.test(userIdText) ? Number(userIdText) : null;
  const scopes = read(IDENTITY_HEADERS.scopes).split(' ').filter((scope) => SCOPE.test(scope));
  return {
    viewer: userId === null && scopes.length === 0 ? ANONYMOUS : viewer(userId, scopes),
    requestId: read(IDENTITY_HEADERS.requestId) || fallbackRequestId,
    clientIp: read(IDENTITY_HEADERS.clientIp) || null,
  };
}
