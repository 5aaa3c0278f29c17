// Compiled execution (graphql-jit) must answer exactly as graphql-js does: every operation here is
// sent to one subgraph server executing compiled and one interpreted, and the HTTP status, headers
// and body must be the same to the byte. The operations cover what subgraphs are sent and what they
// refuse: entities by either key and missing ones, abstract types, errors a client may see and
// masked ones, null bubbling, bad variables, @skip/@include, introspection, serial mutations and
// the authorization directives.
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, buildSubgraphApolloServer, createLogger, DateTime, viewer, type SubgraphDefinition, type Viewer } from '../src/index.ts';
import { testRequest } from '../src/testing.ts';

interface Context {
  viewer: Viewer;
  bumps: number[];
}

const PRODUCTS = [
  { id: 1, name: 'Lamp', price: 1200, tags: ['home', null], createdAt: new Date('2026-01-02T03:04:05Z'), secret: 's1' },
  { id: 2, name: 'Desk', price: null, tags: null, createdAt: null, secret: 's2' },
  { id: 3, name: 'Chair', price: 800, tags: [], createdAt: new Date('2025-05-05T00:00:00Z'), secret: 's3' },
];
const USERS = [
  { id: 10, email: 'ann@example.com', name: 'Ann' },
  { id: 11, email: 'bob@example.com', name: null },
];
const REVIEWS = [
  { productId: 1, stars: 5, body: 'bright', authorId: 10 },
  { productId: 1, stars: 2, body: null, authorId: 99 },
  { productId: 3, stars: 4, body: 'sturdy', authorId: 11 },
];
let counter = 0;

const definition: SubgraphDefinition<{ $disconnect(): Promise<void> }, Context> = {
  name: 'shop',
  defaultPort: 0,
  schema: new URL('./fixtures/shop.graphql', import.meta.url),
  migrations: new URL('./fixtures/', import.meta.url),
  resolvers: {
    DateTime,
    Query: {
      products: (_: unknown, { first, sort, range }: { first: number; sort: string; range?: { from: number; to: number } }) => {
        const sorted = sort === 'NEWEST' ? [...PRODUCTS].reverse() : PRODUCTS;
        return sorted.filter((p) => !range || (p.id >= range.from && p.id <= range.to)).slice(0, first);
      },
      search: (_: unknown, { text }: { text: string }) => [...PRODUCTS.filter((p) => p.name.includes(text)), ...USERS.filter((u) => u.name?.includes(text))],
      node: async (_: unknown, { id }: { id: string }) => PRODUCTS.find((p) => String(p.id) === id) ?? USERS.find((u) => String(u.id) === id) ?? null,
      refused: () => {
        throw new GraphQLError('no such thing', { extensions: { code: 'BAD_USER_INPUT', field: 'refused' } });
      },
      crashed: async () => {
        throw new Error('connection reset by the database');
      },
      strict: () => [{ n: 1 }, { n: null }, { n: 3 }],
      whoami: (_: unknown, __: unknown, { viewer: caller }: Context) => `user ${caller.userId}`,
      at: () => new Date('2026-12-03T00:00:00Z'),
    },
    Mutation: {
      bump: async (_: unknown, { by }: { by: number }, { bumps }: Context) => {
        await new Promise((resolve) => setTimeout(resolve, 3 - by));
        bumps.push(by);
        return (counter += by);
      },
      failBump: () => {
        throw new GraphQLError('not now', { extensions: { code: 'CONFLICT' } });
      },
    },
    Node: { __resolveType: (node: object) => ('email' in node ? 'User' : 'Product') },
    SearchResult: { __resolveType: (node: object) => ('email' in node ? 'User' : 'Product') },
    Product: {
      __resolveReference: async ({ id }: { id: string }) => PRODUCTS.find((p) => String(p.id) === id) ?? null,
      reviews: ({ id }: { id: number }, { stars }: { stars?: number }) => REVIEWS.filter((r) => r.productId === id && (stars === undefined || r.stars === stars)),
    },
    Review: {
      author: ({ authorId }: { authorId: number }) => USERS.find((u) => u.id === authorId) ?? null,
    },
    User: {
      __resolveReference: (reference: { id?: string; email?: string }) =>
        USERS.find((u) => (reference.id !== undefined ? String(u.id) === reference.id : u.email === reference.email)) ?? null,
    },
  },
  owners: {},
  createClient: () => ({ $disconnect: async () => {} }),
  createContext: (_client, request) => ({ viewer: request.viewer, bumps: [] }),
};

