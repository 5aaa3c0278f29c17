// What the router lets out of a subgraph's errors. The gateway passes a subgraph's messages and
// extensions through untouched, so the router masks again: a subgraph that leaks (an older build,
// a third-party subgraph, one in development mode) must not leak through the router. And end to
// end: a subgraph whose database fails mid-run gives a generic INTERNAL_SERVER_ERROR at the
// subgraph and at the router, no database text in either, and its /ready says 503.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '@commerce/service-kit/core';
import type { RunningRouter } from '../src/router.ts';
import { routerInFrontOf, type ScriptedGraph } from './support/scripted-subgraphs.ts';
import { startSupergraph, type Supergraph } from './support/supergraph.ts';

/** Anything that would tell a client how the service is built or where it runs. */
const LEAKS = /prisma|pglite|relation|10\.0\.0\.5|127\.0\.0\.1|localhost|stacktrace|serviceName|\.ts:\d|P20\d\d|closed|password|hunter2|sql/i;

interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields?: Record<string, unknown>;
}

/** A logger that keeps every line, for the tests to read what operators would see. */
function captureLogs(): { logger: Logger; lines: LogLine[]; notable: () => LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, ...(fields ? { fields } : {}) });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  // Everything but the access log's one info line per request.
  return { logger, lines, notable: () => lines.filter((line) => line.level !== 'info') };
}

describe('the router masks what a leaking subgraph sends', () => {
  let graph: ScriptedGraph;
  let router: RunningRouter;
  /** The errors the fake products subgraph answers the next query with. */
  let errors: unknown[] = [];
  const logs = captureLogs();

  beforeAll(async () => {
    graph = await routerInFrontOf(
      (request, response) => {
        request.resume();
        request.on('end', () => {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ data: { product: null }, errors }));
        });
      },
      { logger: logs.logger },
    );
    router = graph.router;
  });
  afterAll(async () => {
    await graph?.close();
  });

  async function ask(subgraphErrors: unknown[]) {
    errors = subgraphErrors;
    logs.lines.length = 0;
    const response = await fetch(router.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ product(id: "1") { name } }' }) });
    const text = await response.text();
    return { status: response.status, text, body: JSON.parse(text) as { data: unknown; errors: { message: string; path?: unknown; extensions: Record<string, unknown> }[] } };
  }

  const generic = { message: 'Internal server error', path: ['product'], extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: expect.any(String) } };

  it.each([
    ['a code outside the closed set', { message: 'relation "products" does not exist (10.0.0.5:5432)', path: ['product'], extensions: { code: 'P2010', stacktrace: ['at /srv/products.ts:12'] } }],
    ['INTERNAL_SERVER_ERROR with the details left in', { message: 'Invalid `prisma.product.findMany()` invocation: password authentication failed', path: ['product'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
    ['no code at all (the gateway calls it DOWNSTREAM_SERVICE_ERROR)', { message: 'connect ECONNREFUSED 10.0.0.5:5432 password=hunter2', path: ['product'] }],
    ['a lower-case look-alike of a public code', { message: 'sql: SELECT * FROM products', path: ['product'], extensions: { code: 'not_found' } }],
  ])('%s becomes a generic INTERNAL_SERVER_ERROR', async (_what, error) => {
    const answer = await ask([error]);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ data: { product: null }, errors: [generic] });
    expect(answer.text).not.toMatch(LEAKS);
    // What the client is not told goes to the log, once, at error level: where, and what happened.
    expect(logs.notable()).toEqual([{ level: 'error', message: 'unexpected error', fields: { path: ['product'], error: error.message, stack: expect.stringContaining(error.message) } }]);
  });

  it('keeps a public code and its message, and only the allow-listed extensions', async () => {
    const answer = await ask([{ message: 'Product 1 was not found', path: ['product'], extensions: { code: 'NOT_FOUND', typename: 'Product', id: '1', sql: 'SELECT 1', stacktrace: ['at x'] } }]);
    expect(answer.body.errors).toEqual([{ message: 'Product 1 was not found', path: ['product'], extensions: { code: 'NOT_FOUND', typename: 'Product', id: '1', requestId: expect.any(String) } }]);
    expect(answer.text).not.toMatch(LEAKS);
    // An expected error is the client's business: nothing for operators.
    expect(logs.notable()).toEqual([]);
  });

  it('names an unavailable subgraph, never what the subgraph said about it', async () => {
    const answer = await ask([{ message: 'upstream 10.0.0.5:5432 refused', path: ['product'], extensions: { code: 'SERVICE_UNAVAILABLE' } }]);
    expect(answer.body.errors).toEqual([{ message: 'The products service is unavailable', path: ['product'], extensions: { code: 'SERVICE_UNAVAILABLE', requestId: expect.any(String) } }]);
    expect(answer.text).not.toMatch(LEAKS);
    // What the subgraph said goes to the log, at debug only: an outage is not an error of the router's.
    expect(logs.notable()).toEqual([{ level: 'debug', message: 'subgraph unavailable', fields: { subgraph: 'products', detail: 'upstream 10.0.0.5:5432 refused' } }]);
  });
});

