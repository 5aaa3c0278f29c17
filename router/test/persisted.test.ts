/**
 * Persisted operations against the whole supergraph, over HTTP: the storefront's generated
 * manifest (clients/web, Apollo's persisted-query manifest format) on a router in safelist mode,
 * which runs those operations by id or by their exact text and nothing else; and on the default
 * router (apq mode), where manifest ids work without registration and automatic persisted queries
 * keep working.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@commerce/service-kit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRouterEnv } from '../src/env.ts';
import { loadManifest, NOT_IN_SAFELIST, parseManifest, type PersistedQueryManifest } from '../src/persisted.ts';
import type { RunningRouter } from '../src/router.ts';
import { eventually } from './support/eventually.ts';
import { startSupergraph, tokenFor, type Supergraph } from './support/supergraph.ts';

const MANIFEST = fileURLToPath(new URL('../../clients/web/src/generated/persisted-query-manifest.json', import.meta.url));
if (!existsSync(MANIFEST)) throw new Error(`no storefront manifest at ${MANIFEST}: run \`npm run generate -w @commerce/web\` (turbo runs it before the router's tests)`);
const manifest: PersistedQueryManifest = parseManifest(JSON.parse(readFileSync(MANIFEST, 'utf8')), MANIFEST);
const idOf = (name: string) => {
  const operation = manifest.operations.find((o) => o.name === name);
  if (!operation) throw new Error(`the storefront manifest has no ${name}`);
  return operation;
};
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const persisted = (sha256Hash: string) => ({ persistedQuery: { version: 1, sha256Hash } });

let graph: Supergraph;
let safelisted: RunningRouter;

beforeAll(async () => {
  // The default router knows the manifest in apq mode; a second one over the same subgraphs runs only it.
  graph = await startSupergraph({ router: { persistedOperations: { manifest, mode: 'apq' } } });
  safelisted = await graph.startRouter({ persistedOperations: { manifest, mode: 'safelist' } });
});
afterAll(async () => {
  await safelisted?.stop();
  await graph?.close();
});

interface Answer {
  status: number;
  body: { data?: Record<string, any> | null; errors?: { message: string; extensions?: Record<string, any> }[] };
}

async function post(router: RunningRouter, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(router.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}
const codes = (answer: Answer) => (answer.body.errors ?? []).map((e) => e.extensions?.code);
const bearer = async (userId: number) => ({ authorization: `Bearer ${await tokenFor(userId)}` });

/** Subgraph requests while `run` runs: a refused operation must cost none. */
async function subgraphRequests<T>(run: () => Promise<T>) {
  const { result, requests } = await graph.measure(run);
  return { result, total: Object.values(requests).reduce((a, b) => a + b, 0) };
}

describe('the storefront manifest', () => {
  it('is Apollo’s format, every id the SHA-256 of its body, every storefront operation in it', () => {
    expect(manifest.format).toBe('apollo-persisted-query-manifest');
    for (const operation of manifest.operations) expect(operation.id).toBe(sha256(operation.body));
    expect(manifest.operations.map((o) => `${o.type} ${o.name}`).sort()).toEqual(
      ['query Catalogue', 'query MyOrders', 'query OrderStatus', 'query ProductDetails', 'query ProductReviews', 'mutation PlaceOrder', 'mutation RefreshSession', 'mutation SignIn', 'mutation SignOut'].sort(),
    );
  });
});