/** Refused variables and @skip/@include are left to graphql-js (compiled-execution.ts says why). */
type Way = 'compiled' | 'interpreted';

const ENTITIES = `query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Product { id name price tags createdAt reviews { stars body author { id name } } }
    ... on User { id email userName: name }
  }
}`;

/** [what it covers, query, variables, operation name, how the compiled server runs it] */
const OPERATIONS: [string, string, Record<string, unknown>?, string?, Way?][] = [
  ['entities by both keys, a missing one and duplicates', ENTITIES, {
    representations: [
      { __typename: 'Product', id: '3' },
      { __typename: 'User', email: 'bob@example.com' },
      { __typename: 'Product', id: '404' },
      { __typename: 'User', id: '10' },
      { __typename: 'Product', id: '1' },
      { __typename: 'Product', id: '3' },
    ],
  }],
  ['an entity of a type the subgraph does not have', ENTITIES, { representations: [{ __typename: 'Order', id: '1' }] }],
  ['a representation without a typename', ENTITIES, { representations: [{ id: '1' }] }],
  ['representations that are not a list of objects', ENTITIES, { representations: 'Product:1' }],
  ['a null representation', ENTITIES, { representations: [null] }, undefined, 'interpreted'],
  ['no representations variable', ENTITIES, {}, undefined, 'interpreted'],
  ['defaults, enums, input objects and aliases', `{ a: products { id name } b: products(first: 3, sort: OLDEST, range: { to: 2 }) { id n: name price } }`],
  ['an argument on a nested field and a variable in it', `query($stars: Int) { products(first: 5) { id reviews(stars: $stars) { stars author { email } } } }`, { stars: 5 }],
  ['an enum variable it does not know', `query($sort: Sort) { products(sort: $sort) { id } }`, { sort: 'RANDOM' }, undefined, 'interpreted'],
  ['an Int variable out of range', `query($first: Int) { products(first: $first) { id } }`, { first: 2 ** 40 }, undefined, 'interpreted'],
  ['an input object missing a required field', `query($range: Range) { products(range: $range) { id } }`, { range: { from: 1 } }, undefined, 'interpreted'],
  ['a union and an interface', `{ search(text: "a") { __typename ... on Product { id } ... on User { email } } node(id: "11") { id ... on User { name } } }`],
  ['@skip and @include on fields, fragments and spreads', `query($yes: Boolean!, $no: Boolean!) {
    products(first: 3) { id name @include(if: $no) price @skip(if: $no) ...Extra @include(if: $yes) ... on Product @skip(if: $yes) { tags } }
  }
  fragment Extra on Product { tags createdAt @skip(if: $yes) }`, { yes: true, no: false }, undefined, 'interpreted'],
  ['one field under spreads with different conditions', `query($yes: Boolean!) {
    products(first: 2) { ...Named @skip(if: $yes) ...Priced reviews { ... on Review @include(if: $yes) { stars } ...Body @skip(if: $yes) } }
  }
  fragment Named on Product { id name reviews { body } }
  fragment Priced on Product { id price name @include(if: $yes) }
  fragment Body on Review { body stars @skip(if: $yes) }`, { yes: true }, undefined, 'interpreted'],
  ['an error a client may see, beside data', `{ refused at products(first: 1) { id } }`],
  ['an unexpected error, masked', `{ crashed at }`],
  ['null bubbling to the nearest nullable field', `{ strict { n } at }`],
  ['a guarded field, anonymous and guarded by scope', `{ whoami products(first: 3) { id secret } }`],
  ['introspection', `{ __schema { queryType { name } mutationType { name } } __type(name: "Product") { name kind fields { name type { name kind ofType { name } } } } }`],
  ['the service SDL the router composes', `{ _service { sdl } }`],
  ['several operations, one picked by name', `query One { at } query Two { products(first: 1) { name } }`, {}, 'Two'],
  ['a leaf serialized by a custom scalar', `{ at products(first: 3) { createdAt } }`],
];