describe('a subgraph that answers 500', () => {
  let graph: ScriptedGraph;
  let router: RunningRouter;
  const logs = captureLogs();

  beforeAll(async () => {
    graph = await routerInFrontOf(
      (request, response) => {
        request.resume();
        request.on('end', () => response.writeHead(500, { 'content-type': 'application/json' }).end('{"errors":[{"message":"boom at 10.0.0.5"}]}'));
      },
      { resilience: { retries: 0, breakerFailures: 1, breakerHalfOpenMs: 60_000 }, logger: logs.logger },
    );
    router = graph.router;
  });
  afterAll(async () => {
    await graph?.close();
  });

  it('is named to the client and logged at debug, and /ready shows its breaker open', async () => {
    logs.lines.length = 0; // only what this request logs, not start-up's
    const response = await fetch(router.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ product(id: "1") { name } }' }) });
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      data: { product: null },
      // The fetch failed as a whole: the gateway gives its error no path.
      errors: [{ message: 'The products service is unavailable', extensions: { code: 'SERVICE_UNAVAILABLE', requestId: expect.any(String) } }],
    });
    expect(text).not.toMatch(LEAKS);
    expect(logs.notable()).toEqual([
      { level: 'warn', message: 'circuit breaker of products is open', fields: { subgraph: 'products', state: 'open' } },
      { level: 'debug', message: 'subgraph unavailable', fields: { subgraph: 'products', detail: 'The products service is unavailable' } },
    ]);

    const ready = await fetch(`${router.url}/ready`);
    expect(ready.status).toBe(200);
    // Every subgraph's /health answers 500 here; only products has failed a request.
    expect(await ready.json()).toEqual({
      ready: true,
      subgraphs: {
        accounts: { status: 'down', breaker: 'closed' },
        products: { status: 'down', breaker: 'open' },
        inventory: { status: 'down', breaker: 'closed' },
        reviews: { status: 'down', breaker: 'closed' },
        orders: { status: 'down', breaker: 'closed' },
      },
    });
  });
});

describe("a subgraph's database failing mid-run", () => {
  let graph: Supergraph;

  beforeAll(async () => {
    graph = await startSupergraph();
  });
  afterAll(() => graph?.close());

  it('gives a generic INTERNAL_SERVER_ERROR from the subgraph and the router, no database text, the rest of the answer intact, and the subgraph unready', async () => {
    const query = '{ product(id: "1") { name reviewCount } }';
    expect((await graph.query(query)).data).toEqual({ product: { name: 'Classic Novel', reviewCount: 6 } });
    const readyUrl = graph.subgraphUrl('reviews').replace(/\/graphql$/, '/ready');
    expect((await fetch(readyUrl)).status).toBe(200);

    await graph.closeDatabase('reviews');

    const direct = await graph.callSubgraph('reviews', {
      query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { reviewCount } } }',
      variables: { r: [{ __typename: 'Product', id: '1' }] },
    });
    const directText = await direct.text();
    expect(JSON.parse(directText)).toEqual({
      data: { _entities: [{ reviewCount: null }] },
      errors: [{ message: 'Internal server error', locations: [{ line: 1, column: 73 }], path: ['_entities', 0, 'reviewCount'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
    });
    expect(directText).not.toMatch(LEAKS);

    const response = await fetch(graph.router.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(JSON.parse(text)).toEqual({
      data: { product: { name: 'Classic Novel', reviewCount: null } },
      errors: [{ message: 'Internal server error', path: ['product', 'reviewCount'], extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: expect.any(String) } }],
    });
    expect(text).not.toMatch(LEAKS);

    const ready = await fetch(readyUrl);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, database: 'pglite' });
    // The router stays ready: it still serves every other field.
    expect((await fetch(`${graph.router.url}/ready`)).status).toBe(200);
  });
});
