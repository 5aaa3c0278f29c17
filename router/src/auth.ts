import { ANONYMOUS, ErrorCode, HttpError, viewer, type Viewer } from '@commerce/service-kit/core';
import {
  createRemoteJWKSet,
  errors,
  importSPKI,
  jwtVerify,
  type CryptoKey,
  type FlattenedJWSInput,
  type JWTHeaderParameters,
  type JWTVerifyGetKey,
  type KeyObject,
} from 'jose';

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
  /** Verified tokens remembered (oldest dropped first); 0 verifies every request from scratch. */
  verifiedTokens?: number;
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
  const verified = new Map<string, Verified>();
  const capacity = options.verifiedTokens ?? 10_000;

  async function verify(token: string): Promise<Viewer> {
    const result = await jwtVerify(token, keys, verifyOptions).catch((error: unknown) => {
      throw describeVerificationFailure(error);
    });
    const { payload, protectedHeader, key } = result;
    const userId = payload[options.userIdClaim];
    if (typeof userId !== 'string' || !USER_ID.test(userId)) {
      throw invalidToken(`The token's ${options.userIdClaim} claim is not a user of this graph`);
    }
    const caller = viewer(Number(userId), scopesOf(payload[options.scopesClaim]));
    if (capacity > 0 && typeof payload.exp === 'number') {
      if (verified.size >= capacity) verified.delete(verified.keys().next().value!);
      verified.set(token, { caller, key, header: protectedHeader, jws: compactParts(token), exp: payload.exp, nbf: payload.nbf });
    }
    return caller;
  }

  // A token seen before is taken as verified only while the key source still hands out the very
  // key that verified it (a renewed JWKS makes new key objects, so a dropped key ends it as it
  // ends verification) and its times still pass; anything else goes through jwtVerify again.
  async function remembered(token: string): Promise<Viewer | undefined> {
    const entry = verified.get(token);
    if (!entry) return undefined;
    const now = Math.floor(Date.now() / 1000);
    const tolerance = options.clockToleranceSeconds;
    const current = await Promise.resolve(keys(entry.header, entry.jws)).catch(() => undefined);
    if (current === entry.key && entry.exp > now - tolerance && (entry.nbf === undefined || entry.nbf <= now + tolerance)) return entry.caller;
    verified.delete(token);
    return undefined;
  }

  return async (authorization) => {
    if (authorization === undefined || authorization === '') return ANONYMOUS;
    const match = BEARER.exec(authorization);
    if (!match?.[1]) throw invalidToken('The Authorization header must be "Bearer <token>"');
    return (await remembered(match[1])) ?? (await verify(match[1]));
  };
}

/** What a successful verification established, and what must still hold to reuse it. */
interface Verified {
  caller: Viewer;
  key: CryptoKey | KeyObject | Uint8Array;
  header: JWTHeaderParameters;
  jws: FlattenedJWSInput;
  exp: number;
  nbf: number | undefined;
}

function compactParts(token: string): FlattenedJWSInput {
  const [encodedHeader = '', payload = '', signature = ''] = token.split('.');
  return { protected: encodedHeader, payload, signature };
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