const MUTATIONS: [string, string][] = [
  ['mutations run one after another, in order', `mutation { a: bump(by: 1) b: bump(by: 2) c: bump(by: 3) }`],
  ['a failing mutation between two that succeed', `mutation { a: bump(by: 1) failBump c: bump(by: 3) }`],
];

let compiled: ApolloServer<Context>;
const counts = { compiled: 0, interpreted: 0 };
const laterCounts = { compiled: 0, interpreted: 0 };
let interpreted: ApolloServer<Context>;
let compiledLater: ApolloServer<Context>;

beforeAll(async () => {
  const logger = createLogger('shop', 'silent');
  compiled = buildSubgraphApolloServer(definition, logger, { compileAfter: 0, counts });
  interpreted = buildSubgraphApolloServer(definition, logger, { compiledExecution: false });
  compiledLater = buildSubgraphApolloServer(definition, logger, { counts: laterCounts });
  await Promise.all([compiled.start(), interpreted.start(), compiledLater.start()]);
});
afterAll(() => Promise.all([compiled?.stop(), interpreted?.stop(), compiledLater?.stop()]));

/** One POST as the HTTP layer hands it to Apollo: status, headers and the body's exact text. */
async function send(server: ApolloServer<Context>, query: string, variables?: Record<string, unknown>, operationName?: string, as: Viewer = ANONYMOUS) {
  const headers = new HeaderMap([['content-type', 'application/json']]);
  const context = definition.createContext({ $disconnect: async () => {} }, testRequest(as), undefined as never);
  const result = await server.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: 'POST', headers, search: '', body: { query, ...(variables ? { variables } : {}), ...(operationName ? { operationName } : {}) } },
    context: async () => context,
  });
  if (result.body.kind !== 'complete') throw new Error('expected a complete body');
  return { status: result.status ?? 200, headers: Object.fromEntries(result.headers), body: result.body.string, bumps: context.bumps };
}

describe('compiled execution answers as graphql-js does', () => {
  for (const [name, query, variables, operationName, way = 'compiled'] of OPERATIONS) {
    it(name, async () => {
      const before = { ...counts };
      for (const as of [ANONYMOUS, viewer(10), viewer(1, ['admin'])]) {
        const reference = await send(interpreted, query, variables, operationName, as);
        // Twice: the first execution compiles, the second runs what was compiled and cached.
        expect(await send(compiled, query, variables, operationName, as)).toEqual(reference);
        expect(await send(compiled, query, variables, operationName, as)).toEqual(reference);
      }
      expect(counts[way] - before[way]).toBe(6);
    });
  }

  for (const [name, query] of MUTATIONS) {
    it(name, async () => {
      counter = 0;
      const reference = await send(interpreted, query, undefined, undefined, viewer(10));
      counter = 0;
      const interpretedBefore = counts.interpreted;
      expect(await send(compiled, query, undefined, undefined, viewer(10))).toEqual(reference);
      expect(counts.interpreted - interpretedBefore).toBe(1);
      expect(reference.bumps).toEqual(reference.body.includes('failBump') ? [1] : [1, 2, 3]);
    });
  }

  it('compiles a document only once it has been executed before, by default', async () => {
    const query = `{ products(first: 3) { id reviews { stars } } }`;
    const reference = await send(interpreted, query);
    for (let execution = 0; execution < 3; execution++) expect(await send(compiledLater, query)).toEqual(reference);
    expect(laterCounts).toEqual({ interpreted: 1, compiled: 2 });
  });
});

describe('the cases are not vacuous', () => {
  it('the reference answers hold data, errors of each kind and refused variables', async () => {
    const bodies = await Promise.all(OPERATIONS.map(([, query, variables, operationName]) => send(interpreted, query, variables, operationName)));
    const codes = new Set(bodies.flatMap(({ body }) => ((JSON.parse(body) as { errors?: { extensions?: { code?: string } }[] }).errors ?? []).map((e) => e.extensions?.code)));
    expect([...codes].sort()).toEqual(['BAD_USER_INPUT', 'INTERNAL_SERVER_ERROR', 'UNAUTHENTICATED']);
    expect(bodies.filter(({ status }) => status === 400).length).toBe(5);
    expect(bodies.filter(({ body }) => body.includes('"data":{')).length).toBe(14);
  });
});
