import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { identityHeaders, viewer, type RequestInfo } from '@commerce/service-kit/core';
import { graphql, GraphQLError, parse } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSubgraphFetcher } from '../src/fetcher.ts';
import { guardedFields, mergeFetches, splitMerged, SubgraphDataSource } from '../src/merge.ts';

/**
 * Fetch merging (merge.ts): one caller's same-tick queries to one subgraph go out as one request,
 * and each fetch gets back exactly what it would have got alone; when the merged answer cannot be
 * split that way, each fetch is sent again on its own.
 */

const sdl = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { product(id: ID!): Product  strictProduct(id: ID!): Product! }
  type Product @key(fields: "id") { id: ID! name: String! secret: String price(currency: String): Int }
  type Mutation { touch(id: ID!): Product }
`;
const schema = buildSubgraphSchema([
  {
    typeDefs: parse(sdl),
    resolvers: {
      Query: {
        product: (_: unknown, { id }: { id: string }) => (id === 'missing' ? null : { id }),
        strictProduct: (_: unknown, { id }: { id: string }) => ({ id, broken: id === 'boom' }),
      },
      Product: {
        __resolveReference: ({ id }: { id: string }) => (id === 'boom' ? { id, broken: true } : { id }),
        name: ({ id, broken }: { id: string; broken?: boolean }) => {
          if (broken) throw new GraphQLError(`cannot name ${id}`, { extensions: { code: 'NOT_FOUND' } });
          return `Product ${id}`;
        },
        secret: () => {
          throw new GraphQLError('You are not allowed to see or do this', { extensions: { code: 'FORBIDDEN' } });
        },
        price: ({ id }: { id: string }, { currency }: { currency?: string }) => id.length * (currency === 'EUR' ? 2 : 1),
      },
      Mutation: { touch: (_: unknown, { id }: { id: string }) => ({ id }) },
    },
  },
]);

/** The supergraph rules merging must respect: Product.secret is for admins only. */
const guards = guardedFields(`
  directive @requiresScope(anyOf: [String!]!) on FIELD_DEFINITION | OBJECT
  type Query { product(id: ID!): Product strictProduct(id: ID!): Product! }
  type Product { id: ID! name: String! secret: String @requiresScope(anyOf: ["admin"]) price(currency: String): Int }
