import type { KeyObject } from 'node:crypto';
import { loadEnv } from '@commerce/service-kit';
import type { JWK } from 'jose';
import { z } from 'zod';
import { DEFAULT_ACCESS_TOKEN_TTL_SECONDS, DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEFAULT_REFRESH_TOKEN_TTL_SECONDS, DEFAULT_SESSION_MAX_AGE_SECONDS } from './auth/config.ts';
import { parsePrivateKey, parsePublicKeySet } from './auth/keys.ts';
import { DEFAULT_THROTTLE_LIMITS } from './auth/throttle.ts';

/**
 * accounts' own variables (the kit reads the ones every subgraph has). The only file in accounts
 * that reads process.env. Every problem is reported at once, and no secret value is ever quoted:
 * the kit's loadEnv gives the length of anything named like a key instead.
 */

/** An empty string counts as unset: `FOO= npm start` means "use the default". */
const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);
const optionalText = (max: number) => z.preprocess(unsetIfEmpty, z.string().min(1).max(max).optional());
const boundedInt = (fallback: number, min: number, max: number) => z.preprocess(unsetIfEmpty, z.coerce.number().int().min(min).max(max).default(fallback));

const MAKE_KEY = 'make one with `openssl genpkey -algorithm ed25519` and pass the PEM (the public half is served at /.well-known/jwks.json)';

function accountsEnvSchema(production: boolean) {
  const privateKeyText = production
    ? z.string({ error: `is required in production: the Ed25519 private key access tokens are signed with; ${MAKE_KEY}` }).min(1, `must not be empty; ${MAKE_KEY}`)
    : z.preprocess(unsetIfEmpty, z.string().optional());
  return z.object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    AUTH_ISSUER: optionalText(200).default(DEFAULT_ISSUER),
    AUTH_AUDIENCE: optionalText(200).default(DEFAULT_AUDIENCE),
    ACCOUNTS_JWT_PRIVATE_KEY: privateKeyText.transform((text, context): KeyObject | null => {
      if (text === undefined) return null;
      try {
        return parsePrivateKey(text);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
    ACCOUNTS_JWT_KEY_ID: z.preprocess(unsetIfEmpty, z.string().regex(/^[\x21-\x7e]{1,100}$/, 'must be 1 to 100 printable ASCII characters').optional()),
    ACCOUNTS_JWT_PREVIOUS_PUBLIC_KEYS: z.preprocess(unsetIfEmpty, z.string().optional()).transform((text, context): JWK[] => {
      if (text === undefined) return [];
      try {
        return parsePublicKeySet(text);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
    ACCOUNTS_ACCESS_TOKEN_TTL_SECONDS: boundedInt(DEFAULT_ACCESS_TOKEN_TTL_SECONDS, 60, 86_400),
    ACCOUNTS_REFRESH_TOKEN_TTL_SECONDS: boundedInt(DEFAULT_REFRESH_TOKEN_TTL_SECONDS, 300, 366 * 86_400),
    ACCOUNTS_SESSION_MAX_AGE_SECONDS: boundedInt(DEFAULT_SESSION_MAX_AGE_SECONDS, 300, 5 * 366 * 86_400),
    ACCOUNTS_SIGNIN_MAX_FAILURES_PER_EMAIL: boundedInt(DEFAULT_THROTTLE_LIMITS.failuresPerEmail, 1, 1_000),
    ACCOUNTS_SIGNIN_MAX_FAILURES_PER_IP: boundedInt(DEFAULT_THROTTLE_LIMITS.failuresPerIp, 1, 1_000_000),
    ACCOUNTS_SIGNIN_FAILURE_WINDOW_SECONDS: boundedInt(DEFAULT_THROTTLE_LIMITS.windowSeconds, 1, 86_400),
  });
}

export interface AccountsEnv {
  production: boolean;
  issuer: string;
  audience: string;
  /** Null in development when unset: the service makes a key at start. Never null in production. */
  privateKey: KeyObject | null;
  keyId: string | undefined;
  previousPublicKeys: JWK[];
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  sessionMaxAgeSeconds: number;
  throttle: { failuresPerEmail: number; failuresPerIp: number; windowSeconds: number };
}

/** Throws the kit's ConfigError naming every invalid variable. */
export function loadAccountsEnv(source: Record<string, string | undefined> = process.env): AccountsEnv {
  const env = loadEnv(accountsEnvSchema(isProduction(source)), source);
  return {
    production: env.NODE_ENV === 'production',
    issuer: env.AUTH_ISSUER,
    audience: env.AUTH_AUDIENCE,
    privateKey: env.ACCOUNTS_JWT_PRIVATE_KEY,
    keyId: env.ACCOUNTS_JWT_KEY_ID,
    previousPublicKeys: env.ACCOUNTS_JWT_PREVIOUS_PUBLIC_KEYS,
    accessTokenTtlSeconds: env.ACCOUNTS_ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: env.ACCOUNTS_REFRESH_TOKEN_TTL_SECONDS,
    sessionMaxAgeSeconds: env.ACCOUNTS_SESSION_MAX_AGE_SECONDS,
    throttle: {
      failuresPerEmail: env.ACCOUNTS_SIGNIN_MAX_FAILURES_PER_EMAIL,
      failuresPerIp: env.ACCOUNTS_SIGNIN_MAX_FAILURES_PER_IP,
      windowSeconds: env.ACCOUNTS_SIGNIN_FAILURE_WINDOW_SECONDS,
    },
  };
}

/** Whether this process runs in production (seeding then sets no development passwords). */
export function isProduction(source: Record<string, string | undefined> = process.env): boolean {
  return source.NODE_ENV === 'production';
}