describe('safelist mode', () => {
  it('runs the storefront’s operations by id: catalogue, product page, reviews with their authors', async () => {
    const catalogue = await post(safelisted, { extensions: persisted(idOf('Catalogue').id), variables: { first: 3, category: 'BOOKS' } });
    expect(catalogue.status).toBe(200);
    expect(catalogue.body.errors).toBeUndefined();
    expect(catalogue.body.data?.products.edges.map((e: any) => e.node.name)).toEqual(['Classic Novel', expect.any(String), expect.any(String)]);

    const product = await post(safelisted, { extensions: persisted(idOf('ProductDetails').id), variables: { id: '1' } });
    expect(product.body.data?.product).toMatchObject({ name: 'Classic Novel', stock: 100, shippingEstimateCents: 0, averageRating: 3.5, reviewCount: 6 });

    const reviews = await post(safelisted, { extensions: persisted(idOf('ProductReviews').id), variables: { id: '1', first: 2 } });
    expect(reviews.body.data?.product.reviewsConnection.edges.map((e: any) => e.node.author.name)).toEqual(['Alan Hopper', 'Frances Dijkstra']);
    expect(reviews.body.data?.product.reviewsConnection.pageInfo.hasNextPage).toBe(true);
  });

  it('signs in, lists my orders, places an order and watches it settle, all by id', async () => {
    const signIn = await post(safelisted, { extensions: persisted(idOf('SignIn').id), variables: { email: 'user4@example.com', password: 'commerce-dev' } });
    expect(signIn.body.errors).toBeUndefined();
    const authorization = { authorization: `Bearer ${signIn.body.data?.signIn.accessToken}` };
    expect(signIn.body.data?.signIn.user.id).toBe('4');

    const orders = await post(safelisted, { extensions: persisted(idOf('MyOrders').id), variables: { first: 2 } }, authorization);
    expect(orders.body.errors).toBeUndefined();
    expect(orders.body.data?.me.ordersConnection.edges.length).toBeGreaterThan(0);

    const placed = await post(
      safelisted,
      { extensions: persisted(idOf('PlaceOrder').id), variables: { input: { items: [{ productId: '2', quantity: 1 }], idempotencyKey: 'persisted-test-1' } } },
      authorization,
    );
    expect(placed.body.errors).toBeUndefined();
    const orderId = placed.body.data?.placeOrder.order.id;
    const settled = await eventually(
      () => post(safelisted, { extensions: persisted(idOf('OrderStatus').id), variables: { id: orderId } }, authorization),
      (status) => status.body.data?.order.status !== 'PENDING',
    );
    expect(settled.body.data?.order).toMatchObject({ id: orderId, status: 'CONFIRMED', reason: null });
  });

  it('runs a manifest operation sent as its exact text, alone or with its id', async () => {
    const { body } = idOf('ProductDetails');
    const asText = await post(safelisted, { query: body, variables: { id: '7' } });
    expect(asText.status).toBe(200);
    expect(asText.body.data?.product.category).toBe('ELECTRONICS');
    const withId = await post(safelisted, { query: body, variables: { id: '7' }, extensions: persisted(sha256(body)) });
    expect(withId.body.data?.product.category).toBe('ELECTRONICS');
  });

  it('accepts an id over GET too', async () => {
    const { id } = idOf('ProductDetails');
    const url = `${safelisted.graphqlUrl}?variables=${encodeURIComponent(JSON.stringify({ id: '1' }))}&extensions=${encodeURIComponent(JSON.stringify(persisted(id)))}`;
    const response = await fetch(url, { headers: { 'apollo-require-preflight': 'true' } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Answer['body']).data?.product.name).toBe('Classic Novel');
  });

  it.each([
    ['free text', { query: '{ product(id: "1") { name } }' }],
    ['a manifest operation with one character changed', { query: idOf('ProductDetails').body.replace('sku ', ''), variables: { id: '1' } }],
    ['an unknown id', { extensions: persisted(sha256('query Unknown { __typename }')) }],
    ['another operation’s text under a manifest id', { query: '{ users(first: 100) { nodes { email } } }', extensions: persisted(idOf('Catalogue').id) }],
    ['an APQ registration (text and its own hash)', { query: '{ __typename }', extensions: persisted(sha256('{ __typename }')) }],
  ])('refuses %s with 400 and %s, before any subgraph is asked', async (_what, body) => {
    const { result, total } = await subgraphRequests(() => post(safelisted, body, { 'x-request-id': 'safelist-test' }));
    expect(result.status).toBe(400);
    expect(codes(result)).toEqual([NOT_IN_SAFELIST]);
    expect(result.body.errors?.[0]?.message).toMatch(/only the operations in its safelist/);
    expect(result.body.errors?.[0]?.extensions?.requestId).toBe('safelist-test');
    expect(result.body.data).toBeUndefined();
    expect(total).toBe(0);
  });

  it('never stores a refused registration: its hash alone is refused afterwards', async () => {
    const query = '{ product(id: "3") { name } }';
    expect((await post(safelisted, { query, extensions: persisted(sha256(query)) })).status).toBe(400);
    const byHash = await post(safelisted, { extensions: persisted(sha256(query)) });
    expect(byHash.status).toBe(400);
    expect(codes(byHash)).toEqual([NOT_IN_SAFELIST]);
  });

  it('still applies the operation limits to an operation sent by id (the limits see the manifest’s text)', async () => {
    const answer = await post(safelisted, { extensions: persisted(idOf('Catalogue').id), variables: { first: 1_000_000 } });
    expect(answer.status).toBe(400);
    expect(codes(answer)).toEqual(['QUERY_TOO_COMPLEX']);
  });

  it('still checks the token and the owner: MyOrders by id without a token is no one’s orders', async () => {
    const anonymous = await post(safelisted, { extensions: persisted(idOf('MyOrders').id), variables: { first: 2 } });
    expect(anonymous.body).toEqual({ data: { __typename: 'Query', me: null } });
    const forged = await post(safelisted, { extensions: persisted(idOf('MyOrders').id), variables: { first: 2 } }, { authorization: 'Bearer not.a.token' });
    expect(forged.status).toBe(401);
  });
});

