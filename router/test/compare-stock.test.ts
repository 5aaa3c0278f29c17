import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { encodeCursor } from '@commerce/service-kit';
import {
  createHttpHandler,
  createLogger,
  identityHeaders,
  listen,
  maskError,
  signatureHeaders,
  viewer,
  type BasicRequestInfo,
  type RunningServer,
} from '@commerce/service-kit/core';
import { Kind, parse, print, visit, type DefinitionNode, type FragmentDefinitionNode, type GraphQLFormattedError } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { overrideVariable } from '../src/env.ts';
import { eventually } from './support/eventually.ts';
import { startSupergraph, tokenFor, type Supergraph } from './support/supergraph.ts';

/**
 * Our router's answers are stock @apollo/gateway's: every operation of the project (the router's
 * and the storefront's documents, the benchmark's, and the integration suite's queries) runs
 * through our router, with its defaults (fetch merging on, its own data source and fetcher), and
 * through a stock ApolloGateway with RemoteGraphQLDataSource and its default make-fetch-happen
 * fetcher, in front of the same subgraphs, signed in as the admin so everything is visible. The
 * JSON answers must be deep-equal, data and errors, with error cases (a subgraph down, a null
 * entity, refusals) included.
 *
 * What our router does on purpose beyond stock, and is therefore taken out before comparing:
 * - every error carries the request id (`extensions.requestId`): removed from ours;
 * - errors pass the kit's allow-list (maskError): stock's errors are passed through it too;
 * - `extensions.valueCompletion` is never shown: removed from stock's;
 * - an unreachable subgraph is a SERVICE_UNAVAILABLE error naming it (the fetcher), where stock
 *   reports its fetcher's connection error: compared by path, one for one;
 * - errors of fetches that run in parallel arrive in the order the subgraphs answer, on stock too:
 *   compared as a set (sorted).
 * The in-process stock gateway shares this process's patched query planner; the plans of every
 * operation here are the same with the patches on and off (planner/same-plans.test.ts).
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADMIN = viewer(1, ['admin']);

let graph: Supergraph;
let stock: RunningServer & { stop(): Promise<void> };
let authorization: string;

/** Stock RemoteGraphQLDataSource and its own fetcher; only the admin's identity and the signature are added. */
class StockDataSource extends RemoteGraphQLDataSource<BasicRequestInfo> {
  constructor(url: string, secret: string) {
    super({ url });
    const fetcher = this.fetcher;
    this.fetcher = (target, init = {}) => {
      const headers = { ...(init.headers as Record<string, string>) };
      const { pathname, search } = new URL(target);
      const signed = signatureHeaders(secret, { method: init.method ?? 'POST', path: `${pathname}${search}`, headers, body: String(init.body) });
      return fetcher(target, { ...init, headers: { ...headers, ...signed } });
    };
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<BasicRequestInfo>): void {
    for (const [name, value] of Object.entries(identityHeaders({ viewer: ADMIN, requestId: context?.requestId ?? 'stock', clientIp: null }))) {
      request.http?.headers.set(name, value);
    }
  }
}

async function startStock(environment: Record<string, string>): Promise<RunningServer & { stop(): Promise<void> }> {
  process.env.APOLLO_TELEMETRY_DISABLED = '1';
  const supergraphSdl = readFileSync(join(ROOT, 'router/supergraph.graphql'), 'utf8');
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name }) => {
      const variable = name.toUpperCase();
      return new StockDataSource(environment[`SUBGRAPH_${variable}_URL`]!, environment[`${variable}_SIGNING_SECRET`]!);
    },
  });
  const apollo = new ApolloServer<BasicRequestInfo>({ gateway, includeStacktraceInErrorResponses: false });
  await apollo.start();
  const handler = createHttpHandler({ apollo, logger: createLogger('stock', 'silent'), context: async (info) => info });
  const running = await listen(handler, { host: '127.0.0.1', port: 0 });
  return {
    ...running,
    async stop() {
      await running.close();
      await apollo.stop();
    },
  };
}

interface Answer {
  status: number;
  body: { data?: unknown; errors?: GraphQLFormattedError[]; extensions?: Record<string, unknown> };
}

