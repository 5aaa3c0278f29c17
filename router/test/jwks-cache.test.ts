// How long the router trusts a JWKS it has fetched (router/src/auth.ts), which the README's key
// rotation relies on: a new key is published everywhere, then the router is given up to 10 minutes
// (its cache's age) before tokens signed with it appear; a key dropped after a leak stops verifying
// once that cache is renewed.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError } from '@commerce/service-kit/core';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAuthenticator } from '../src/auth.ts';

const ISSUER = 'commerce-accounts';
const AUDIENCE = 'commerce-supergraph';

let pair: Awaited<ReturnType<typeof generateKeyPair>>;
let published: JWK[] = [];
let fetches = 0;
let jwks: Server;
let jwksUrl: string;

beforeAll(async () => {
  pair = await generateKeyPair('EdDSA');
  jwks = createServer((_request, response) => {
    fetches++;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
});
afterAll(async () => {
  jwks.closeAllConnections();
  await new Promise((resolve) => jwks.close(resolve));
});
afterEach(() => vi.useRealTimers());

/** A token valid for a day, so only the key decides (the clock is moved below). */
async function token() {
  const now = Math.floor(Date.now() / 1000);
  return `Bearer ${await new SignJWT({ sub: '7', iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 86_400 })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'leaked' })
    .sign(pair.privateKey)}`;
}

describe('the router’s JWKS cache', () => {
  it('keeps verifying a dropped key for less than 10 minutes, and refuses it once the cache is renewed', async () => {
    published = [{ ...(await exportJWK(pair.publicKey)), kid: 'leaked', alg: 'EdDSA', use: 'sig' }];
    const authenticate = await createAuthenticator({
      jwksUrl,
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['EdDSA'],
      clockToleranceSeconds: 30,
      userIdClaim: 'sub',
      scopesClaim: 'scope',
    });
    const bearer = await token();
    const start = fetches;
    expect(await authenticate(bearer)).toEqual({ userId: 7, scopes: new Set() });
    expect(fetches).toBe(start + 1);

    // The key leaks and accounts stops publishing it.
    published = [];
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 9 * 60_000);
    expect(await authenticate(bearer)).toEqual({ userId: 7, scopes: new Set() });
    expect(fetches).toBe(start + 1);

    vi.setSystemTime(Date.now() + 61_000 + 1_000);
    const refusal = await authenticate(bearer).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(HttpError);
    expect(refusal).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    expect(fetches).toBeGreaterThan(start + 1);
  });
});