describe('apq mode (the default)', () => {
  it('runs free text as always', async () => {
    const answer = await post(graph.router, { query: '{ product(id: "1") { name } }' });
    expect(answer.body).toEqual({ data: { product: { name: 'Classic Novel' } } });
  });

  it('runs a manifest id without any registration', async () => {
    const answer = await post(graph.router, { extensions: persisted(idOf('ProductDetails').id), variables: { id: '1' } }, await bearer(2));
    expect(answer.body.data?.product.name).toBe('Classic Novel');
  });

  it('keeps automatic persisted queries working: not found, registered with the text, then found by hash', async () => {
    const query = 'query Apq { product(id: "5") { name } }';
    const hash = sha256(query);
    const unknown = await post(graph.router, { extensions: persisted(hash) });
    expect(codes(unknown)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    const registered = await post(graph.router, { query, extensions: persisted(hash) });
    expect(registered.body.errors).toBeUndefined();
    const byHash = await post(graph.router, { extensions: persisted(hash) });
    expect(byHash.body.data?.product.name).toBe(registered.body.data?.product.name);
  });
});

describe('configuration', () => {
  it('reads PERSISTED_OPERATIONS and PERSISTED_OPERATIONS_MODE (apq by default)', () => {
    expect(loadRouterEnv([], {}).persistedOperations).toBeNull();
    expect(loadRouterEnv([], { PERSISTED_OPERATIONS: MANIFEST }).persistedOperations).toEqual({ path: MANIFEST, mode: 'apq' });
    expect(loadRouterEnv([], { PERSISTED_OPERATIONS: MANIFEST, PERSISTED_OPERATIONS_MODE: 'safelist' }).persistedOperations).toEqual({ path: MANIFEST, mode: 'safelist' });
    expect(() => loadRouterEnv([], { PERSISTED_OPERATIONS_MODE: 'safelist' })).toThrow(/safelist needs PERSISTED_OPERATIONS/);
    expect(() => loadRouterEnv([], { PERSISTED_OPERATIONS: MANIFEST, PERSISTED_OPERATIONS_MODE: 'strict' })).toThrow(/PERSISTED_OPERATIONS_MODE/);
  });

  it('refuses to start on a manifest it cannot use, naming the file and the problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'manifest-'));
    try {
      const file = (name: string, text: string) => {
        writeFileSync(join(dir, name), text);
        return join(dir, name);
      };
      await expect(loadManifest(join(dir, 'missing.json'))).rejects.toThrow(/Cannot read the persisted operations manifest .*missing\.json.*ENOENT/);
      await expect(loadManifest(file('text.json', 'not json'))).rejects.toThrow(/is not JSON/);
      await expect(loadManifest(file('other.json', JSON.stringify({ '2c26b4': 'query A { a }' })))).rejects.toThrow(ConfigError);
      const twice = { format: 'apollo-persisted-query-manifest', version: 1, operations: [manifest.operations[0], manifest.operations[0]] };
      await expect(loadManifest(file('twice.json', JSON.stringify(twice)))).rejects.toThrow(/twice/);
      expect((await loadManifest(MANIFEST)).operations).toHaveLength(manifest.operations.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