async function post(url: string, query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

const sortErrors = (errors: GraphQLFormattedError[] | undefined) =>
  errors?.map((error) => JSON.stringify(error)).sort().map((error) => JSON.parse(error) as GraphQLFormattedError);

function normalizeOurs(answer: Answer): Answer['body'] {
  const { errors, ...rest } = answer.body;
  if (!errors) return rest;
  return {
    ...rest,
    errors: sortErrors(
      errors.map(({ extensions, ...error }) => {
        const { requestId: _requestId, ...others } = extensions ?? {};
        return Object.keys(others).length > 0 ? { ...error, extensions: others } : error;
      }),
    ),
  };
}

function normalizeStock(answer: Answer): Answer['body'] {
  const { errors, extensions, ...rest } = answer.body;
  const { valueCompletion: _hidden, ...others } = extensions ?? {};
  return {
    ...rest,
    ...(Object.keys(others).length > 0 ? { extensions: others } : {}),
    ...(errors ? { errors: sortErrors(errors.map((error) => maskError(error))) } : {}),
  };
}

/** Values a write changes between the two runs (each system makes its own review, order, sign-in). */
const VOLATILE = new Set(['id', 'stock', 'inStock', 'createdAt', 'updatedAt', 'averageRating', 'reviewCount', 'accessToken', 'refreshToken']);
function withoutVolatile(value: unknown, also: readonly string[] = []): unknown {
  return JSON.parse(JSON.stringify(value), (key, v: unknown) => ((VOLATILE.has(key) || also.includes(key)) && v !== null ? typeof v : v));
}

async function compare(query: string, variables: Record<string, unknown> = {}, options: { write?: boolean; volatile?: string[] } = {}) {
  const ours = await post(graph.router.graphqlUrl, query, variables);
  const theirs = await post(`${stock.url}/graphql`, query, variables);
  const [a, b] = [normalizeOurs(ours), normalizeStock(theirs)];
  if (options.write) expect(withoutVolatile(a, options.volatile)).toEqual(withoutVolatile(b, options.volatile));
  else expect(a).toEqual(b);
  expect(ours.status).toBe(theirs.status);
  return ours;
}

// --- The operations -------------------------------------------------------------------------------

/** Each operation of a set of .graphql files, as a document with the fragments it uses (from any file of the set). */
function operationsIn(files: string[]): Map<string, string> {
  const definitions = files.flatMap((file) => parse(readFileSync(file, 'utf8'), { noLocation: true }).definitions);
  const fragments = new Map(
    definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  );
  const operations = new Map<string, string>();
  for (const definition of definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION || !definition.name) continue;
    const used = new Set<string>();
    const collect = (node: DefinitionNode) =>
      visit(node, {
        FragmentSpread(spread) {
          if (used.has(spread.name.value)) return;
          used.add(spread.name.value);
          const fragment = fragments.get(spread.name.value);
          if (fragment) collect(fragment);
        },
      });
    collect(definition);
    const document: DefinitionNode[] = [definition, ...[...used].map((name) => fragments.get(name)!)];
    operations.set(definition.name.value, print({ kind: Kind.DOCUMENT, definitions: document }));
  }
  return operations;
}

const graphqlFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.graphql'))
    .map((entry) => join(entry.parentPath, entry.name));

const project = operationsIn([
  ...graphqlFiles(join(ROOT, 'router/operations')),
  ...graphqlFiles(join(ROOT, 'clients/web/src')),
  ...graphqlFiles(join(ROOT, 'scripts/bench/operations')),
]);

/** Reads, with variables that make them return data (and a few that make them return errors or nulls). */
const READS: [string, Record<string, unknown>][] = [
  ['AccountPage', { id: '1' }],
  ['AccountPage', { id: '7', orders: 3, reviews: 2 }],
  ['CategoryProducts', { category: 'BOOKS' }],
  ['CategoryProducts', { category: 'TOYS', first: 5 }],
  ['ProductPage', { id: '1' }],
  ['ProductPage', { id: '10', reviews: 2 }],
  ['ProductPage', { id: '99999' }],
  ['Catalogue', { first: 10 }],
  ['Catalogue', { first: 5, category: 'HOME' }],
  ['MyOrders', { first: 5 }],
  ['OrderStatus', { id: '101' }],
  ['OrderStatus', { id: '999999' }],
  ['ProductDetails', { id: '3' }],
  ['ProductReviews', { id: '1', first: 3 }],
  ['DeepRead', { first: 10, after: null }],
  ['DeepRead', { first: 7, after: null }],
  ['UserRead', { id: '7' }],
  ['UserRead', { id: '9999' }],
  // Product 10's waitlist holds an email with no account: a null entity, no error.
  ['Waitlist', { id: '10' }],
  ['Waitlist', { id: '20' }],
  ['HeavyRead', { after: null, usersAfter: null }],
  ['HeavyRead', { after: encodeCursor('product', 170), usersAfter: encodeCursor('user', 35) }],
];

