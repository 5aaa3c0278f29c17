// The router's token verification on its own (router/src/auth.ts): against a JWKS served here,
// counting its fetches, or a static key. Every refusal is a 401 with one message that says
// nothing to probe with, except an unreachable key server, which is the router's problem (503).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError } from '@commerce/service-kit/core';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAuthenticator, type AuthOptions } from '../src/auth.ts';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

const ISSUER = 'commerce-accounts';
const AUDIENCE = 'commerce-supergraph';
const now = () => Math.floor(Date.now() / 1000);

let first: KeyPair;
let second: KeyPair;
let es256: KeyPair;
/** What the JWKS endpoint serves, and how often it was asked. */
let published: JWK[] = [];
let fetches = 0;
let hang = false;
let jwks: Server;
let jwksUrl: string;

async function publicJwk(pair: KeyPair, kid: string, alg: string): Promise<JWK> {
  return { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
}

beforeAll(async () => {
  [first, second, es256] = await Promise.all([generateKeyPair('EdDSA'), generateKeyPair('EdDSA'), generateKeyPair('ES256')]);
  published = [await publicJwk(first, 'first', 'EdDSA')];
  jwks = createServer((_request, response) => {
    fetches++;
    if (hang) return;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
});
afterAll(async () => {
  jwks.closeAllConnections();
  await new Promise((resolve) => jwks.close(resolve));
});
afterEach(() => {
  vi.useRealTimers();
  hang = false;
});

const options = (extra: Partial<AuthOptions> = {}): AuthOptions => ({
  jwksUrl,
  issuer: ISSUER,
  audience: AUDIENCE,
  algorithms: ['EdDSA'],
  clockToleranceSeconds: 30,
  userIdClaim: 'sub',
  scopesClaim: 'scope',
  ...extra,
});

/** A token signed with `pair` (the first key by default) and valid unless `claims` say otherwise. */
async function token(claims: JWTPayload = {}, { pair = first, kid = 'first', alg = 'EdDSA' }: { pair?: KeyPair; kid?: string; alg?: string } = {}) {
  return `Bearer ${await new SignJWT({ sub: '7', iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 600, ...claims }).setProtectedHeader({ alg, kid }).sign(pair.privateKey)}`;
}

async function refusal(run: Promise<unknown>): Promise<HttpError> {
  const error = await run.then(
    () => {
      throw new Error('expected a refusal');
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(HttpError);
  return error as HttpError;
}

/** The caller as the kit describes one: a user id (or null) and a set of scopes. */
const viewerOf = (userId: number | null, scopes: string[]) => ({ userId, scopes: new Set(scopes) });

const INVALID = { status: 401, code: 'UNAUTHENTICATED', headers: { 'www-authenticate': 'Bearer error="invalid_token"' } };

describe('who is calling', () => {
  it('treats no Authorization header, or an empty one, as anonymous', async () => {
    const authenticate = await createAuthenticator(options());
    expect(await authenticate(undefined)).toEqual(viewerOf(null, []));
    expect(await authenticate('')).toEqual(viewerOf(null, []));
  });

  it('reads the user id and scopes of a valid token: a space-separated string or an array', async () => {
    const authenticate = await createAuthenticator(options());
    expect(await authenticate(await token({ scope: 'admin  orders:read' }))).toEqual(viewerOf(7, ['admin', 'orders:read']));
    expect(await authenticate(await token({ sub: '1', scope: ['admin', 3, 'x'] }))).toEqual(viewerOf(1, ['admin', 'x']));
    expect(await authenticate(await token({ sub: '2147483647' }))).toEqual(viewerOf(2147483647, []));
    expect(await authenticate(await token({ scope: { admin: true } }))).toEqual(viewerOf(7, []));
  });

  it("reads another provider's claims when told which carry the user id and the scopes", async () => {
    const authenticate = await createAuthenticator(options({ userIdClaim: 'https://commerce.example/user_id', scopesClaim: 'roles' }));
    const viewer = await authenticate(await token({ sub: 'auth0|5f1c', 'https://commerce.example/user_id': '42', roles: ['admin'], scope: 'ignored' }));
    expect(viewer).toEqual(viewerOf(42, ['admin']));
    const withoutClaim = await refusal(authenticate(await token({ sub: '42' })));
    expect(withoutClaim).toMatchObject({ ...INVALID, message: "The token's https://commerce.example/user_id claim is not a user of this graph" });
  });

  it.each([
    ['a UUID', 'f81d4fae-7dec-11d0'],
    ['zero', '0'],
    ['a leading zero', '07'],
    ['eleven digits', '12345678901'],
    ['a number instead of a string', 7],
  ])('refuses a subject that is not a user id (%s)', async (_what, sub) => {
    const authenticate = await createAuthenticator(options());
    const error = await refusal(authenticate(await token({ sub: sub as string })));
    expect(error).toMatchObject({ ...INVALID, message: "The token's sub claim is not a user of this graph" });
  });

  it.each([
    ['Basic credentials', 'Basic dXNlcjpwYXNz'],
    ['a lower-case scheme', 'bearer a.b.c'],
    ['no token', 'Bearer '],
    ['two parts', 'Bearer abc.def'],
    ['a trailing space', 'Bearer a.b.c '],
    ['characters outside base64url', 'Bearer a.b+c.d'],
  ])('refuses a malformed header (%s) before verifying anything', async (_what, header) => {
    const authenticate = await createAuthenticator(options());
    const before = fetches;
    const error = await refusal(authenticate(header));
    expect(error).toMatchObject({ ...INVALID, message: 'The Authorization header must be "Bearer <token>"' });
    expect(fetches).toBe(before);
  });
});

describe('what is refused', () => {
  it('says a token has expired, within the configured clock tolerance', async () => {
    const authenticate = await createAuthenticator(options({ clockToleranceSeconds: 30 }));
    expect(await authenticate(await token({ iat: now() - 600, exp: now() - 20 }))).toEqual(viewerOf(7, []));
    const error = await refusal(authenticate(await token({ iat: now() - 600, exp: now() - 40 })));
    expect(error).toMatchObject({ ...INVALID, message: 'The token has expired' });
  });

  it.each([
    ['another issuer', async () => token({ iss: 'someone-else' })],
    ['another audience', async () => token({ aud: 'another-api' })],
    ['no expiry', async () => `Bearer ${await new SignJWT({ sub: '7', iss: ISSUER, aud: AUDIENCE }).setProtectedHeader({ alg: 'EdDSA', kid: 'first' }).sign(first.privateKey)}`],
    ['a key the JWKS does not have', async () => token({}, { pair: second, kid: 'first' })],
    ['an algorithm outside the allow-list', async () => token({}, { pair: es256, kid: 'first', alg: 'ES256' })],
    ['a tampered payload', async () => {
      const [head, , signature] = (await token()).slice('Bearer '.length).split('.');
      return `Bearer ${head}.${Buffer.from(JSON.stringify({ sub: '1', scope: 'admin', iss: ISSUER, aud: AUDIENCE, exp: now() + 600 })).toString('base64url')}.${signature}`;
    }],
  ])('refuses %s with one message', async (_what, make) => {
    const authenticate = await createAuthenticator(options());
    const error = await refusal(authenticate(await make()));
    expect(error).toMatchObject({ ...INVALID, message: 'The token is not valid' });
  });
});

describe('keys', () => {
  it('fetches the JWKS again for an unknown key id, at most once every 30 s (a rotation)', async () => {
    const authenticate = await createAuthenticator(options());
    const start = fetches;
    await authenticate(await token());
    expect(fetches).toBe(start + 1);
    // The new key is published, and a token signed with it arrives at once: still cooling down.
    published = [await publicJwk(first, 'first', 'EdDSA'), await publicJwk(second, 'second', 'EdDSA')];
    vi.useFakeTimers({ toFake: ['Date'] });
    expect((await refusal(authenticate(await token({}, { pair: second, kid: 'second' }))))).toMatchObject({ ...INVALID, message: 'The token is not valid' });
    expect(fetches).toBe(start + 1);
    vi.setSystemTime(Date.now() + 31_000);
    expect(await authenticate(await token({}, { pair: second, kid: 'second' }))).toEqual(viewerOf(7, []));
    expect(fetches).toBe(start + 2);
    // Known keys are served from the cache.
    await authenticate(await token());
    await authenticate(await token({}, { pair: second, kid: 'second' }));
    expect(fetches).toBe(start + 2);
    published = [await publicJwk(first, 'first', 'EdDSA')];
  });

  it('answers 503 with Retry-After when the key server cannot be reached (not the caller’s fault)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const authenticate = await createAuthenticator(options({ jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json` }));
    const error = await refusal(authenticate(await token()));
    expect(error).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE', message: 'Tokens cannot be verified right now; try again shortly', headers: { 'retry-after': '5' } });
  });

  it('answers 503 when the key server does not answer within 2 s', async () => {
    const authenticate = await createAuthenticator(options());
    hang = true;
    const started = performance.now();
    const error = await refusal(authenticate(await token()));
    expect(error).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    expect(performance.now() - started).toBeLessThan(4_000);
  });

  it('verifies against one static public key instead of a JWKS, with the allow-list still applied', async () => {
    const authenticate = await createAuthenticator(options({ jwksUrl: undefined, publicKey: await exportSPKI(first.publicKey) }));
    const before = fetches;
    expect(await authenticate(await token({ scope: 'admin' }, { kid: 'anything' }))).toEqual(viewerOf(7, ['admin']));
    expect((await refusal(authenticate(await token({}, { pair: second })))).message).toBe('The token is not valid');
    expect(fetches).toBe(before);
    const p256 = await createAuthenticator(options({ jwksUrl: undefined, publicKey: await exportSPKI(es256.publicKey), algorithms: ['ES256'] }));
    expect(await p256(await token({}, { pair: es256, alg: 'ES256' }))).toEqual(viewerOf(7, []));
  });

  it('refuses every token when the allow-list of a static key is empty: no algorithm is no token', async () => {
    const authenticate = await createAuthenticator(options({ jwksUrl: undefined, publicKey: await exportSPKI(first.publicKey), algorithms: [] }));
    expect(await refusal(authenticate(await token()))).toMatchObject({ ...INVALID, message: 'The token is not valid' });
  });

  it('needs a JWKS URL or a public key', async () => {
    await expect(createAuthenticator(options({ jwksUrl: undefined }))).rejects.toThrow('createAuthenticator needs a jwksUrl or a publicKey');
  });
});

// A caller sends the same token with every request for its lifetime (15 minutes from accounts);
// checking its signature each time was the largest single cost of a small operation.
describe('tokens verified before', () => {
  /** Signature checks jose makes (WebCrypto's verify), counted from here on. */
  function signatureChecks() {
    const spy = vi.spyOn(crypto.subtle, 'verify');
    return { count: () => spy.mock.calls.length, [Symbol.dispose]: () => spy.mockRestore() };
  }

  it('are taken without a second signature check, with the same caller', async () => {
    const authenticate = await createAuthenticator(options());
    const bearer = await token({ scope: 'admin' });
    using checks = signatureChecks();
    expect(await authenticate(bearer)).toEqual(viewerOf(7, ['admin']));
    expect(checks.count()).toBe(1);
    expect(await authenticate(bearer)).toEqual(viewerOf(7, ['admin']));
    expect(await authenticate(bearer)).toEqual(viewerOf(7, ['admin']));
    expect(checks.count()).toBe(1);
    // Another token is another caller, verified on its own.
    expect(await authenticate(await token({ sub: '8' }))).toEqual(viewerOf(8, []));
    expect(checks.count()).toBe(2);
  });

  it('still expire, within the clock tolerance, as if verified again', async () => {
    const authenticate = await createAuthenticator(options({ clockToleranceSeconds: 30 }));
    const bearer = await token({ exp: now() + 60 });
    expect(await authenticate(bearer)).toEqual(viewerOf(7, []));
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 85_000);
    expect(await authenticate(bearer)).toEqual(viewerOf(7, []));
    vi.setSystemTime(Date.now() + 10_000);
    expect(await refusal(authenticate(bearer))).toMatchObject({ ...INVALID, message: 'The token has expired' });
  });

  it('are refused before their not-before time if the clock is set back', async () => {
    const authenticate = await createAuthenticator(options({ clockToleranceSeconds: 30 }));
    const bearer = await token({ nbf: now() - 5 });
    expect(await authenticate(bearer)).toEqual(viewerOf(7, []));
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() - 60_000);
    expect(await refusal(authenticate(bearer))).toMatchObject({ ...INVALID, message: 'The token is not valid' });
  });

  it('are refused once the renewed JWKS no longer has their key, though they were taken before', async () => {
    const authenticate = await createAuthenticator(options());
    published = [await publicJwk(first, 'first', 'EdDSA'), await publicJwk(second, 'rotated-out', 'EdDSA')];
    const bearer = await token({ exp: now() + 86_400 }, { pair: second, kid: 'rotated-out' });
    expect(await authenticate(bearer)).toEqual(viewerOf(7, []));
    published = [await publicJwk(first, 'first', 'EdDSA')];
    const before = fetches;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 9 * 60_000);
    expect(await authenticate(bearer)).toEqual(viewerOf(7, []));
    vi.setSystemTime(Date.now() + 62_000);
    expect(await refusal(authenticate(bearer))).toMatchObject({ ...INVALID, message: 'The token is not valid' });
    expect(fetches).toBeGreaterThan(before);
  });

  it('are not remembered when refused: every attempt with a forged token is checked again', async () => {
    const authenticate = await createAuthenticator(options());
    const forged = await token({}, { pair: second, kid: 'first' });
    using checks = signatureChecks();
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect(await refusal(authenticate(forged))).toMatchObject({ ...INVALID, message: 'The token is not valid' });
      expect(checks.count()).toBe(attempt);
    }
  });

  it('are bounded in number (the oldest is checked again), or not kept at all with 0', async () => {
    const two = await createAuthenticator(options({ verifiedTokens: 2 }));
    const [a, b, c] = await Promise.all([token({ sub: '1' }), token({ sub: '2' }), token({ sub: '3' })]);
    using checks = signatureChecks();
    for (const bearer of [a, b, c]) await two(bearer);
    expect(checks.count()).toBe(3);
    await two(c);
    await two(b);
    expect(checks.count()).toBe(3);
    expect(await two(a)).toEqual(viewerOf(1, []));
    expect(checks.count()).toBe(4);

    const none = await createAuthenticator(options({ verifiedTokens: 0 }));
    await none(a);
    await none(a);
    expect(checks.count()).toBe(6);
  });

  it('are remembered with a static key as well', async () => {
    const authenticate = await createAuthenticator(options({ jwksUrl: undefined, publicKey: await exportSPKI(first.publicKey) }));
    const bearer = await token({ scope: 'admin' });
    using checks = signatureChecks();
    await authenticate(bearer);
    expect(await authenticate(bearer)).toEqual(viewerOf(7, ['admin']));
    expect(checks.count()).toBe(1);
  });
});