`);

let received: { body: { query: string; variables: Record<string, unknown> }; headers: IncomingMessage['headers'] }[] = [];
let refuseLarge = false;
let refuseSignature = false;
let url = '';
const server = createServer((request: IncomingMessage, response: ServerResponse) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { query: string; variables: Record<string, unknown> };
    received.push({ body, headers: request.headers });
    if (refuseSignature) {
      response.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: 'Only the router may call this service' }] }));
      return;
    }
    if (refuseLarge && Object.keys(body.variables ?? {}).length > 1) {
      response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: 'too large' }] }));
      return;
    }
    void graphql({ schema, source: body.query, variableValues: body.variables }).then((result) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    });
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  received = [];
  refuseLarge = false;
  refuseSignature = false;
});

function dataSource(merge = true, onRefused?: (subgraph: string, status: number) => void) {
  const fetcher = createSubgraphFetcher({ name: 'products', timeoutMs: 2_000, maxSockets: 4, coalesce: false });
  return new SubgraphDataSource({
    ...(onRefused ? { onRefused } : {}),
    name: 'products',
    url,
    fetcher,
    secret: 'x'.repeat(32),
    identity: (context) => identityHeaders((context as RequestInfo | undefined) ?? { viewer: viewer(null), requestId: 'gateway', clientIp: null }),
    merge,
    guards,
  });
}

const ADMIN: RequestInfo = { viewer: viewer(1, ['admin']), requestId: 'r1', clientIp: null };
const CUSTOMER: RequestInfo = { viewer: viewer(2), requestId: 'r2', clientIp: null };

function fetch(source: SubgraphDataSource, query: string, variables: Record<string, unknown>, context: RequestInfo = ADMIN) {
  return source.process({
    kind: 'incoming operation',
    request: { query, variables },
    context,
    incomingRequestContext: {},
  } as never);
}

const ENTITIES = 'query($representations:[_Any!]!){_entities(representations:$representations){...on Product{name}}}';
const PRICES = 'query Prices__products__2($representations:[_Any!]!,$currency:String){_entities(representations:$representations){...F}} fragment F on Product{price(currency:$currency)}';
const reps = (...ids: string[]) => ({ representations: ids.map((id) => ({ __typename: 'Product', id })) });

describe('merging same-tick fetches', () => {
  it('sends one request for one caller’s fetches and gives each exactly its own answer', async () => {
    const source = dataSource();
    const [a, b, c] = await Promise.all([
      fetch(source, ENTITIES, reps('1', '22')),
      fetch(source, PRICES, { ...reps('333'), currency: 'EUR' }),
      fetch(source, '{product(id:"4"){id name}}', {}),
    ]);
    expect(received).toHaveLength(1);
    expect(received[0]!.body.query).toBe(
      'query($_0_representations:[_Any!]!$_1_representations:[_Any!]!$_1_currency:String){_0__entities:_entities(representations:$_0_representations){...on Product{name}}' +
        '_1__entities:_entities(representations:$_1_representations){..._1_F}_2_product:product(id:"4"){id name}}fragment _1_F on Product{price(currency:$_1_currency)}',
    );
    expect(a).toEqual({ data: { _entities: [{ name: 'Product 1' }, { name: 'Product 22' }] } });
    expect(b).toEqual({ data: { _entities: [{ price: 6 }] } });
    expect(c).toEqual({ data: { product: { id: '4', name: 'Product 4' } } });

    // The same as each alone.
    const alone = dataSource(false);
    expect(await fetch(alone, ENTITIES, reps('1', '22'))).toEqual(a);
    expect(await fetch(alone, PRICES, { ...reps('333'), currency: 'EUR' })).toEqual(b);
  });

  it('re-paths each error to its own fetch', async () => {
    const source = dataSource();
    const [a, b] = await Promise.all([fetch(source, ENTITIES, reps('7', 'boom')), fetch(source, '{product(id:"missing"){id}}', {})]);
    expect(received).toHaveLength(1);
    expect(a).toMatchObject({ data: { _entities: [{ name: 'Product 7' }, null] }, errors: [{ message: 'cannot name boom', path: ['_entities', 1, 'name'] }] });
    expect(b).toEqual({ data: { product: null } });
    expect(await fetch(dataSource(false), ENTITIES, reps('7', 'boom'))).toMatchObject({ data: a.data, errors: [{ message: 'cannot name boom', path: ['_entities', 1, 'name'] }] });
  });

  it('re-sends each fetch alone when an error nulls the whole merged answer', async () => {
    const source = dataSource();
    // A failing non-null root field nulls `data` for everyone in the request.
    const strict = 'query($representations:[_Any!]!){_entities(representations:$representations){...on Product{name}}}';
    const boom = '{strictProduct(id:"boom"){name}}';
    const [a, b] = await Promise.all([fetch(source, strict, reps('5')), fetch(source, boom, {})]);
    expect(received).toHaveLength(3);
    expect(a).toEqual({ data: { _entities: [{ name: 'Product 5' }] } });
    expect(b).toMatchObject({ data: null, errors: [{ message: 'cannot name boom', path: ['strictProduct', 'name'] }] });
  });

  it('re-sends each fetch alone when the merged request is refused (a subgraph limit)', async () => {
    refuseLarge = true;
    const source = dataSource();
    const [a, b] = await Promise.all([fetch(source, ENTITIES, reps('1')), fetch(source, ENTITIES, reps('2'))]);
    expect(received).toHaveLength(3);
    expect(a).toEqual({ data: { _entities: [{ name: 'Product 1' }] } });
    expect(b).toEqual({ data: { _entities: [{ name: 'Product 2' }] } });
  });

  it('fails every fetch of a merged request the subgraph refused to the router (its signature) at once, telling operators once', async () => {
    refuseSignature = true;
    const refusals: number[] = [];
    const source = dataSource(true, (_subgraph, status) => refusals.push(status));
    const answers = await Promise.allSettled([fetch(source, ENTITIES, reps('1')), fetch(source, ENTITIES, reps('2'))]);
    // Sent alone, each would be refused the same way: no second attempt.
    expect(received).toHaveLength(1);
    expect(refusals).toEqual([401]);
    for (const answer of answers) {
      expect(answer.status).toBe('rejected');
      expect((answer as PromiseRejectedResult).reason).toMatchObject({ message: 'The products service is unavailable', extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'products' } });
    }
  });

  it('never merges fetches of different callers, mutations, or fetches that are not in the same tick', async () => {
    const source = dataSource();
    await Promise.all([fetch(source, ENTITIES, reps('1'), ADMIN), fetch(source, ENTITIES, reps('2'), { ...ADMIN, requestId: 'other' })]);
    expect(received).toHaveLength(2);
    received = [];
    await Promise.all([fetch(source, 'mutation{touch(id:"1"){id}}', {}), fetch(source, 'mutation{touch(id:"2"){id}}', {})]);
    expect(received.map((r) => r.body.query)).toEqual(['mutation{touch(id:"1"){id}}', 'mutation{touch(id:"2"){id}}']);
    received = [];
    await fetch(source, ENTITIES, reps('1'));
    await fetch(source, ENTITIES, reps('2'));
    expect(received).toHaveLength(2);
    // A lone fetch is sent exactly as the gateway wrote it.
    expect(received[0]!.body).toEqual({ query: ENTITIES, variables: reps('1') });
  });

  it('does not merge two fetches that could both be denied the same field (one error each, as apart)', async () => {
    const secret = 'query($representations:[_Any!]!){_entities(representations:$representations){...on Product{secret}}}';
    const source = dataSource();
    await Promise.all([fetch(source, secret, reps('1'), CUSTOMER), fetch(source, secret, reps('2'), CUSTOMER)]);
    expect(received).toHaveLength(2);
    received = [];
    // An admin is never denied it: merged.
    await Promise.all([fetch(source, secret, reps('1'), ADMIN), fetch(source, secret, reps('2'), ADMIN)]);
    expect(received).toHaveLength(1);
    received = [];
    // A customer's fetches that share no guarded field: merged.
    await Promise.all([fetch(source, secret, reps('1'), CUSTOMER), fetch(source, ENTITIES, reps('2'), CUSTOMER)]);
    expect(received).toHaveLength(1);
  });

  it('signs every request, merged or not, with the caller’s identity', async () => {
    const source = dataSource();
    await Promise.all([fetch(source, ENTITIES, reps('1')), fetch(source, ENTITIES, reps('2'))]);
    expect(received[0]!.headers).toMatchObject({ 'x-commerce-user-id': '1', 'x-commerce-scopes': 'admin', 'x-request-id': 'r1' });
    expect(received[0]!.headers['x-commerce-signature']).toMatch(/^v1=/);
  });
});

describe('splitting a merged answer', () => {
  const merged = mergeFetches([ENTITIES, '{product(id:"4"){id}}']);
  it('refuses what it cannot attribute', () => {
    expect(splitMerged(merged, { data: null })).toEqual({ reason: 'no data' });
    expect(splitMerged(merged, { data: { _0__entities: [] } })).toEqual({ reason: 'no _1_product in data (fetch 1)' });
    expect(splitMerged(merged, { data: { _0__entities: [], _1_product: null }, errors: [{ message: 'x' }] })).toEqual({ reason: 'an error outside every fetch' });
    expect(splitMerged(merged, { data: { _0__entities: [], _1_product: null }, errors: [{ message: 'x', path: ['_7_product'] }] })).toEqual({
      reason: 'an error outside every fetch',
    });
  });
});
