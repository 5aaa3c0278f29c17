import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { overrideVariable } from '../src/env.ts';
import type { RunningRouter } from '../src/router.ts';
import { eventually } from './support/eventually.ts';
import { accountsConfig, startSupergraph, tokenFor, type Supergraph } from './support/supergraph.ts';

/**
 * The router as an attacker meets it: every request goes over HTTP to a router in front of the
 * five real subgraphs, and every test asserts the status, the error code and that nothing internal
 * leaks (no stack, no Prisma text, no internal URL, no data that was refused).
 */
let graph: Supergraph;

beforeAll(async () => {
  graph = await startSupergraph();
});
afterAll(() => graph?.close());

interface Answer {
  status: number;
  headers: Headers;
  body: { data?: Record<string, any> | null; errors?: { message: string; path?: unknown[]; extensions?: Record<string, any> }[]; extensions?: unknown };
  text: string;
}

async function send(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: Answer['body'] = {};
  try {
    body = JSON.parse(text) as Answer['body'];
  } catch {
    // Not JSON: the assertions say what was expected.
  }
  return { status: response.status, headers: response.headers, body, text };
}

function post(body: unknown, headers: Record<string, string> = {}, router: RunningRouter = graph.router): Promise<Answer> {
  return send(router.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const bearer = async (userId: number, scopes?: string[]) => ({ authorization: `Bearer ${await tokenFor(userId, scopes)}` });
const codes = (answer: Answer) => (answer.body.errors ?? []).map((e) => e.extensions?.code);
const LEAKS = /stacktrace|prisma|\.ts:\d+|127\.0\.0\.1|localhost|ECONNREFUSED|serviceName|valueCompletion|INVALID_GRAPHQL|Did you mean|within \d+ ms/i;

function expectNoLeaks(answer: Answer): void {
  expect(answer.text).not.toMatch(LEAKS);
}

/** Subgraph requests made while `run` runs: a refused operation must cost none. */
async function subgraphRequests(run: () => Promise<Answer>): Promise<{ answer: Answer; total: number }> {
  const { result, requests } = await graph.measure(run);
  return { answer: result, total: Object.values(requests).reduce((a, b) => a + b, 0) };
}

describe('operation limits, before any planning', () => {
  it.each([
    [
      'deep nesting',
      `{ product(id: "1") { reviews(first: 1) { author { reviews(first: 1) { product { reviews(first: 1) { author { reviews(first: 1) { product { reviews(first: 1) { author { reviews(first: 1) { product { name } } } } } } } } } } } } } }`,
      'depth',
    ],
    [
      'nested lists over the node limit',
      `{ users(first: 100) { nodes { reviews(first: 100) { author { reviews(first: 100) { id } } } } } }`,
      'nodes',
    ],
    ['first: 1000000', `{ products(first: 1000000) { nodes { id } } }`, 'nodes'],
    ['a directive flood', `{ product(id: "1") { name ${'@include(if: true) '.repeat(60)} } }`, 'directives'],
    ['1,000 aliases', `{ ${Array.from({ length: 1_000 }, (_, i) => `a${i}: __typename`).join(' ')} }`, 'aliases'],
    // Over the token limit before the aliases are even counted.
    ['10,000 aliases', `{ ${Array.from({ length: 10_000 }, (_, i) => `a${i}: product(id: "1") { name }`).join(' ')} }`, 'tokens'],
  ])('refuses %s with 400 QUERY_TOO_COMPLEX and no subgraph call', async (_what, query, limit) => {
    const { answer, total } = await subgraphRequests(() => post({ query }));
    expect(answer.status).toBe(400);
    expect(codes(answer)).toEqual(['QUERY_TOO_COMPLEX']);
    if (limit) expect(answer.body.errors?.[0]?.extensions?.limit).toBe(limit);
    expect(total).toBe(0);
    expectNoLeaks(answer);
  });

  it('refuses a nearly 1 MB query by its token count, and a larger body by size', async () => {
    const big = await post({ query: `{ ${'__typename '.repeat(90_000)}}` });
    expect(big.status).toBe(400);
    expect(codes(big)).toEqual(['QUERY_TOO_COMPLEX']);
    const huge = await post({ query: `{ __typename } # ${'x'.repeat(1_100_000)}` });
    expect(huge.status).toBe(413);
    expect(codes(huge)).toEqual(['PAYLOAD_TOO_LARGE']);
  });

  it('refuses a 3 MB variable with 413 before reading it all', async () => {
    const answer = await post({ query: 'query($s: String!) { product(id: $s) { id } }', variables: { s: 'x'.repeat(3 * 1024 * 1024) } });
    expect(answer.status).toBe(413);
  });

  it('refuses too many root mutation fields', async () => {
    const mutation = `mutation { ${Array.from({ length: 8 }, (_, i) => `r${i}: restock(productId: "1", quantity: 1) { product { id } }`).join(' ')} }`;
    const { answer, total } = await subgraphRequests(() => post({ query: mutation }, { authorization: `Bearer ${'x'}.y.z` }).then(async () => post({ query: mutation }, await bearer(1))));
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'mutationRootFields' });
    expect(total).toBe(0);
  });

  it('answers a fragment cycle with a validation error, not a hang', async () => {
    const answer = await post({ query: `{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }` });
    expect(answer.status).toBe(400);
    expect(codes(answer)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('checks operations sent as persisted-query hashes too', async () => {
    const query = 'query($n: Int) { products(first: $n) { nodes { id } } }';
    const sha256Hash = (await import('node:crypto')).createHash('sha256').update(query).digest('hex');
    const extensions = { persistedQuery: { version: 1, sha256Hash } };
    expect((await post({ query, variables: { n: 2 }, extensions })).status).toBe(200);
    const byHash = await post({ variables: { n: 2 }, extensions });
    expect(byHash.status).toBe(200);
    expect(byHash.body.data?.products.nodes).toHaveLength(2);
    const overLimit = await post({ variables: { n: 1_000_000 }, extensions });
    expect(overLimit.status).toBe(400);
    expect(codes(overLimit)).toEqual(['QUERY_TOO_COMPLEX']);
  });
});

describe('request hygiene', () => {
  it.each([
    ['malformed JSON', '{"query":', { 'content-type': 'application/json' }, 400],
    ['a JSON-array batch', JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]), { 'content-type': 'application/json' }, 400],
    ['a wrong content type', '<query/>', { 'content-type': 'application/xml' }, 400],
    ['a text/plain POST (CSRF)', JSON.stringify({ query: '{ __typename }' }), { 'content-type': 'text/plain' }, 400],
  ])('refuses %s with %i and a JSON error', async (_what, body, headers, status) => {
    const answer = await send(graph.router.graphqlUrl, { method: 'POST', headers, body });
    expect(answer.status).toBe(status);
    expect(answer.body.errors?.length).toBeGreaterThan(0);
    expectNoLeaks(answer);
  });

  it('refuses a GET without a preflight header (CSRF) and a mutation over GET', async () => {
    const query = encodeURIComponent('{ __typename }');
    const noPreflight = await send(`${graph.router.graphqlUrl}?query=${query}`);
    expect(noPreflight.status).toBe(400);
    const mutation = encodeURIComponent('mutation { restock(productId: "1", quantity: 1) { product { id } } }');
    const viaGet = await send(`${graph.router.graphqlUrl}?query=${mutation}`, { headers: { 'apollo-require-preflight': 'true', ...(await bearer(1)) } });
    expect(viaGet.status).toBe(405);
    const allowed = await send(`${graph.router.graphqlUrl}?query=${query}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(allowed.status).toBe(200);
  });

  it.each([
    ['an unknown operationName', { query: 'query A { __typename }', operationName: 'B' }],
    ['several anonymous operations', { query: '{ __typename } { __typename }' }],
    ['a subscription', { query: 'subscription { product(id: "1") { id } }' }],
  ])('answers %s with a 400-class client error, not a 500', async (_what, body) => {
    const answer = await post(body);
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(answer.body.errors?.length).toBeGreaterThan(0);
    expectNoLeaks(answer);
  });

  it('echoes a request id in the header and in every error', async () => {
    const answer = await post({ query: '{ user(id: "9999") { name } }' }, { 'x-request-id': 'support-ticket-42' });
    expect(answer.headers.get('x-request-id')).toBe('support-ticket-42');
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', requestId: 'support-ticket-42' });
  });
});

describe('identity', () => {
  it('ignores identity headers sent by a client', async () => {
    const answer = await post(
      { query: '{ me { id } user(id: "1") { email orders { id } } }' },
      { 'x-commerce-user-id': '1', 'x-commerce-scopes': 'admin', 'x-user-id': '1' },
    );
    expect(answer.status).toBe(200);
    expect(answer.body.data).toEqual({ me: null, user: { email: null, orders: null } });
    expect(new Set(codes(answer))).toEqual(new Set(['UNAUTHENTICATED']));
  });

  type SigningKey = Parameters<SignJWT['sign']>[0];

  async function signed(claims: JWTPayload, options: { alg?: string; key?: SigningKey; kid?: string } = {}) {
    return new SignJWT({ scope: '', ...claims })
      .setProtectedHeader({ alg: options.alg ?? 'EdDSA', kid: options.kid ?? accountsConfig.kid })
      .sign(options.key ?? accountsConfig.privateKey);
  }
  const now = () => Math.floor(Date.now() / 1000);
  const valid = () => ({ iss: 'commerce-accounts', aud: 'commerce-supergraph', sub: '2', iat: now(), exp: now() + 600 });

  it('accepts a valid token', async () => {
    const answer = await post({ query: '{ me { id } }' }, { authorization: `Bearer ${await signed(valid())}` });
    expect(answer.body).toEqual({ data: { me: { id: '2' } } });
  });

  it.each([
    ['an expired token', async () => signed({ ...valid(), iat: now() - 7_200, exp: now() - 3_600 })],
    ['a wrong issuer', async () => signed({ ...valid(), iss: 'someone-else' })],
    ['a wrong audience', async () => signed({ ...valid(), aud: 'another-api' })],
    ['a wrong key', async () => signed(valid(), { key: (await generateKeyPair('EdDSA')).privateKey })],
    ['alg: none', async () => `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(valid())).toString('base64url')}.`],
    ['an HMAC token made with the public key', async () => {
      const { createHmac } = await import('node:crypto');
      const head = Buffer.from(JSON.stringify({ alg: 'HS256', kid: accountsConfig.kid })).toString('base64url');
      const body = Buffer.from(JSON.stringify(valid())).toString('base64url');
      const mac = createHmac('sha256', JSON.stringify(accountsConfig.publicJwks)).update(`${head}.${body}`).digest('base64url');
      return `${head}.${body}.${mac}`;
    }],
    ['a subject that is not a user id', async () => signed({ ...valid(), sub: 'f81d4fae-7dec' })],
    ['garbage', async () => 'not.a.token'],
  ])('refuses %s with 401 UNAUTHENTICATED', async (_what, token) => {
    const answer = await post({ query: '{ me { id } }' }, { authorization: `Bearer ${await token()}` });
    expect(answer.status).toBe(401);
    expect(codes(answer)).toEqual(['UNAUTHENTICATED']);
    expect(answer.headers.get('www-authenticate')).toContain('invalid_token');
    expect(answer.body.data).toBeUndefined();
  });

  it('verifies against one static public key instead of a JWKS (another issuer, configured)', async () => {
    const { createPublicKey } = await import('node:crypto');
    const jwk = accountsConfig.publicJwks.keys[0]!;
    const pem = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    const staticKey = await graph.startRouter({ auth: { publicKey: pem, jwksUrl: undefined, algorithms: ['EdDSA'], issuer: 'other-idp', audience: 'shop' } });
    try {
      const token = await signed({ ...valid(), iss: 'other-idp', aud: 'shop' });
      expect((await post({ query: '{ me { id } }' }, { authorization: `Bearer ${token}` }, staticKey)).body).toEqual({ data: { me: { id: '2' } } });
      const accountsToken = await signed(valid());
      expect((await post({ query: '{ me { id } }' }, { authorization: `Bearer ${accountsToken}` }, staticKey)).status).toBe(401);
    } finally {
      await staticKey.stop();
    }
  });

  it('refuses a malformed Authorization header', async () => {
    const answer = await post({ query: '{ me { id } }' }, { authorization: 'Basic dXNlcjpwYXNz' });
    expect(answer.status).toBe(401);
  });

  it('signs in with the development password, refreshes once, and ends the session on reuse of a rotated token', async () => {
    const signIn = await post({ query: 'mutation { signIn(email: "user4@example.com", password: "commerce-dev") { accessToken refreshToken user { id } } }' });
    expect(signIn.body.errors).toBeUndefined();
    const first = signIn.body.data?.signIn;
    const refresh = (token: string) => post({ query: 'mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }', variables: { t: token } });
    const rotated = await refresh(first.refreshToken);
    expect(rotated.body.errors).toBeUndefined();
    const reused = await refresh(first.refreshToken);
    expect(codes(reused)).toEqual(['UNAUTHENTICATED']);
    // Reuse means the token leaked: the whole session is closed, the newest token included.
    const newest = await refresh(rotated.body.data?.refreshSession.refreshToken);
    expect(codes(newest)).toEqual(['UNAUTHENTICATED']);
    expect(reused.text).not.toContain(first.refreshToken);
  });

  it('throttles failed sign-ins for an email, then refuses even the right password for a while', async () => {
    const attempt = (password: string) =>
      post({ query: 'mutation($p: String!) { signIn(email: "user6@example.com", password: $p) { accessToken } }', variables: { p: password } });
    for (let i = 0; i < 5; i++) {
      const wrong = await attempt(`wrong-password-${i}`);
      expect(codes(wrong)).toEqual(['UNAUTHENTICATED']);
      expect(wrong.body.errors?.[0]?.message).toBe('Invalid email or password');
    }
    const blocked = await attempt('commerce-dev');
    expect(codes(blocked)).toEqual(['RATE_LIMITED']);
    expect(blocked.body.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    expect(blocked.body.data).toBeNull();
  });
});

describe('authorization through the router', () => {
  it('shows another user’s order, email and orders to nobody but them and admins', async () => {
    const query = '{ order(id: "1") { id totalCents } user(id: "1") { name email orders { id } } }';
    const other = await post({ query }, await bearer(2));
    expect(other.status).toBe(200);
    expect(other.body.data).toEqual({ order: null, user: { name: 'Ada Lovelace', email: null, orders: null } });
    expect(new Set(codes(other))).toEqual(new Set(['FORBIDDEN']));
    expect(other.text).not.toMatch(/user1@example\.com|84197/);
    const own = await post({ query }, await bearer(1, []));
    expect(own.body.errors).toBeUndefined();
    expect(own.body.data?.user.email).toBe('user1@example.com');
  });

  it('pages through users without showing emails to an anonymous caller', async () => {
    const answer = await post({ query: '{ users(first: 50) { nodes { id email } } }' });
    expect(answer.body.data?.users.nodes).toHaveLength(50);
    expect(answer.body.data?.users.nodes.every((u: { email: string | null }) => u.email === null)).toBe(true);
    expect(codes(answer)).toEqual(['UNAUTHENTICATED']);
    expect(answer.text).not.toContain('@example.com');
  });

  it.each([
    ['an anonymous review', 'mutation { addReview(input: { productId: "1", rating: 5, body: "x" }) { review { id } } }', undefined, 'UNAUTHENTICATED'],
    ['an anonymous restock', 'mutation { restock(productId: "1", quantity: 100000) { product { id } } }', undefined, 'UNAUTHENTICATED'],
    ['a customer restocking', 'mutation { restock(productId: "1", quantity: 100000) { product { id } } }', 2, 'FORBIDDEN'],
    ['a customer setting a price', 'mutation { updateProductPrice(id: "1", priceCents: 1) { product { id } } }', 2, 'FORBIDDEN'],
    [
      'a customer creating a product',
      'mutation { createProduct(input: { sku: "HACK-1", name: "x", description: "", priceCents: 1, weightGrams: 1, category: TOYS }) { product { id } } }',
      2,
      'FORBIDDEN',
    ],
  ])('refuses %s with %s and writes nothing', async (_what, query, userId, code) => {
    const stock = await graph.client('inventory').inventoryItem.findUnique({ where: { productId: 1 } });
    const price = await graph.client('products').product.findUnique({ where: { id: 1 } });
    const reviews = await graph.client('reviews').review.count();
    const answer = await post({ query }, userId ? await bearer(userId) : {});
    expect(codes(answer)).toEqual([code]);
    expect(answer.body.data).toBeNull();
    expect(await graph.client('inventory').inventoryItem.findUnique({ where: { productId: 1 } })).toEqual(stock);
    expect(await graph.client('products').product.findUnique({ where: { id: 1 } })).toEqual(price);
    expect(await graph.client('reviews').review.count()).toBe(reviews);
    expect(await graph.client('products').product.count({ where: { sku: 'HACK-1' } })).toBe(0);
  });

  it('never answers a committed write with data: null and no error', async () => {
    // Inventory cannot know the product does not exist (that is the orders issue's replica); the
    // stock row is written, and the router must say why the answer is empty.
    const answer = await post({ query: 'mutation { restock(productId: "99999", quantity: 1) { product { id name stock } } }' }, await bearer(1));
    expect(answer.body.data).toBeNull();
    expect(codes(answer)).toEqual(['NOT_FOUND']);
    expect(answer.text).not.toContain('valueCompletion');
  });
});

describe('hostile input', () => {
  it.each([
    ['an id as an object', { query: 'query($id: ID!) { product(id: $id) { id } }', variables: { id: { $gt: '' } } }, 'BAD_USER_INPUT'],
    ['an empty id', { query: '{ product(id: "") { id } }' }, 'BAD_USER_INPUT'],
    ['a 10 kB id', { query: 'query($id: ID!) { product(id: $id) { id } }', variables: { id: '9'.repeat(10_000) } }, 'BAD_USER_INPUT'],
    ['an Int overflow', { query: 'mutation { restock(productId: "1", quantity: 99999999999) { product { id } } }' }, 'GRAPHQL_VALIDATION_FAILED'],
    ['a NUL byte in a variable', { query: 'query($id: ID!) { product(id: $id) { id } }', variables: { id: '1\u0000' } }, 'BAD_USER_INPUT'],
    ['a NUL byte in a literal', { query: '{ product(id: "1\\u0000") { id } }' }, 'BAD_USER_INPUT'],
    ['a lone surrogate', { query: 'query($id: ID!) { product(id: $id) { id } }', variables: { id: '\ud800' } }, 'BAD_USER_INPUT'],
  ])('answers %s with %s and no internals', async (_what, body, code) => {
    const answer = await post(body);
    expect(answer.status).toBeLessThan(500);
    expect(codes(answer)).toContain(code);
    expect(answer.body.data?.product ?? null).toBeNull();
    expectNoLeaks(answer);
  });

  it('refuses a right-to-left override in a review and stores SQL-like text verbatim', async () => {
    const add = async (body: string) =>
      post({ query: 'mutation($b: String!) { addReview(input: { productId: "3", rating: 3, body: $b }) { review { body } } }', variables: { b: body } }, await bearer(8));
    const rtl = await add('nice \u202Egnp.exe');
    expect(codes(rtl)).toEqual(['BAD_USER_INPUT']);
    const sql = "Robert'); DROP TABLE reviews;--";
    const stored = await add(sql);
    expect(stored.body.data?.addReview.review.body).toBe(sql);
    expect(await graph.client('reviews').review.count()).toBeGreaterThan(600);
  });
});

describe('subgraphs answer only the router', () => {
  it.each([
    ['_service', { query: '{ _service { sdl } }' }],
    ['_entities', { query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on User { email } } }', variables: { r: [{ __typename: 'User', id: '1' }] } }],
  ])('refuses an unsigned %s straight to accounts with 401', async (_what, body) => {
    const answer = await send(graph.subgraphUrl('accounts'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(answer.status).toBe(401);
    expect(answer.text).not.toContain('user1@example.com');
  });

  it('accepts the router’s signed request once, refuses it replayed and with a forged identity', async () => {
    const body = { query: '{ _service { sdl } }' };
    const first = await graph.callSubgraph('accounts', body);
    expect(first.status).toBe(200);
    // callSubgraph signs anew each time; a byte-for-byte replay needs the same headers.
    const url = graph.subgraphUrl('accounts');
    const captured: Record<string, string> = {};
    const spy = createServer((request, response) => {
      if (request.method === 'POST') Object.assign(captured, request.headers);
      request.resume();
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{"me":null}}');
    });
    await new Promise<void>((resolve) => spy.listen(0, '127.0.0.1', resolve));
    const spyRouter = await graph.startRouter({
      overrides: new Map([[overrideVariable('accounts'), `http://127.0.0.1:${(spy.address() as AddressInfo).port}/graphql`]]),
      auth: { jwksUrl: new URL('/.well-known/jwks.json', url).href },
    });
    try {
      await post({ query: '{ me { id } }' }, await bearer(3), spyRouter);
      const headers = Object.fromEntries(Object.entries(captured).filter(([name]) => name.startsWith('x-') || name === 'content-type'));
      expect(headers['x-commerce-signature']).toMatch(/^v1=/);
      // Replay what the router sent, against the real accounts (a fresh nonce there, but to a different body): refused.
      const replay = await send(url, { method: 'POST', headers, body: JSON.stringify({ query: '{ users(first: 100) { nodes { email } } }' }) });
      expect(replay.status).toBe(401);
      const forged = await send(url, { method: 'POST', headers: { ...headers, 'x-commerce-scopes': 'admin' }, body: JSON.stringify(body) });
      expect(forged.status).toBe(401);
    } finally {
      await spyRouter.stop();
      spy.close();
    }
  });
});