/** The integration suite's queries (support/integration-suite.ts), reads only. */
const INTEGRATION_QUERIES = [
  `{ product(id: "1") { id sku name priceCents weightGrams category stock inStock shippingEstimateCents reviewCount averageRating reviews(first: 3) { id rating author { id name email } } } }`,
  `{ a: product(id: "2") { weightGrams shippingEstimateCents } }`,
  `{ user(id: "1") { name email orders { id status totalCents items { quantity unitPriceCents product { id name sku } } } reviews(first: 5) { id rating product { id name } } } }`,
  `{ product(id: "10") { stock inStock waitlist { id name email } } }`,
  `{ product(id: "20") { waitlist { email orders(first: 1) { id } reviews(first: 1) { id } } } }`,
  `{ products(category: TOYS, first: 2) { nodes { id category stock } pageInfo { hasNextPage endCursor } } }`,
  `{ product(id: "12") { reviewCount averageRating reviews { id body } } }`,
  `{ product(id: "abc") { name } }`,
  `{ user(id: "9999") { name } }`,
  `{ products(first: 500) { nodes { id } } }`,
  `{ product(id: "1") { name reviews(first: 1000) { id } } }`,
  `{ product(id: "1") { nope } }`,
  `{ user(id: "2") { name orders(first: 1) { id } } }`,
  `{ product(id: "1") { name reviews(first: 2) { id author { name } } } }`,
  // Two branches, each reaching the same subgraphs at the same step (what merging joins).
  `{ product(id: "1") { name stock reviews(first: 2) { author { name email } } } user(id: "3") { name reviews(first: 2) { product { name stock } } } }`,
  `{ a: product(id: "1") { name stock averageRating } b: product(id: "2") { name stock averageRating } c: product(id: "10") { waitlist { name } } }`,
];

beforeAll(async () => {
  graph = await startSupergraph();
  stock = await startStock(graph.routerEnvironment());
  authorization = `Bearer ${await tokenFor(1)}`;
}, 120_000);
afterAll(async () => {
  await stock?.stop();
  await graph?.close();
});

// Runs before the writes below: the cached router here hears no events, so nothing may change under it.
describe('with the entity cache on, the answers are still those of stock @apollo/gateway, cold and warm', () => {
  let cached: Awaited<ReturnType<Supergraph['startRouter']>>;
  beforeAll(async () => {
    cached = await graph.startRouter({ entityCache: { eventsSecret: 'c'.repeat(40) } });
  });
  afterAll(() => cached?.stop());

  it.each([
    ...READS.map(([name, variables]) => [`${name} ${JSON.stringify(variables)}`, project.get(name)!, variables] as const),
    ...INTEGRATION_QUERIES.map((query) => [query.slice(0, 90), query, {}] as const),
  ])('%s', async (_label, query, variables) => {
    const theirs = normalizeStock(await post(`${stock.url}/graphql`, query, variables));
    for (const round of ['cold', 'warm']) {
      expect(normalizeOurs(await post(cached.graphqlUrl, query, variables)), round).toEqual(theirs);
    }
  });

  it('the warm runs were answered from the cache', () => {
    const lookups = cached.cache!.stats().lookups;
    expect(Object.values(lookups).reduce((sum, { hits }) => sum + hits, 0)).toBeGreaterThan(100);
  });
});

