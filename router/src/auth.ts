import { ANONYMOUS, ErrorCode, HttpError, viewer, type Viewer } from '@commerce/service-kit/core';
import { createRemoteJWKSet, errors, importSPKI, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

/**
 * Who is calling: the router verifies the bearer token of every request with jose and hands the
 * subgraphs only the result (user id, scopes), in headers it sets and signs itself. Any OIDC
 * provider works: point AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE at it, and
 * AUTH_USER_ID_CLAIM / AUTH_SCOPES_CLAIM at the claims that carry this graph's user id and scopes.
 */
export interface AuthOptions {
  /** Keys by URL (accounts' JWKS by default), fetched when a token names a key id not yet seen. */
  jwksUrl?: string;
  /** Or one static public key (SPKI PEM); used instead of a JWKS. */
  publicKey?: string;
  issuer: string;
  audience: string;
  /** Accepted JWS algorithms; asymmetric only (env.ts refuses others). */
  algorithms: readonly string[];
  clockToleranceSeconds: number;
  userIdClaim: string;
  scopesClaim: string;
}

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/;
const USER_ID = /^[1-9]\d{0,9}$/;

export type Authenticate = (authorization: string | undefined) => Promise<Viewer>;

export async function createAuthenticator(options: AuthOptions): Promise<Authenticate> {
  const keys = await keySource(options);
  const verifyOptions = {
    issuer: options.issuer,
    audience: options.audience,
    algorithms: [...options.algorithms],
    clockTolerance: options.clockToleranceSeconds,
    requiredClaims: ['exp'],
  };
  return async (authorization) => {
    if (authorization === undefined || authorization === '') return ANONYMOUS;
    const match = BEARER.exec(authorization);
    if (!match?.[1]) throw invalidToken('The Authorization header must be "Bearer <token>"');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1], keys, verifyOptions));
    } catch (error) {
      throw describeVerificationFailure(error);
    }
    const userId = payload[options.userIdClaim];
    if (typeof userId !== 'string' || !USER_ID.test(userId)) {
      throw invalidToken(`The token's ${options.userIdClaim} claim is not a user of this graph`);
    }
    return viewer(Number(userId), scopesOf(payload[options.scopesClaim]));
  };
}

/** Where a token's key comes from: always a lookup, so jwtVerify has one signature to call. */
async function keySource(options: AuthOptions): Promise<JWTVerifyGetKey> {
  // One static key; the algorithm allow-list still applies, and must match the key's type.
  if (options.publicKey) {
    const key = await importSPKI(options.publicKey, options.algorithms[0] ?? 'EdDSA');
    return () => key;
  }
  if (!options.jwksUrl) throw new Error('createAuthenticator needs a jwksUrl or a publicKey');
  // Keys are cached; an unknown key id (a rotation) triggers a refetch, at most once per 30 s.
  return createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: 2_000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
}

/** `scope` as a space-separated string (OAuth 2) or `scp`-style array; anything else is no scopes. */
function scopesOf(claim: unknown): string[] {
  if (typeof claim === 'string') return claim.split(' ').filter(Boolean);
  if (Array.isArray(claim)) return claim.filter((s): s is string => typeof s === 'string');
  return [];
}

function invalidToken(message: string): HttpError {
  return new HttpError(401, ErrorCode.UNAUTHENTICATED, message, {
    headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
  });
}

function describeVerificationFailure(error: unknown): HttpError {
  if (error instanceof errors.JWTExpired) return invalidToken('The token has expired');
  if (error instanceof errors.JWKSTimeout || (error instanceof Error && error.name === 'TypeError' && /fetch/i.test(error.message))) {
    // The key server (accounts) is unreachable: not the caller's fault, and worth a retry.
    return new HttpError(503, ErrorCode.SERVICE_UNAVAILABLE, 'Tokens cannot be verified right now; try again shortly', { headers: { 'retry-after': '5' } });
  }
  // Wrong key, issuer, audience, algorithm, signature or shape: one message, nothing to probe with.
  return invalidToken('The token is not valid');
}
