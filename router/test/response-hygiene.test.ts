// The last word on every router response (router.ts, responseHygiene), in front of scripted
// subgraphs: the gateway's `extensions.valueCompletion` never reaches a client; an entity a
// subgraph could not find becomes a NOT_FOUND error where it nulled the answer, and stays a bare
// null where it only nulled a nullable part; every error carries the request id.
import { createLogger } from '@commerce/service-kit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRouter } from '../src/router.ts';
import { routerInFrontOf, type ScriptedGraph } from './support/scripted-subgraphs.ts';


/** What each scripted subgraph answers, by name: from the query it was sent. */
let script: Record<string, (query: string) => unknown> = {};
let graph: ScriptedGraph;
let router: RunningRouter;

beforeAll(async () => {
  // The router turns Apollo's usage telemetry off itself (the gateway reads this when it is built).
  delete process.env.APOLLO_TELEMETRY_DISABLED;
  graph = await routerInFrontOf(
    (request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const name = (request.url ?? '').split('/')[1] ?? '';
        const { query } = JSON.parse(body) as { query: string };
        const answer = script[name]?.(query) ?? { errors: [{ message: `unscripted call to ${name}`, extensions: { code: 'UNSCRIPTED' } }] };
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    },
    { logger: createLogger('router', 'silent') },
  );
  router = graph.router;
});
afterAll(async () => {
  await graph?.close();
});

async function ask(query: string, headers: Record<string, string> = {}) {
  const response = await fetch(router.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
  return { status: response.status, requestId: response.headers.get('x-request-id'), body: (await response.json()) as Record<string, unknown> };
}

describe('entities a subgraph could not find', () => {
  it('turns a write whose payload lost its entity into a NOT_FOUND error at its path, never data: null alone', async () => {
    script = {
      inventory: () => ({ data: { restock: { product: { __typename: 'Product', id: '4242', stock: 5 } } } }),
      products: () => ({ data: { _entities: [null] } }),
    };
    const answer = await ask('mutation { restock(productId: "4242", quantity: 5) { product { name stock } } }');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      data: null,
      errors: [{ message: 'A referenced object was not found', path: ['restock', 'product', 'name'], extensions: { code: 'NOT_FOUND', requestId: answer.requestId } }],
    });
  });

  it('turns a root field that a missing value nulled into a NOT_FOUND error, beside a root field that was answered', async () => {
    // products leaves out a non-null field of the second product: the gateway nulls that root field.
    script = { products: () => ({ data: { lamp: { name: 'Lamp' }, gone: { name: null } } }) };
    const answer = await ask('{ lamp: product(id: "3") { name } gone: product(id: "4242") { name } }');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      data: { lamp: { name: 'Lamp' }, gone: null },
      errors: [{ message: 'A referenced object was not found', path: ['gone', 'name'], extensions: { code: 'NOT_FOUND', requestId: answer.requestId } }],
    });
  });

  it('leaves a null that only a nullable part took (an email without an account) as it is, with no error and no valueCompletion', async () => {
    script = {
      products: () => ({ data: { product: { __typename: 'Product', id: '10', name: 'Desk' } } }),
      inventory: () => ({ data: { _entities: [{ __typename: 'Product', waitlist: [{ __typename: 'User', email: 'ghost@example.com' }, { __typename: 'User', email: 'user21@example.com' }] }] } }),
      accounts: () => ({ data: { _entities: [null, { __typename: 'User', name: 'Ada Turing' }] } }),
    };
    const answer = await ask('{ product(id: "10") { name waitlist { name } } }');
    expect(answer.body).toEqual({ data: { product: { name: 'Desk', waitlist: [null, { name: 'Ada Turing' }] } } });
  });

  it('keeps an error the subgraph did send, instead of adding NOT_FOUND to it', async () => {
    script = {
      inventory: () => ({ data: { restock: { product: { __typename: 'Product', id: '4242', stock: 5 } } } }),
      products: () => ({ data: { _entities: [null] }, errors: [{ message: 'Product 4242 was not found', path: ['_entities', 0], extensions: { code: 'NOT_FOUND' } }] }),
    };
    const answer = await ask('mutation { restock(productId: "4242", quantity: 5) { product { name } } }');
    expect(answer.body.data).toBeNull();
    expect(answer.body.extensions).toBeUndefined();
    expect((answer.body.errors as { message: string; extensions: { code: string } }[]).map((e) => [e.message, e.extensions.code])).toEqual([['Product 4242 was not found', 'NOT_FOUND']]);
  });
});

describe('query plans', () => {
  it('are never shown to a client asking with the gateway’s Apollo-Query-Plan-Experimental header (not in tests either), and the answer stays the same', async () => {
    expect(process.env.NODE_ENV).not.toBe('production');
    script = {
      inventory: () => ({ data: { restock: { product: { __typename: 'Product', id: '4242', stock: 5 } } } }),
      products: () => ({ data: { _entities: [null] } }),
    };
    const query = 'mutation { restock(productId: "4242", quantity: 5) { product { name stock } } }';
    const plain = await ask(query);
    const asking = await ask(query, { 'apollo-query-plan-experimental': '1', 'apollo-query-plan-experimental-format': 'string' });
    expect(asking.body).toEqual({ ...plain.body, errors: [{ ...(plain.body.errors as object[])[0], extensions: { code: 'NOT_FOUND', requestId: asking.requestId } }] });
    expect(JSON.stringify(asking.body)).not.toMatch(/QueryPlan|Fetch\(service/);
  });
});

describe('usage telemetry', () => {
  it('is off: the router sets APOLLO_TELEMETRY_DISABLED before the gateway is built', () => {
    expect(process.env.APOLLO_TELEMETRY_DISABLED).toBe('1');
  });
});

describe('request ids', () => {
  it('puts the request id of the response in every error, the client’s own when it is well-formed', async () => {
    script = { products: () => ({ data: { a: null, b: null }, errors: [{ message: 'A', path: ['a'], extensions: { code: 'NOT_FOUND' } }, { message: 'B', path: ['b'], extensions: { code: 'BAD_USER_INPUT' } }] }) };
    const answer = await ask('{ a: product(id: "1") { name } b: product(id: "2") { name } }', { 'x-request-id': 'client-req.42' });
    expect(answer.requestId).toBe('client-req.42');
    expect((answer.body.errors as { extensions: Record<string, unknown> }[]).map((e) => e.extensions)).toEqual([
      { code: 'NOT_FOUND', requestId: 'client-req.42' },
      { code: 'BAD_USER_INPUT', requestId: 'client-req.42' },
    ]);
  });

  it('adds nothing to an answer without errors', async () => {
    script = { products: () => ({ data: { product: { name: 'Lamp' } } }) };
    expect((await ask('{ product(id: "3") { name } }')).body).toEqual({ data: { product: { name: 'Lamp' } } });
  });
});