describe('our router answers exactly as stock @apollo/gateway', () => {
  it('knows every operation it is asked to compare', () => {
    for (const [name] of READS) expect(project.has(name), name).toBe(true);
  });

  it.each(READS.map(([name, variables]) => [name, JSON.stringify(variables), variables] as const))('%s %s', async (name, _label, variables) => {
    await compare(project.get(name)!, variables);
  });

  it.each(INTEGRATION_QUERIES.map((query) => [query.slice(0, 90), query]))('%s', async (_label, query) => {
    await compare(query);
  });

  it('merges fetches: the heavy query takes fewer subgraph requests than on stock, for the same answer', async () => {
    const variables = { after: null, usersAfter: null };
    const ours = await graph.measure(() => post(graph.router.graphqlUrl, project.get('HeavyRead')!, variables));
    const theirs = await graph.measure(() => post(`${stock.url}/graphql`, project.get('HeavyRead')!, variables));
    const total = (requests: Record<string, number>) => Object.values(requests).reduce((sum, n) => sum + n, 0);
    expect(total(theirs.requests)).toBe(15);
    expect(total(ours.requests)).toBeLessThan(total(theirs.requests));
    expect(normalizeOurs(ours.result)).toEqual(normalizeStock(theirs.result));
  });

  it('a null entity (an email with no account) is a null without an error on both', async () => {
    const ours = await compare(project.get('Waitlist')!, { id: '10' });
    expect(ours.body.errors).toBeUndefined();
    expect((ours.body.data as { product: { waitlist: unknown[] } }).product.waitlist).toContain(null);
  });

  it('writes give the same answers (values a write changes set aside)', async () => {
    await compare(project.get('Restock')!, { productId: '31', quantity: 2 }, { write: true });
    await compare(`mutation { restock(productId: "1", quantity: -5) { product { stock } } }`, {}, { write: true });
    await compare(project.get('AddReview')!, { input: { productId: '5', rating: 4, body: 'Compared' } }, { write: true });
    await compare(project.get('AddReview')!, { input: { productId: '5', rating: 9, body: 'Out of range' } }, { write: true });
    // One key for both: the second call answers with the same order, which inventory may have confirmed meanwhile.
    await compare(project.get('PlaceOrder')!, { input: { items: [{ productId: '3', quantity: 1 }], idempotencyKey: `compare-${Date.now()}` } }, { write: true, volatile: ['status'] });
    await compare(project.get('SignIn')!, { email: 'user2@example.com', password: 'commerce-dev' }, { write: true });
    await compare(project.get('SignIn')!, { email: 'user2@example.com', password: 'wrong password' }, { write: true });
    await compare(project.get('SignOut')!, { refreshToken: 'not-a-token' }, { write: true });
  });

  it('a subgraph down: the same data, and an error at the same place on each', async () => {
    for (const down of ['inventory', 'accounts'] as const) {
      await graph.stop(down);
      try {
        for (const [name, variables] of [
          ['ProductPage', { id: '1' }],
          ['DeepRead', { first: 5, after: null }],
          ['HeavyRead', { after: null, usersAfter: null }],
        ] as const) {
          const ours = await post(graph.router.graphqlUrl, project.get(name)!, variables);
          const theirs = await post(`${stock.url}/graphql`, project.get(name)!, variables);
          expect(ours.body.data, `${name} with ${down} down`).toEqual(theirs.body.data);
          expect(ours.body.errors?.length).toBeGreaterThan(0);
          expect(ours.body.errors?.map((e) => e.path ?? null)).toEqual(theirs.body.errors?.map((e) => e.path ?? null));
          for (const error of ours.body.errors ?? []) {
            expect(error).toMatchObject({ message: `The ${down} service is unavailable`, extensions: { code: 'SERVICE_UNAVAILABLE' } });
          }
        }
      } finally {
        await graph.restart(down);
      }
      // Our router's breaker opened while the subgraph was down: it lets a trial through after its
      // half-open delay; the next round starts once the router reaches the subgraph again.
      const probe = down === 'inventory' ? '{ product(id: "1") { stock } }' : '{ user(id: "1") { name } }';
      await eventually(() => post(graph.router.graphqlUrl, probe), (answer) => !answer.body.errors);
    }
  });

  it('shaped these answers with its compiled walk, and handed those with errors to the gateway’s own shaping', () => {
    const { shaped, fallbacks } = graph.router.shaping;
    expect(shaped).toBeGreaterThan(READS.length + INTEGRATION_QUERIES.length);
    expect(fallbacks).toBeGreaterThan(0);
  });
});

