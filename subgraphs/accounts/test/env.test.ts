import { generateKeyPairSync } from 'node:crypto';
import { ConfigError } from '@commerce/service-kit';
import { calculateJwkThumbprint } from 'jose';
import { describe, expect, it } from 'vitest';
import { accountsConfigFromEnv } from '../src/auth/config.ts';
import { loadAccountsEnv } from '../src/env.ts';
import { issueAccessToken, publicJwkOf } from '../src/server.ts';
import { recordingLogger, verifyAccessToken } from './support.ts';

const ed25519Pem = () => generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

function configError(source: Record<string, string>): string {
  try {
    loadAccountsEnv(source);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('accounts env', () => {
  it('refuses to start in production without a signing key, and says how to make one', () => {
    const message = configError({ NODE_ENV: 'production' });
    expect(message).toContain('ACCOUNTS_JWT_PRIVATE_KEY: is required in production');
    expect(message).toContain('openssl genpkey -algorithm ed25519');
  });

  it('reports every problem at once and never echoes a key', () => {
    const secret = 'MC4CAQAwBQYDK2VwBCIEIHIGHLYSECRETVALUEXXXXXXXXXXXXXXXXXXXX';
    const previousWithPrivate = JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'abc', d: 'PRIVATEPART', kid: 'old' }] });
    const message = configError({
      NODE_ENV: 'production',
      ACCOUNTS_JWT_PRIVATE_KEY: secret,
      ACCOUNTS_JWT_PREVIOUS_PUBLIC_KEYS: previousWithPrivate,
      ACCOUNTS_ACCESS_TOKEN_TTL_SECONDS: '5',
      ACCOUNTS_SESSION_MAX_AGE_SECONDS: '5',
    });
    expect(message).toContain('ACCOUNTS_JWT_PRIVATE_KEY: is not a PKCS#8 PEM private key or a private JWK');
    expect(message).toContain(`(got ${secret.length} characters)`);
    expect(message).toContain('ACCOUNTS_JWT_PREVIOUS_PUBLIC_KEYS: keys[0] is a private key; list only public keys here');
    expect(message).toContain('ACCOUNTS_ACCESS_TOKEN_TTL_SECONDS');
    expect(message).toContain('ACCOUNTS_SESSION_MAX_AGE_SECONDS');
    expect(message).not.toContain('HIGHLYSECRET');
    expect(message).not.toContain('PRIVATEPART');
  });

  it('refuses a key of another type', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(configError({ NODE_ENV: 'production', ACCOUNTS_JWT_PRIVATE_KEY: rsa })).toContain('ACCOUNTS_JWT_PRIVATE_KEY: must be an Ed25519 key (got rsa');
  });

  it('takes a PEM (also with \\n escapes, as one env-file line) or a private JWK, with defaults for the rest', async () => {
    const pem = ed25519Pem();
    for (const text of [pem, pem.replaceAll('\n', '\\n')]) {
      const env = loadAccountsEnv({ NODE_ENV: 'production', ACCOUNTS_JWT_PRIVATE_KEY: text });
      expect(env).toMatchObject({
        production: true,
        issuer: 'commerce-accounts',
        audience: 'commerce-supergraph',
        keyId: undefined,
        previousPublicKeys: [],
        accessTokenTtlSeconds: 900,
        refreshTokenTtlSeconds: 2_592_000,
        sessionMaxAgeSeconds: 7_776_000,
        throttle: { failuresPerEmail: 5, failuresPerIp: 50, windowSeconds: 900 },
      });
      expect(env.privateKey?.asymmetricKeyType).toBe('ed25519');
    }
    const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    expect(loadAccountsEnv({ ACCOUNTS_JWT_PRIVATE_KEY: JSON.stringify(jwk) }).privateKey?.asymmetricKeyType).toBe('ed25519');
  });

  it('builds a production config: thumbprint key id, previous keys published, no development passwords', async () => {
    const oldKey = generateKeyPairSync('ed25519').privateKey;
    const previous = await publicJwkOf(oldKey);
    const env = loadAccountsEnv({
      NODE_ENV: 'production',
      ACCOUNTS_JWT_PRIVATE_KEY: ed25519Pem(),
      ACCOUNTS_JWT_PREVIOUS_PUBLIC_KEYS: JSON.stringify({ keys: [previous] }),
      AUTH_ISSUER: 'https://accounts.example.com',
      AUTH_AUDIENCE: 'shop-api',
      ACCOUNTS_ACCESS_TOKEN_TTL_SECONDS: '300',
    });
    const logger = recordingLogger();
    const config = await accountsConfigFromEnv(env, { redis: null, logger });
    expect(config.kid).toBe(await calculateJwkThumbprint(config.publicJwks.keys[0]!));
    expect(config.publicJwks.keys.map((key) => key.kid)).toEqual([config.kid, previous.kid]);
    expect(config.seedDevelopmentPasswords).toBe(false);
    expect(logger.lines).toEqual([]);
    const { token } = await issueAccessToken(config, { userId: 4, scopes: [] });
    const { payload } = await verifyAccessToken(token, config.publicJwks, config);
    expect(payload).toMatchObject({ iss: 'https://accounts.example.com', aud: 'shop-api', sub: '4' });
    expect(payload.exp! - payload.iat!).toBe(300);
  });

  it('uses ACCOUNTS_JWT_KEY_ID when given, and refuses one a previous key already has', async () => {
    const pem = ed25519Pem();
    const named = await accountsConfigFromEnv(loadAccountsEnv({ ACCOUNTS_JWT_PRIVATE_KEY: pem, ACCOUNTS_JWT_KEY_ID: '2026-12' }), { redis: null, logger: recordingLogger() });
    expect(named.kid).toBe('2026-12');
    const previous = { ...(await publicJwkOf(generateKeyPairSync('ed25519').privateKey)), kid: '2026-12' };
    const clashing = loadAccountsEnv({ ACCOUNTS_JWT_PRIVATE_KEY: pem, ACCOUNTS_JWT_KEY_ID: '2026-12', ACCOUNTS_JWT_PREVIOUS_PUBLIC_KEYS: JSON.stringify({ keys: [previous] }) });
    await expect(accountsConfigFromEnv(clashing, { redis: null, logger: recordingLogger() })).rejects.toThrow(/two published keys have the key id "2026-12"/);
  });

  it('in development without a key, makes one at start and warns that tokens will not survive a restart', async () => {
    const env = loadAccountsEnv({});
    expect(env.privateKey).toBeNull();
    const logger = recordingLogger();
    const config = await accountsConfigFromEnv(env, { redis: null, logger });
    expect(config.seedDevelopmentPasswords).toBe(true);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatchObject({ level: 'warn', message: expect.stringContaining('tokens will not survive a restart') });
    const { token } = await issueAccessToken(config, { userId: 1, scopes: ['admin'] });
    expect((await verifyAccessToken(token, config.publicJwks, config)).payload.scope).toBe('admin');
  });

  it('signs with a Node KeyObject as well (tools that hold the PEM, like the benchmark)', async () => {
    const key = generateKeyPairSync('ed25519').privateKey;
    const jwk = await publicJwkOf(key);
    const settings = { issuer: 'commerce-accounts', audience: 'commerce-supergraph', accessTokenTtlSeconds: 60, kid: jwk.kid!, privateKey: key };
    const { token } = await issueAccessToken(settings, { userId: 9, scopes: [] });
    expect((await verifyAccessToken(token, { keys: [jwk] }, settings)).payload.sub).toBe('9');
  });

  it('treats empty values as unset', () => {
    expect(loadAccountsEnv({ ACCOUNTS_JWT_PRIVATE_KEY: '', AUTH_ISSUER: '', ACCOUNTS_ACCESS_TOKEN_TTL_SECONDS: '' })).toMatchObject({
      privateKey: null,
      issuer: 'commerce-accounts',
      accessTokenTtlSeconds: 900,
    });
  });
});
