// The request signature scheme (signing.ts) at its edges: what is covered, the exact window, the
// accepted shapes of each header, and the nonce store that catches replays.
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSignatureVerifier, memoryNonceStore, MIN_SECRET_LENGTH, SIGNATURE_HEADERS, signatureHeaders, type SignableRequest } from '../src/index.ts';

const SECRET = 'the-router-and-notes-share-this-secret';
const NOW = 1_765_000_000_000;
const body = '{"query":"{ notes { id } }"}';
const identity = { 'x-commerce-user-id': '7', 'x-commerce-scopes': 'admin', 'x-commerce-client-ip': '10.0.0.9', 'x-request-id': 'r-1' };

function signed(extra: Partial<SignableRequest> = {}, at = NOW, secret = SECRET): SignableRequest {
  const request = { method: 'POST', path: '/graphql', headers: { ...identity }, body, ...extra };
  return { ...request, headers: { ...request.headers, ...signatureHeaders(secret, request, at) } };
}

const verifier = (now = NOW, windowMs?: number) => createSignatureVerifier({ secret: SECRET, nonces: memoryNonceStore(), now: () => now, ...(windowMs ? { windowMs } : {}) });

afterEach(() => vi.useRealTimers());

describe('signatureHeaders', () => {
  it('sends a 13-digit millisecond timestamp, a 128-bit base64url nonce and a v1 HMAC-SHA256 over the documented canonical string', () => {
    const request = { method: 'post', path: '/graphql?x=1', headers: { ...identity, 'x-other': 'not covered' }, body };
    const headers = signatureHeaders(SECRET, request, NOW);
    expect(Object.keys(headers).sort()).toEqual([SIGNATURE_HEADERS.nonce, SIGNATURE_HEADERS.signature, SIGNATURE_HEADERS.timestamp].sort());
    expect(headers[SIGNATURE_HEADERS.timestamp]).toBe(String(NOW));
    const nonce = headers[SIGNATURE_HEADERS.nonce]!;
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const canonical = `v1\nPOST\n/graphql?x=1\n${NOW}\n${nonce}\nx-commerce-user-id:7\nx-commerce-scopes:admin\nx-commerce-client-ip:10.0.0.9\nx-request-id:r-1\n${body}`;
    expect(headers[SIGNATURE_HEADERS.signature]).toBe(`v1=${createHmac('sha256', SECRET).update(canonical).digest('base64url')}`);
    expect(signatureHeaders(SECRET, request, NOW)[SIGNATURE_HEADERS.nonce]).not.toBe(nonce);
  });

  it('never repeats a nonce, across the batches its random bytes are drawn in', () => {
    const request = { method: 'POST', path: '/graphql', headers: identity, body };
    const nonces = Array.from({ length: 2_000 }, () => signatureHeaders(SECRET, request, NOW)[SIGNATURE_HEADERS.nonce]!);
    expect(new Set(nonces).size).toBe(2_000);
    for (const nonce of nonces) expect(nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // 128 random bits each: no fixed bytes between consecutive nonces (a pool read at a stuck offset would repeat them).
    expect(new Set(nonces.map((nonce) => nonce.slice(0, 4))).size).toBeGreaterThan(1_900);
  });

  it('signs missing identity headers as empty, and repeated ones joined by commas', () => {
    const headers = signatureHeaders(SECRET, { method: 'POST', path: '/', headers: { 'x-commerce-scopes': ['a', 'b'] }, body: '' }, NOW);
    const canonical = `v1\nPOST\n/\n${NOW}\n${headers[SIGNATURE_HEADERS.nonce]}\nx-commerce-user-id:\nx-commerce-scopes:a,b\nx-commerce-client-ip:\nx-request-id:\n`;
    expect(headers[SIGNATURE_HEADERS.signature]).toBe(`v1=${createHmac('sha256', SECRET).update(canonical).digest('base64url')}`);
  });

  it('asks for secrets of at least 32 characters', () => {
    expect(MIN_SECRET_LENGTH).toBe(32);
  });
});

describe('createSignatureVerifier', () => {
  it('accepts a signature up to exactly 30 s away from its clock, either way, and not a millisecond more', async () => {
    for (const skew of [-30_000, 0, 30_000]) expect(await verifier(NOW + skew)(signed()), String(skew)).toEqual({ ok: true });
    for (const skew of [-30_001, 30_001]) expect(await verifier(NOW + skew)(signed()), String(skew)).toEqual({ ok: false, reason: 'stale signature' });
  });

  it('takes another window when told, and its own clock by default', async () => {
    expect(await verifier(NOW + 5_000, 5_000)(signed())).toEqual({ ok: true });
    expect(await verifier(NOW + 5_001, 5_000)(signed())).toEqual({ ok: false, reason: 'stale signature' });
    const real = createSignatureVerifier({ secret: SECRET, nonces: memoryNonceStore() });
    expect(await real(signed({}, Date.now()))).toEqual({ ok: true });
    expect(await real(signed({}, Date.now() - 60_000))).toEqual({ ok: false, reason: 'stale signature' });
  });

  it('covers the method in any case, the path with its query, each identity header and the body', async () => {
    const verify = verifier();
    const request = signed({ method: 'post' });
    expect(await verify({ ...request, method: 'POST' })).toEqual({ ok: true });
    for (const [part, tampered] of [
      ['path', { ...signed(), path: '/graphql?' }],
      ['request id', { ...signed(), headers: { ...signed().headers, 'x-request-id': 'r-2' } }],
      ['body', { ...signed(), body: `${body} ` }],
    ] as const) {
      expect(await verify(tampered), part).toEqual({ ok: false, reason: 'bad signature' });
    }
    // Headers outside the identity set are not covered: a proxy may add them.
    expect(await verify({ ...signed(), headers: { ...signed().headers, 'x-forwarded-for': '1.2.3.4' } })).toEqual({ ok: true });
  });

  it.each([
    ['no signature', { [SIGNATURE_HEADERS.signature]: undefined }, 'unsigned'],
    ['no timestamp', { [SIGNATURE_HEADERS.timestamp]: undefined }, 'unsigned'],
    ['no nonce', { [SIGNATURE_HEADERS.nonce]: undefined }, 'unsigned'],
    ['an empty signature', { [SIGNATURE_HEADERS.signature]: '' }, 'unsigned'],
    ['repeated signature headers', { [SIGNATURE_HEADERS.signature]: ['v1=a', 'v1=b'] }, 'unsigned'],
    ['a 12-digit timestamp', { [SIGNATURE_HEADERS.timestamp]: String(NOW).slice(1) }, 'malformed signature'],
    ['a timestamp with a sign', { [SIGNATURE_HEADERS.timestamp]: `+${String(NOW).slice(1)}` }, 'malformed signature'],
    ['a 15-character nonce', { [SIGNATURE_HEADERS.nonce]: 'a'.repeat(15) }, 'malformed signature'],
    ['a 65-character nonce', { [SIGNATURE_HEADERS.nonce]: 'a'.repeat(65) }, 'malformed signature'],
    ['a nonce with other characters', { [SIGNATURE_HEADERS.nonce]: `${'a'.repeat(20)}+/` }, 'malformed signature'],
    ['another version', { [SIGNATURE_HEADERS.signature]: 'v2=abc' }, 'malformed signature'],
    ['a signature of another length', { [SIGNATURE_HEADERS.signature]: 'v1=abc' }, 'bad signature'],
  ])('refuses %s', async (_what, override, reason) => {
    const request = signed();
    expect(await verifier()({ ...request, headers: { ...request.headers, ...override } })).toEqual({ ok: false, reason });
  });

  it('accepts nonces of 16 and of 64 characters', async () => {
    for (const length of [16, 64]) {
      const request = signed();
      const nonce = 'n'.repeat(length - 1) + String(length % 10);
      const resigned = { ...request, headers: { ...request.headers } };
      // Re-sign with the chosen nonce: the MAC covers it.
      const canonical = `v1\nPOST\n/graphql\n${NOW}\n${nonce}\nx-commerce-user-id:7\nx-commerce-scopes:admin\nx-commerce-client-ip:10.0.0.9\nx-request-id:r-1\n${body}`;
      resigned.headers[SIGNATURE_HEADERS.nonce] = nonce;
      resigned.headers[SIGNATURE_HEADERS.signature] = `v1=${createHmac('sha256', SECRET).update(canonical).digest('base64url')}`;
      expect(await verifier()(resigned), String(length)).toEqual({ ok: true });
    }
  });

  it('claims the nonce for twice the window, and only for a valid signature', async () => {
    const claims: [string, number][] = [];
    const verify = createSignatureVerifier({ secret: SECRET, nonces: { claim: async (nonce, ttl) => (claims.push([nonce, ttl]), true) }, now: () => NOW, windowMs: 10_000 });
    const request = signed();
    await verify(request);
    await verify({ ...request, body: 'tampered' });
    expect(claims).toEqual([[request.headers[SIGNATURE_HEADERS.nonce], 20_000]]);
  });
});

describe('memoryNonceStore', () => {
  it('remembers a nonce for at least its ttl and at most twice that', async () => {
    vi.useFakeTimers();
    const store = memoryNonceStore(1_000);
    expect(await store.claim('a', 1_000)).toBe(true);
    expect(await store.claim('a', 1_000)).toBe(false);
    vi.advanceTimersByTime(1_000);
    // Rotated once: still remembered (previous generation).
    expect(await store.claim('a', 1_000)).toBe(false);
    expect(await store.claim('b', 1_000)).toBe(true);
    vi.advanceTimersByTime(1_000);
    // Rotated twice: 'a' is gone, 'b' is in the previous generation.
    expect(await store.claim('a', 1_000)).toBe(true);
    expect(await store.claim('b', 1_000)).toBe(false);
    store.close();
    vi.advanceTimersByTime(5_000);
    // Closed: no more rotations.
    expect(await store.claim('a', 1_000)).toBe(false);
  });

  it('rotates every two signature windows by default', async () => {
    vi.useFakeTimers();
    const store = memoryNonceStore();
    await store.claim('x', 0);
    vi.advanceTimersByTime(59_999);
    expect(await store.claim('y', 0)).toBe(true);
    vi.advanceTimersByTime(1);
    vi.advanceTimersByTime(60_000);
    // Two rotations after 'x' (at 60 s and 120 s): forgotten; 'y' was claimed before the first.
    expect(await store.claim('x', 0)).toBe(true);
    expect(await store.claim('y', 0)).toBe(true);
    store.close();
  });
});