/** Passes every request on to `target` unchanged, `delayMs` later (a slower subgraph). */
async function delayingProxy(target: string, delayMs: number): Promise<RunningServer> {
  return listen(
    async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const headers = Object.fromEntries(
        Object.entries(request.headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && !['host', 'connection', 'content-length'].includes(entry[0])),
      );
      const answer = await fetch(target, { method: request.method ?? 'POST', headers, body: Buffer.concat(chunks) });
      response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      response.end(Buffer.from(await answer.arrayBuffer()));
    },
    { host: '127.0.0.1', port: 0 },
  );
}

describe('a fetch that ends a branch waits for a sibling to the same subgraph (fetch-plan.ts)', () => {
  it('user-read, reviews answering 40 ms later than orders: the product names after each go out as one request (two without waiting, two on stock), named or anonymous, for the same answer', async () => {
    const slowReviews = await delayingProxy(graph.subgraphUrl('reviews'), 40);
    const overrides = new Map([[overrideVariable('reviews'), `${slowReviews.url}/graphql`]]);
    const waiting = await graph.startRouter({ overrides });
    const notWaiting = await graph.startRouter({ overrides, mergeSiblingFetches: false });
    try {
      const named = project.get('UserRead')!;
      const anonymous = named.replace(/query UserRead/, 'query');
      expect(anonymous).not.toBe(named);
      for (const query of [named, anonymous]) {
        const ours = await graph.measure(() => post(waiting.graphqlUrl, query, { id: '7' }));
        const alone = await graph.measure(() => post(notWaiting.graphqlUrl, query, { id: '7' }));
        const theirs = await graph.measure(() => post(`${stock.url}/graphql`, query, { id: '7' }));
        expect([ours.requests.products, alone.requests.products, theirs.requests.products]).toEqual([1, 2, 2]);
        expect(normalizeOurs(ours.result)).toEqual(normalizeStock(theirs.result));
        expect(normalizeOurs(alone.result)).toEqual(normalizeStock(theirs.result));
      }
    } finally {
      await Promise.all([waiting.stop(), notWaiting.stop(), slowReviews.close()]);
    }
  });

  it('a sibling that is never sent (a customer with orders and no reviews) holds nothing back', async () => {
    const user = await graph.client('accounts').user.create({ data: { email: `siblings-${Date.now()}@example.com`, name: 'Siblings' } });
    await graph.client('orders').order.create({
      data: { userId: user.id, status: 'PAID', items: { create: [{ productId: 3, quantity: 1, unitPriceCents: 100 }] } },
    });
    const variables = { id: String(user.id) };
    const ours = await graph.measure(() => post(graph.router.graphqlUrl, project.get('UserRead')!, variables));
    const theirs = await graph.measure(() => post(`${stock.url}/graphql`, project.get('UserRead')!, variables));
    expect([ours.requests.products, theirs.requests.products]).toEqual([1, 1]);
    expect(normalizeOurs(ours.result)).toEqual(normalizeStock(theirs.result));
    expect(ours.result.body.data).toMatchObject({ user: { reviews: [], orders: [{ items: [{ product: { id: '3' } }] }] } });
  });

  it('a sibling’s branch that fails (reviews down) does not hold the other one back: the same data and errors as stock', async () => {
    await graph.stop('reviews');
    try {
      const ours = await post(graph.router.graphqlUrl, project.get('UserRead')!, { id: '7' });
      const theirs = await post(`${stock.url}/graphql`, project.get('UserRead')!, { id: '7' });
      expect(ours.body.data).toEqual(theirs.body.data);
      expect((ours.body.data as { user: { orders: unknown[] } }).user.orders.length).toBeGreaterThan(0);
      expect(ours.body.errors?.map((e) => e.path ?? null)).toEqual(theirs.body.errors?.map((e) => e.path ?? null));
      expect(ours.body.errors?.[0]).toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' } });
    } finally {
      await graph.restart('reviews');
    }
    await eventually(() => post(graph.router.graphqlUrl, '{ product(id: "1") { reviewCount } }'), (answer) => !answer.body.errors);
  });
});
