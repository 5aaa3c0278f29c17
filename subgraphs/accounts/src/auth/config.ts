import { randomUUID } from 'node:crypto';
import { ConfigError, createLogger, type Logger, type SubgraphRuntime } from '@commerce/service-kit';
import type { JWK } from 'jose';
import type { AccountsEnv } from '../env.ts';
import { generatePrivateKey, signingKeys, type SigningKeys } from './keys.ts';
import type { SessionSettings } from './sessions.ts';
import { createSignInThrottle, DEFAULT_THROTTLE_LIMITS, type SignInThrottle, type ThrottleLimits } from './throttle.ts';
import type { TokenSettings } from './tokens.ts';

/** Everything accounts needs to be an identity provider; `createAccounts(config)` builds the service from it. */
export interface AccountsConfig extends TokenSettings, SigningKeys, SessionSettings {
  throttle: SignInThrottle;
  /** Seeded users get the development password; false in production, where they get none. */
  seedDevelopmentPasswords: boolean;
  logger: Logger;
}

export const DEFAULT_ISSUER = 'commerce-accounts';
export const DEFAULT_AUDIENCE = 'commerce-supergraph';
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const DEFAULT_REFRESH_TOKEN_TTL_SECONDS = 30 * 86_400;
export const DEFAULT_SESSION_MAX_AGE_SECONDS = 90 * 86_400;

/** The configuration of a running service, from its validated env and what its process offers. */
export async function accountsConfigFromEnv(env: AccountsEnv, runtime: Pick<SubgraphRuntime, 'redis' | 'logger'>): Promise<AccountsConfig> {
  let privateKey = env.privateKey;
  if (!privateKey) {
    // loadAccountsEnv refuses production without a key; this is development running accounts alone.
    runtime.logger.warn(
      'ACCOUNTS_JWT_PRIVATE_KEY is not set: signing with a key made at start, so tokens will not survive a restart ' +
        '(make a lasting one with `openssl genpkey -algorithm ed25519`)',
    );
    privateKey = generatePrivateKey();
  }
  let keys: SigningKeys;
  try {
    keys = await signingKeys(privateKey, { keyId: env.keyId, previous: env.previousPublicKeys });
  } catch (error) {
    throw new ConfigError(`Invalid configuration:\n  - ACCOUNTS_JWT_KEY_ID / ACCOUNTS_JWT_PREVIOUS_PUBLIC_KEYS: ${(error as Error).message}`);
  }
  return {
    ...keys,
    issuer: env.issuer,
    audience: env.audience,
    accessTokenTtlSeconds: env.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: env.refreshTokenTtlSeconds,
    sessionMaxAgeSeconds: env.sessionMaxAgeSeconds,
    throttle: createSignInThrottle({ limits: env.throttle, redis: runtime.redis }),
    seedDevelopmentPasswords: !env.production,
    logger: runtime.logger,
    now: () => new Date(),
  };
}

export interface TestConfigOptions {
  /** Public keys to publish beside the fresh current one (a rotation in progress). */
  previousPublicKeys?: JWK[];
  throttleLimits?: ThrottleLimits;
  /** Share throttle budgets through Redis (with a unique key prefix per config unless one is given). */
  redis?: SubgraphRuntime['redis'];
  throttleKeyPrefix?: string;
  accessTokenTtlSeconds?: number;
  refreshTokenTtlSeconds?: number;
  sessionMaxAgeSeconds?: number;
  now?: () => Date;
  logger?: Logger;
}

/**
 * A configuration for tests: a fresh Ed25519 key (so two configs never trust each other's tokens),
 * default issuer, audience and lifetimes, and an in-memory throttle of its own.
 */
export async function testAccountsConfig(options: TestConfigOptions = {}): Promise<AccountsConfig> {
  const keys = await signingKeys(generatePrivateKey(), { previous: options.previousPublicKeys ?? [] });
  return {
    ...keys,
    issuer: DEFAULT_ISSUER,
    audience: DEFAULT_AUDIENCE,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: options.refreshTokenTtlSeconds ?? DEFAULT_REFRESH_TOKEN_TTL_SECONDS,
    sessionMaxAgeSeconds: options.sessionMaxAgeSeconds ?? DEFAULT_SESSION_MAX_AGE_SECONDS,
    throttle: createSignInThrottle({
      limits: options.throttleLimits ?? DEFAULT_THROTTLE_LIMITS,
      redis: options.redis,
      keyPrefix: options.throttleKeyPrefix ?? `test:${randomUUID()}:signin-failures`,
    }),
    seedDevelopmentPasswords: true,
    logger: options.logger ?? createLogger('accounts', 'silent'),
    now: options.now ?? (() => new Date()),
  };
}