describe('production settings', () => {
  let production: RunningRouter;

  beforeAll(async () => {
    production = await graph.startRouter({ production: true, corsOrigins: ['https://shop.example'], maxBodyBytes: 4_096 });
  });
  afterAll(() => production?.stop());

  it.each([
    ['plain', '{ __schema { types { name } } }'],
    ['aliased', '{ s: __schema { queryType { name } } }'],
    ['in a fragment', '{ ...F } fragment F on Query { __schema { queryType { name } } }'],
    ['__type', '{ __type(name: "User") { fields { name } } }'],
  ])('refuses introspection (%s)', async (_what, query) => {
    const answer = await post({ query }, {}, production);
    expect(answer.status).toBe(400);
    expect(codes(answer)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(answer.text).not.toContain('"User"');
  });

  it('answers a typo without suggesting the right field', async () => {
    const answer = await post({ query: '{ product(id: "1") { nmae } }' }, {}, production);
    expect(answer.status).toBe(400);
    expect(answer.text).not.toMatch(/Did you mean|"name"/);
    expect((await post({ query: '{ product(id: "1") { nmae } }' })).text).toMatch(/Did you mean/);
  });

  it('serves no landing page and allows only its configured origin', async () => {
    const page = await send(production.graphqlUrl, { headers: { accept: 'text/html' } });
    expect(page.text).not.toMatch(/apollographql|cdn|<script/i);
    const allowed = await send(production.graphqlUrl, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    const other = await post({ query: '{ __typename }' }, { origin: 'https://evil.example' }, production);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const withCookies = await graph.startRouter({ production: true, corsOrigins: ['https://shop.example'], corsCredentials: true });
    try {
      const answer = await post({ query: '{ __typename }' }, { origin: 'https://shop.example' }, withCookies);
      expect(answer.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      expect(answer.headers.get('access-control-allow-credentials')).toBe('true');
    } finally {
      await withCookies.stop();
    }
    expect(production.url).toBeTruthy();
  });

  it('refuses a body over its configured limit with 413, chunked or declared', async () => {
    const answer = await post({ query: `{ __typename } # ${'x'.repeat(5_000)}` }, {}, production);
    expect(answer.status).toBe(413);
    const chunked = await send(production.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode(`{"pad${i}":"${'y'.repeat(1_000)}",`));
          controller.enqueue(new TextEncoder().encode('"query":"{ __typename }"}'));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After once an address has spent its budget (in memory)', async () => {
    const limited = await graph.startRouter({ rateLimits: { userPerMinute: 100, ipPerMinute: 3 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await post({ query: '{ __typename }' }, {}, limited)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const refused = await post({ query: '{ __typename }' }, {}, limited);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(codes(refused)).toEqual(['RATE_LIMITED']);
      // A signed-in user spends their own budget, not the address's.
      expect((await post({ query: '{ __typename }' }, await bearer(5), limited)).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });

  it.skipIf(!process.env.TEST_REDIS_URL)('shares one budget across router replicas through Redis (TEST_REDIS_URL)', async () => {
    const keyPrefix = `test:rate:${process.pid}:${Date.now()}`;
    const options = { redisUrl: process.env.TEST_REDIS_URL!, rateLimits: { userPerMinute: 4, ipPerMinute: 100, keyPrefix } };
    const [a, b] = [await graph.startRouter(options), await graph.startRouter(options)];
    try {
      const auth = await bearer(9);
      const statuses = [];
      for (const router of [a, b, a, b, a]) statuses.push((await post({ query: '{ __typename }' }, auth, router)).status);
      expect(statuses).toEqual([200, 200, 200, 200, 429]);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

describe('failing subgraphs', () => {
  let hanging: Server;
  let failing: Server;
  let hangs = 0;
  let failures = 0;
  let healthy = false;

  beforeAll(async () => {
    hanging = createServer((request) => {
      hangs++;
      request.resume();
    });
    // Fails with 500s until `healthy`; then passes requests through to the real reviews service.
    failing = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', async () => {
        if (!healthy) {
          failures++;
          response.writeHead(500, { 'content-type': 'application/json' }).end('{"errors":[{"message":"boom at db.ts:12"}]}');
          return;
        }
        const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => name !== 'host' && name !== 'content-length')) as Record<string, string>;
        const upstream = await fetch(graph.subgraphUrl('reviews'), { method: 'POST', headers, body: Buffer.concat(chunks) });
        response.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text());
      });
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => {
    hanging.closeAllConnections();
    hanging.close();
    failing.close();
  });

  const at = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;

  it('fails fast once the breaker of a hanging subgraph is open, and keeps the rest of the answer', async () => {
    const router = await graph.startRouter({
      overrides: new Map([[overrideVariable('inventory'), at(hanging)]]),
      subgraphTimeoutMs: 300,
      resilience: { breakerFailures: 2, breakerHalfOpenMs: 60_000 },
    });
    try {
      const query = { query: '{ product(id: "1") { name stock } }' };
      const first = await post(query, {}, router);
      expect(first.body.data).toEqual({ product: { name: 'Classic Novel', stock: null } });
      expect(codes(first)).toEqual(['SERVICE_UNAVAILABLE']);
      await post(query, {}, router);
      const seen = hangs;
      const started = performance.now();
      const fast = await post(query, {}, router);
      expect(performance.now() - started).toBeLessThan(300);
      expect(fast.body.data).toEqual({ product: { name: 'Classic Novel', stock: null } });
      expect(codes(fast)).toEqual(['SERVICE_UNAVAILABLE']);
      expect(hangs).toBe(seen);
      expectNoLeaks(fast);
      const ready = (await send(`${router.url}/ready`)).body as unknown as { subgraphs: Record<string, { breaker: string }> };
      expect(ready.subgraphs.inventory?.breaker).toBe('open');
    } finally {
      await router.stop();
    }
  });

  it('opens the breaker on a subgraph answering 500s, then recovers by itself', async () => {
    const router = await graph.startRouter({
      overrides: new Map([[overrideVariable('reviews'), at(failing)]]),
      // Half-open after 1.5 s: the fourth request must find the breaker still open, and on a CI
      // machine busy with other suites 300 ms once passed before it reached the router.
      resilience: { breakerFailures: 3, breakerHalfOpenMs: 1_500 },
    });
    try {
      const query = { query: '{ product(id: "1") { name reviewCount } }' };
      for (let i = 0; i < 3; i++) {
        const answer = await post(query, {}, router);
        expect(answer.body.data).toEqual({ product: { name: 'Classic Novel', reviewCount: null } });
        expect(codes(answer)).toEqual(['SERVICE_UNAVAILABLE']);
        expectNoLeaks(answer);
      }
      const before = failures;
      const fast = await post(query, {}, router);
      expect(codes(fast)).toEqual(['SERVICE_UNAVAILABLE']);
      expect(failures).toBe(before);
      // The subgraph recovers; after the half-open delay a trial request goes through and closes the breaker.
      healthy = true;
      const recovered = await eventually(() => post(query, {}, router), (answer) => !answer.body.errors);
      expect(recovered.body.data).toEqual({ product: { name: 'Classic Novel', reviewCount: 6 } });
      const ready = (await send(`${router.url}/ready`)).body as unknown as { subgraphs: Record<string, { breaker: string }> };
      expect(ready.subgraphs.reviews?.breaker).toBe('closed');
    } finally {
      await router.stop();
    }
  });
});
