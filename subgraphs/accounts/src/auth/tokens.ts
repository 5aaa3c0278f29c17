import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { ALGORITHM, type SigningKeys } from './keys.ts';

/** What signing an access token needs; part of AccountsConfig. */
export interface TokenSettings {
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  kid: SigningKeys['kid'];
  privateKey: SigningKeys['privateKey'];
}

export interface AccessTokenSubject {
  userId: number;
  scopes: readonly string[];
}

export interface IssueOptions {
  /** When the token was issued (default now); with a past time and a short lifetime, an expired token for tests. */
  issuedAt?: Date;
  /** Lifetime in seconds (default the configured access-token TTL). */
  expiresInSeconds?: number;
}

export interface AccessToken {
  token: string;
  /** Seconds from issue to expiry. */
  expiresIn: number;
}

/**
 * A short-lived JWT access token (RFC 9068 shape): `iss`, `aud`, `sub` (the user id as a string),
 * `scope` (space-separated; empty for a customer), `iat`, `exp`, `jti`; header `alg: EdDSA`, `kid`
 * and `typ: at+jwt`, so it cannot be mistaken for another kind of JWT signed with the same key.
 */
export async function issueAccessToken(settings: TokenSettings, subject: AccessTokenSubject, options: IssueOptions = {}): Promise<AccessToken> {
  const issuedAt = Math.floor((options.issuedAt ?? new Date()).getTime() / 1000);
  const expiresIn = options.expiresInSeconds ?? settings.accessTokenTtlSeconds;
  const token = await new SignJWT({ scope: subject.scopes.join(' ') })
    .setProtectedHeader({ alg: ALGORITHM, kid: settings.kid, typ: 'at+jwt' })
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setSubject(String(subject.userId))
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + expiresIn)
    .setJti(randomUUID())
    .sign(settings.privateKey);
  return { token, expiresIn };
}

/** 256 random bits, base64url: 43 characters. */
const REFRESH_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** A new opaque refresh token and the hash that is all the database ever keeps of it. */
export function newRefreshToken(): { token: string; hash: TokenHash } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: sha256(token) };
}

/**
 * The stored form of a presented refresh token; null when it cannot be one of ours (wrong shape),
 * so garbage never reaches the database. A plain SHA-256 suffices: the token has 256 bits of
 * entropy, so there is nothing to guess and no need for a slow or salted hash.
 */
export function hashRefreshToken(token: string): TokenHash | null {
  return REFRESH_TOKEN.test(token) ? sha256(token) : null;
}

/** What the database stores (Prisma's `Bytes`). */
export type TokenHash = Uint8Array<ArrayBuffer>;

function sha256(text: string): TokenHash {
  return Uint8Array.from(createHash('sha256').update(text).digest());
}
