import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { composeServices } from '@apollo/composition';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { IDENTITY_HEADERS, maskError } from '@commerce/service-kit/core';
import { graphql, GraphQLError, parse, type GraphQLSchema } from 'graphql';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSubgraphFetcher, type BreakerState, type SubgraphFetcher, type SubgraphFetcherOptions } from '../src/fetcher.ts';

let server: Server;
let url: string;
let requests = 0;
let connections = 0;
let delayMs = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    requests++;
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      setTimeout(() => {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ data: { echo: body, caller: request.headers.authorization ?? null } }));
      }, delayMs);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  requests = 0;
  connections = 0;
  delayMs = 0;
});

const query = JSON.stringify({ query: 'query Q__accounts__0 { me { id } }' });
const mutation = JSON.stringify({ query: 'mutation M__accounts__0 { createUser { id } }' });
const post = (body: string, headers: Record<string, string> = {}) => ({ method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('subgraph fetcher', () => {
  it('reuses keep-alive connections', async () => {
    const fetcher = createSubgraphFetcher({ name: 'accounts', timeoutMs: 1_000, maxSockets: 4, coalesce: false });
    for (let i = 0; i < 20; i++) expect((await fetcher(url, post(query))).status).toBe(200);
    expect(requests).toBe(20);
    // undici's pool hands a connection back a moment after its answer is read, so a request sent
    // at once (the second) opens a second connection; every later one reuses the two.
    expect(connections).toBeLessThanOrEqual(2);
    fetcher.destroy();
  });

  it('answers a slow subgraph with SERVICE_UNAVAILABLE after the deadline', async () => {
    delayMs = 500;
    const fetcher = createSubgraphFetcher({ name: 'accounts', timeoutMs: 100, maxSockets: 4, coalesce: false });
    const started = Date.now();
    const error = await fetcher(url, post(query)).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(400);
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).message).toBe('The accounts service did not answer within 100 ms');
    expect((error as GraphQLError).extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', serviceName: 'accounts' });
    fetcher.destroy();
  });

  it('never puts the internal URL in the error for a refused connection', async () => {
    const fetcher = createSubgraphFetcher({ name: 'orders', timeoutMs: 1_000, maxSockets: 4, coalesce: false });
    const error = (await fetcher('http://127.0.0.1:1/graphql', post(query)).catch((e: unknown) => e)) as GraphQLError;
    expect(error.message).toBe('The orders service is unavailable');
    expect(JSON.stringify(error)).not.toContain('127.0.0.1');
    fetcher.destroy();
  });

  describe('coalescing identical in-flight queries', () => {
    it('sends one request for identical concurrent queries and gives every caller the answer', async () => {
      delayMs = 50;
      const fetcher = createSubgraphFetcher({ name: 'accounts', timeoutMs: 1_000, maxSockets: 4, coalesce: true });
      const responses = await Promise.all(Array.from({ length: 10 }, () => fetcher(url, post(query))));
      expect(requests).toBe(1);
      const bodies = await Promise.all(responses.map((r) => r.json()));
      expect(bodies).toEqual(Array(10).fill({ data: { echo: query, caller: null } }));
      fetcher.destroy();
    });

    it('never shares a response between callers with different credentials', async () => {
      delayMs = 50;
      const fetcher = createSubgraphFetcher({ name: 'accounts', timeoutMs: 1_000, maxSockets: 4, coalesce: true });
      const [alice, bob, alice2] = await Promise.all([
        fetcher(url, post(query, { authorization: 'Bearer alice' })),
        fetcher(url, post(query, { authorization: 'Bearer bob' })),
        fetcher(url, post(query, { authorization: 'Bearer alice' })),
      ]);
      expect(requests).toBe(2);
      expect(((await alice!.json()) as { data: { caller: string } }).data.caller).toBe('Bearer alice');
      expect(((await bob!.json()) as { data: { caller: string } }).data.caller).toBe('Bearer bob');
      expect(((await alice2!.json()) as { data: { caller: string } }).data.caller).toBe('Bearer alice');
      fetcher.destroy();
    });

    it('never coalesces mutations', async () => {
      delayMs = 50;
      const fetcher = createSubgraphFetcher({ name: 'accounts', timeoutMs: 1_000, maxSockets: 4, coalesce: true });
      await Promise.all(Array.from({ length: 5 }, () => fetcher(url, post(mutation))));
      expect(requests).toBe(5);
      fetcher.destroy();
    });

    it('is off unless asked for', async () => {
      delayMs = 50;
      const fetcher = createSubgraphFetcher({ name: 'accounts', timeoutMs: 1_000, maxSockets: 4, coalesce: false });
      await Promise.all(Array.from({ length: 5 }, () => fetcher(url, post(query))));
      expect(requests).toBe(5);
      fetcher.destroy();
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Failing subgraphs: each test runs its own server on an ephemeral port and its own fetcher.

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A server on an ephemeral port that counts connections and requests, closed after the test. */
async function serve(handler: (request: IncomingMessage, response: ServerResponse, body: string) => void) {
  const counts = { connections: 0, requests: 0 };
  const subgraph = createServer((request, response) => {
    counts.requests++;
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => handler(request, response, body));
  });
  subgraph.on('connection', () => counts.connections++);
  await new Promise<void>((resolve) => subgraph.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    subgraph.closeAllConnections();
    return new Promise((resolve) => subgraph.close(resolve));
  });
  return { server: subgraph, counts, url: `http://127.0.0.1:${(subgraph.address() as AddressInfo).port}/graphql` };
}

/** A URL where nothing listens: connections are refused. */
async function closedPort(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return `http://127.0.0.1:${port}/graphql`;
}

function fetcherFor(options: Partial<SubgraphFetcherOptions> & { name: string }): SubgraphFetcher {
  const fetcher = createSubgraphFetcher({ timeoutMs: 1_000, maxSockets: 4, coalesce: false, ...options });
  cleanups.push(() => fetcher.destroy());
  return fetcher;
}

async function failure(pending: Promise<unknown>): Promise<GraphQLError> {
  try {
    await pending;
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    return error as GraphQLError;
  }
  throw new Error('expected the fetch to fail');
}

function expectUnavailable(error: GraphQLError, name: string): void {
  expect(error.message).toBe(`The ${name} service is unavailable`);
  expect(error.extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', serviceName: name });
}

const json = (response: ServerResponse, status: number, payload: unknown) => {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(payload));
};
const ok = (response: ServerResponse) => json(response, 200, { data: { me: { id: '1' } } });

describe('subgraph fetcher under failure', () => {
  it('subgraph down: a query is tried maxAttempts times, a mutation once, both end in SERVICE_UNAVAILABLE', async () => {
    const url = await closedPort();
    const queries = fetcherFor({ name: 'inventory' });
    expectUnavailable(await failure(queries(url, post(query))), 'inventory');
    // Every attempt is a breaker failure: the count is the number of connection attempts.
    expect(queries.health()).toEqual({ state: 'closed', consecutiveFailures: 3 });

    const mutations = fetcherFor({ name: 'inventory' });
    expectUnavailable(await failure(mutations(url, post(mutation))), 'inventory');
    expect(mutations.health()).toEqual({ state: 'closed', consecutiveFailures: 1 });
  });

  it('connections dropped before any response: a query is retried and succeeds once the subgraph answers; a mutation is sent once', async () => {
    let drops = 2;
    const subgraph = await serve((_request, response) => ok(response));
    subgraph.server.prependListener('connection', (socket) => {
      if (drops-- > 0) socket.destroy();
    });
    const fetcher = fetcherFor({ name: 'inventory' });
    expect((await fetcher(subgraph.url, post(query))).status).toBe(200);
    expect(subgraph.counts).toEqual({ connections: 3, requests: 1 });
    expect(fetcher.health()).toEqual({ state: 'closed', consecutiveFailures: 0 });

    drops = 2;
    subgraph.counts.connections = 0;
    subgraph.counts.requests = 0;
    fetcher.destroy(); // no pooled connection: the mutation needs a new one, which is dropped
    expectUnavailable(await failure(fetcher(subgraph.url, post(mutation))), 'inventory');
    expect(subgraph.counts).toEqual({ connections: 1, requests: 0 });
  });

  it('a request the HTTP client refuses to send (a header value with a line break) is unavailable, but no sign of the subgraph’s health', async () => {
    const subgraph = await serve((_request, response) => ok(response));
    const fetcher = fetcherFor({ name: 'inventory' });
    expectUnavailable(await failure(fetcher(subgraph.url, post(query, { 'x-commerce-user-id': '1\r\nx-injected: yes' }))), 'inventory');
    expect(subgraph.counts.requests).toBe(0);
    expect(fetcher.health()).toEqual({ state: 'closed', consecutiveFailures: 0 });
    expect((await fetcher(subgraph.url, post(query))).status).toBe(200);
  });

  it('a 502 once then 200: the query succeeds through a retry, the mutation gets the failure', async () => {
    let badGateways = 1;
    const subgraph = await serve((_request, response) => (badGateways-- > 0 ? json(response, 502, { message: 'bad gateway' }) : ok(response)));
    const fetcher = fetcherFor({ name: 'inventory' });
    const response = await fetcher(subgraph.url, post(query));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { me: { id: '1' } } });
    expect(subgraph.counts.requests).toBe(2);

    badGateways = 1;
    subgraph.counts.requests = 0;
    expectUnavailable(await failure(fetcher(subgraph.url, post(mutation))), 'inventory');
    expect(subgraph.counts.requests).toBe(1);
  });

  it('4xx answers and GraphQL errors are answers: returned as they are, never retried, not breaker failures', async () => {
    const subgraph = await serve((request, response) =>
      request.headers['x-case'] === '400'
        ? json(response, 400, { errors: [{ message: 'invalid', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] })
        : json(response, 200, { data: null, errors: [{ message: 'boom' }] }),
    );
    const fetcher = fetcherFor({ name: 'inventory', breaker: { consecutiveFailures: 1 } });
    expect((await fetcher(subgraph.url, post(query, { 'x-case': '400' }))).status).toBe(400);
    expect((await fetcher(subgraph.url, post(query))).status).toBe(200);
    expect(subgraph.counts.requests).toBe(2);
    expect(fetcher.health()).toEqual({ state: 'closed', consecutiveFailures: 0 });
  });

  it('stops retrying when backoff plus a whole deadline would exceed the budget', async () => {
    const subgraph = await serve((_request, response) => json(response, 503, {}));
    const tight = fetcherFor({ name: 'inventory', timeoutMs: 200, retry: { budgetMs: 200 } });
    expectUnavailable(await failure(tight(subgraph.url, post(query))), 'inventory');
    expect(subgraph.counts.requests).toBe(1);

    subgraph.counts.requests = 0;
    const roomy = fetcherFor({ name: 'inventory', timeoutMs: 200 }); // default budget: 2 × 200 ms
    expectUnavailable(await failure(roomy(subgraph.url, post(query))), 'inventory');
    expect(subgraph.counts.requests).toBe(3);
  });

  it('cuts a subgraph that trickles a byte every 50 ms at the deadline, and does not retry it', async () => {
    const subgraph = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const trickle = setInterval(() => response.write(' '), 50);
      response.on('close', () => clearInterval(trickle));
    });
    const fetcher = fetcherFor({ name: 'inventory', timeoutMs: 200 });
    const started = performance.now();
    const error = await failure(fetcher(subgraph.url, post(query)));
    const elapsed = performance.now() - started;
    expect(error.message).toBe('The inventory service did not answer within 200 ms');
    expect(error.extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', serviceName: 'inventory' });
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(400);
    expect(subgraph.counts.requests).toBe(1);
  });

  it('a hanging subgraph: requests wait their deadline until the breaker opens, then fail at once without reaching it', async () => {
    const subgraph = await serve(() => {}); // never answers
    const fetcher = fetcherFor({ name: 'inventory', timeoutMs: 200, breaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 } });
    const first = await Promise.all([failure(fetcher(subgraph.url, post(query))), failure(fetcher(subgraph.url, post(query)))]);
    for (const error of first) expect(error.message).toBe('The inventory service did not answer within 200 ms');
    expect(subgraph.counts.requests).toBe(2); // deadlines are not retried
    expect(fetcher.health().state).toBe('open');

    const started = performance.now();
    expectUnavailable(await failure(fetcher(subgraph.url, post(query))), 'inventory');
    expectUnavailable(await failure(fetcher(subgraph.url, post(mutation))), 'inventory');
    expect(performance.now() - started).toBeLessThan(100);
    expect(subgraph.counts.requests).toBe(2);
  });

  it('half-open: one trial request; others fail at once meanwhile; a failed trial opens the breaker again', async () => {
    const subgraph = await serve(() => {}); // never answers
    const states: BreakerState[] = [];
    const fetcher = fetcherFor({
      name: 'inventory',
      timeoutMs: 150,
      breaker: { consecutiveFailures: 1, halfOpenAfterMs: 100 },
      onStateChange: (_name, state) => states.push(state),
    });
    await failure(fetcher(subgraph.url, post(query)));
    expect(fetcher.health().state).toBe('open');
    await sleep(120);

    const trial = failure(fetcher(subgraph.url, post(query)));
    expect(fetcher.health().state).toBe('half-open');
    const started = performance.now();
    expectUnavailable(await failure(fetcher(subgraph.url, post(query))), 'inventory');
    expect(performance.now() - started).toBeLessThan(75);
    expect((await trial).message).toBe('The inventory service did not answer within 150 ms');
    expect(subgraph.counts.requests).toBe(2);
    expect(fetcher.health().state).toBe('open');
    expect(states).toEqual(['open', 'half-open', 'open']);
  });

  it('500s until the breaker opens, then recovers: after halfOpenAfterMs one request goes through and closes it', async () => {
    let failing = true;
    const subgraph = await serve((_request, response) => (failing ? json(response, 500, { errors: [{ message: 'database down' }] }) : ok(response)));
    const transitions: string[] = [];
    const fetcher = fetcherFor({
      name: 'inventory',
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 150 },
      onStateChange: (name, state) => transitions.push(`${name} ${state}`),
    });
    for (let i = 0; i < 3; i++) expectUnavailable(await failure(fetcher(subgraph.url, post(query))), 'inventory');
    expect(subgraph.counts.requests).toBe(3); // a 500 is a failure, but not one a retry helps
    expect(fetcher.health()).toEqual({ state: 'open', consecutiveFailures: 3 });

    expectUnavailable(await failure(fetcher(subgraph.url, post(query))), 'inventory');
    expect(subgraph.counts.requests).toBe(3);

    failing = false;
    await sleep(200);
    const response = await fetcher(subgraph.url, post(query));
    expect(response.status).toBe(200);
    expect(subgraph.counts.requests).toBe(4);
    expect(fetcher.health()).toEqual({ state: 'closed', consecutiveFailures: 0 });
    expect(transitions).toEqual(['inventory open', 'inventory half-open', 'inventory closed']);
  });

  it('coalesced callers share one exchange, retries included', async () => {
    let badGateways = 1;
    const subgraph = await serve((_request, response) =>
      setTimeout(() => (badGateways-- > 0 ? json(response, 502, {}) : ok(response)), 20),
    );
    const fetcher = fetcherFor({ name: 'inventory', coalesce: true });
    const responses = await Promise.all(Array.from({ length: 5 }, () => fetcher(subgraph.url, post(query))));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(subgraph.counts.requests).toBe(2);
  });

  it('refuses nonsensical options', () => {
    expect(() => createSubgraphFetcher({ name: 'inventory', timeoutMs: 100, maxSockets: 1, coalesce: false, retry: { maxAttempts: 0 } })).toThrow(
      'Subgraph inventory: retry.maxAttempts must be a number ≥ 1, got 0',
    );
  });

  it('refuses nonsensical options, naming the option', () => {
    const make = (options: Partial<SubgraphFetcherOptions>) => () =>
      createSubgraphFetcher({ name: 'inventory', timeoutMs: 100, maxSockets: 1, coalesce: false, ...options });
    expect(make({ timeoutMs: 0 })).toThrow('Subgraph inventory: timeoutMs must be a number ≥ 1, got 0');
    expect(make({ retry: { baseDelayMs: -1 } })).toThrow('Subgraph inventory: retry.baseDelayMs must be a number ≥ 0, got -1');
    expect(make({ retry: { maxDelayMs: -1 } })).toThrow('Subgraph inventory: retry.maxDelayMs must be a number ≥ 0, got -1');
    expect(make({ retry: { budgetMs: Number.NaN } })).toThrow('Subgraph inventory: retry.budgetMs must be a number ≥ 0, got NaN');
    expect(make({ breaker: { consecutiveFailures: 0 } })).toThrow('Subgraph inventory: breaker.consecutiveFailures must be a number ≥ 1, got 0');
    expect(make({ breaker: { halfOpenAfterMs: -1 } })).toThrow('Subgraph inventory: breaker.halfOpenAfterMs must be a number ≥ 0, got -1');
  });

  it('a connection dropped in the middle of the answer: a failure after a response, not retried even for a query', { timeout: 10_000 }, async () => {
    const subgraph = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"data":', () => response.socket!.destroy());
    });
    const fetcher = fetcherFor({ name: 'inventory' });
    expectUnavailable(await failure(fetcher(subgraph.url, post(query))), 'inventory');
    expect(subgraph.counts.requests).toBe(1);
    expect(fetcher.health()).toEqual({ state: 'closed', consecutiveFailures: 1 });
  });

  it('backoff: full jitter of baseDelayMs × 2^(n−1) before retry n', async () => {
    const subgraph = await serve((_request, response) => json(response, 503, {}));
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.99);
    cleanups.push(() => random.mockRestore());
    const fetcher = fetcherFor({ name: 'inventory', retry: { baseDelayMs: 100, maxDelayMs: 1_000 } });
    const started = performance.now();
    expectUnavailable(await failure(fetcher(subgraph.url, post(query))), 'inventory');
    // 0.99 × 100 ms, then 0.99 × 200 ms: at least 297 ms in all.
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(subgraph.counts.requests).toBe(3);
  });

  it('a retry whose backoff and deadline exactly fill what is left of the budget is made', async () => {
    const subgraph = await serve((_request, response) => json(response, 503, {}));
    const fetcher = fetcherFor({ name: 'inventory', timeoutMs: 200, retry: { budgetMs: 200 } });
    // No time passes and no backoff: each retry needs exactly one deadline, the whole budget.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0);
    const now = vi.spyOn(performance, 'now').mockReturnValue(0);
    try {
      expectUnavailable(await failure(fetcher(subgraph.url, post(query))), 'inventory');
    } finally {
      now.mockRestore();
      random.mockRestore();
    }
    expect(subgraph.counts.requests).toBe(3);
  });

  it('only a JSON body whose query is a string starting with `query` or `{` (after blanks) is retried', async () => {
    const subgraph = await serve((_request, response) => json(response, 502, {}));
    const fetcher = fetcherFor({ name: 'inventory', breaker: { consecutiveFailures: 100 } });
    const attempts = async (body: string) => {
      subgraph.counts.requests = 0;
      expectUnavailable(await failure(fetcher(subgraph.url, post(body))), 'inventory');
      return subgraph.counts.requests;
    };
    expect(await attempts(JSON.stringify({ query: '\n  { me { id } }' }))).toBe(3);
    expect(await attempts(JSON.stringify({ query: ' \tquery Q { me { id } }' }))).toBe(3);
    expect(await attempts('query { me { id } }')).toBe(1); // not JSON
    expect(await attempts(JSON.stringify({ query: ['{ me { id } }'] }))).toBe(1);
    expect(await attempts(JSON.stringify({ query: 'mutation{ createUser { id } }' }))).toBe(1);
  });

  it('clears the deadline of an exchange that completed: no timer is left behind', async () => {
    const subgraph = await serve((_request, response) => ok(response));
    const fetcher = fetcherFor({ name: 'inventory', timeoutMs: 60_000 });
    const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const before = timers();
    for (let i = 0; i < 20; i++) expect((await fetcher(subgraph.url, post(query))).status).toBe(200);
    // At most as many as before: a timer of an earlier test may expire meanwhile (seen in CI), but
    // one left behind per exchange would add 20.
    expect(timers()).toBeLessThanOrEqual(before);
  });
});

describe('subgraph fetcher: what it sends and returns', () => {
  it('without init: a POST with an empty body and no headers', async () => {
    const seen: { method?: string; body: string }[] = [];
    const subgraph = await serve((request, response, body) => {
      seen.push({ method: request.method, body });
      ok(response);
    });
    const fetcher = fetcherFor({ name: 'inventory' });
    expect((await fetcher(subgraph.url)).status).toBe(200);
    expect((await fetcher(subgraph.url, { method: 'GET' })).status).toBe(200);
    expect(seen).toEqual([
      { method: 'POST', body: '' },
      { method: 'GET', body: '' },
    ]);
  });

  it('sends the headers of a Headers object', async () => {
    const seen: (string | undefined)[] = [];
    const subgraph = await serve((request, response) => {
      seen.push(request.headers.authorization);
      ok(response);
    });
    const fetcher = fetcherFor({ name: 'inventory' });
    await fetcher(subgraph.url, { body: query, headers: new Headers({ Authorization: 'Bearer alice' }) });
    expect(seen).toEqual(['Bearer alice']);
  });

  it('returns the status, reason phrase, headers and a body that came in several chunks', async () => {
    const first = 'a'.repeat(64 * 1024);
    const subgraph = await serve((_request, response) => {
      response.writeHead(418, 'Short and stout', { 'content-type': 'text/plain', 'x-part': 'two' });
      response.write(first, () => setTimeout(() => response.end('b'), 20));
    });
    const fetcher = fetcherFor({ name: 'inventory' });
    const response = await fetcher(subgraph.url, post(query));
    expect(response.status).toBe(418);
    expect(response.statusText).toBe('Short and stout');
    expect(response.headers.get('x-part')).toBe('two');
    expect(await response.text()).toBe(`${first}b`);

    const buffered = await fetcher.exchange(new URL(subgraph.url), 'POST', { 'content-type': 'application/json' }, query);
    expect(buffered).toMatchObject({ status: 418, statusText: 'Short and stout', headers: { 'x-part': 'two' }, body: `${first}b` });
  });

  it('coalesces only while in flight: the same query afterwards is sent again', async () => {
    const subgraph = await serve((_request, response) => ok(response));
    const fetcher = fetcherFor({ name: 'inventory', coalesce: true });
    for (let i = 0; i < 3; i++) expect((await fetcher(subgraph.url, post(query))).status).toBe(200);
    expect(subgraph.counts.requests).toBe(3);
  });

  it('never coalesces callers whose identity headers only concatenate alike', async () => {
    const subgraph = await serve((_request, response) => setTimeout(() => ok(response), 50));
    const fetcher = fetcherFor({ name: 'inventory', coalesce: true });
    await Promise.all([
      fetcher(subgraph.url, post(query, { [IDENTITY_HEADERS.userId]: 'a', [IDENTITY_HEADERS.scopes]: 'bc' })),
      fetcher(subgraph.url, post(query, { [IDENTITY_HEADERS.userId]: 'ab', [IDENTITY_HEADERS.scopes]: 'c' })),
    ]);
    expect(subgraph.counts.requests).toBe(2);
  });

  it('speaks HTTPS to an https: URL, on its own keep-alive pool that destroy() closes', async () => {
    const defaults = getCACertificates('default');
    setDefaultCACertificates([...defaults, TEST_CERT]);
    cleanups.push(() => setDefaultCACertificates(defaults));
    const counts = { connections: 0, requests: 0 };
    const subgraph = createHttpsServer({ key: TEST_KEY, cert: TEST_CERT }, (request, response) => {
      counts.requests++;
      request.resume();
      request.on('end', () => ok(response));
    });
    subgraph.on('secureConnection', () => counts.connections++);
    await new Promise<void>((resolve) => subgraph.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      subgraph.closeAllConnections();
      return new Promise((resolve) => subgraph.close(resolve));
    });
    const target = `https://127.0.0.1:${(subgraph.address() as AddressInfo).port}/graphql`;
    const fetcher = fetcherFor({ name: 'inventory' });
    for (let i = 0; i < 5; i++) expect(await (await fetcher(target, post(query))).json()).toEqual({ data: { me: { id: '1' } } });
    expect(counts.requests).toBe(5);
    const pooled = counts.connections;
    expect(pooled).toBeLessThanOrEqual(2);
    fetcher.destroy();
    expect((await fetcher(target, post(query))).status).toBe(200);
    expect(counts).toEqual({ connections: pooled + 1, requests: 6 });
  });
});

/** A self-signed certificate for 127.0.0.1 (P-256, valid until 2126), trusted only by the HTTPS test. */
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgO4cVaQGUP+WWJvMM
3NskEtoFGYUUbU5LPk0NZkMNO5qhRANCAASNLKhFJk2QrymVKDvhOv5kxaRtfjf7
XDUHpfPUieyGPOnUi4x4z/viuQAX+JMA+dGJGXz3iISeGiOmCQzrN9tE
-----END PRIVATE KEY-----
`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBkDCCATagAwIBAgIUMvAbKQxvYwCAz0hs4TTN+KaRJUcwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTIwMTIwMjIyMVoYDzIxMjYxMTA3
MjAyMjIxWjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASNLKhFJk2QrymVKDvhOv5kxaRtfjf7XDUHpfPUieyGPOnUi4x4z/vi
uQAX+JMA+dGJGXz3iISeGiOmCQzrN9tEo2QwYjAdBgNVHQ4EFgQUWBKJr5U2JhR7
b11XUrO1oja3U64wHwYDVR0jBBgwFoAUWBKJr5U2JhR7b11XUrO1oja3U64wDwYD
VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0gAMEUC
IEMcFFpC8ShzJI9RvLwWidQAKctN5zUUi8nin4NAfvlwAiEAjl+cNRzNfWfdSKuG
Laip/KyHKIOJJR5hA+cmY0cWiTc=
-----END CERTIFICATE-----
`;

// ---------------------------------------------------------------------------------------------
// End to end: a real ApolloGateway over two tiny subgraphs, wired as router.ts wires it.

const productsSdl = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { product(id: ID!): Product }
  type Product @key(fields: "id") { id: ID! name: String! }
`;
const inventorySdl = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Product @key(fields: "id") { id: ID! stock: Int }
`;
const productsSchema = buildSubgraphSchema([
  { typeDefs: parse(productsSdl), resolvers: { Query: { product: (_: unknown, { id }: { id: string }) => ({ id, name: 'Lamp' }) } } },
]);
const inventorySchema = buildSubgraphSchema([
  { typeDefs: parse(inventorySdl), resolvers: { Product: { __resolveReference: ({ id }: { id: string }) => ({ id, stock: 7 }) } } },
]);

/** A subgraph server answering with its schema, unless `behaviour` says otherwise. */
async function serveSubgraph(schema: GraphQLSchema, behaviour: () => 'answer' | 'hang' | 'error500' = () => 'answer') {
  return serve((_request, response, body) => {
    const mode = behaviour();
    if (mode === 'hang') return;
    if (mode === 'error500') return json(response, 500, { errors: [{ message: 'Internal failure at 10.0.0.7', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    const { query: source, variables } = JSON.parse(body) as { query: string; variables?: Record<string, unknown> };
    void graphql({ schema, source, variableValues: variables ?? null }).then((result) => json(response, 200, result));
  });
}

async function startGateway(urls: { products: string; inventory: string }, inventory: Partial<SubgraphFetcherOptions>) {
  process.env.APOLLO_TELEMETRY_DISABLED = '1';
  const composed = composeServices([
    { name: 'products', typeDefs: parse(productsSdl), url: urls.products },
    { name: 'inventory', typeDefs: parse(inventorySdl), url: urls.inventory },
  ]);
  if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));
  const fetchers = new Map<string, SubgraphFetcher>();
  const gateway = new ApolloGateway({
    supergraphSdl: composed.supergraphSdl,
    buildService: ({ name, url }) => {
      const fetcher = fetcherFor({ name, ...(name === 'inventory' ? inventory : {}) });
      fetchers.set(name, fetcher);
      return new RemoteGraphQLDataSource({ url, fetcher: fetcher as unknown as RemoteGraphQLDataSource['fetcher'] });
    },
  });
  // The router's formatError: only known codes reach clients.
  const apollo = new ApolloServer({ gateway, includeStacktraceInErrorResponses: false, formatError: (formatted) => maskError(formatted) });
  await apollo.start();
  cleanups.push(() => apollo.stop());
  const run = async () => {
    const started = performance.now();
    const response = await apollo.executeOperation({ query: '{ product(id: "1") { name stock } }' });
    if (response.body.kind !== 'single') throw new Error('expected a single result');
    const { data, errors } = response.body.singleResult;
    return { data, errors: errors?.map(({ message, extensions }) => ({ message, code: extensions?.code })), ms: performance.now() - started };
  };
  return { run, inventoryHealth: () => fetchers.get('inventory')!.health() };
}

const partial = { product: { name: 'Lamp', stock: null } };

describe('through a real ApolloGateway', () => {
  it('a subgraph that is down: partial data and SERVICE_UNAVAILABLE; once the breaker is open, no connection is even tried', async () => {
    const products = await serveSubgraph(productsSchema);
    const gateway = await startGateway({ products: products.url, inventory: await closedPort() }, { breaker: { consecutiveFailures: 3, halfOpenAfterMs: 60_000 } });
    const down = { data: partial, errors: [{ message: 'The inventory service is unavailable', code: 'SERVICE_UNAVAILABLE' }] };
    expect(await gateway.run()).toMatchObject(down);
    // Three refused attempts (the query was retried): the breaker counted them and opened.
    expect(gateway.inventoryHealth()).toEqual({ state: 'open', consecutiveFailures: 3 });
    expect(await gateway.run()).toMatchObject(down);
    expect(gateway.inventoryHealth()).toEqual({ state: 'open', consecutiveFailures: 3 });
    expect(products.counts.requests).toBe(2);
  });

  it('a hanging subgraph costs one deadline; once the breaker is open, operations get partial data at once', async () => {
    const products = await serveSubgraph(productsSchema);
    const inventory = await serveSubgraph(inventorySchema, () => 'hang');
    const gateway = await startGateway(
      { products: products.url, inventory: inventory.url },
      { timeoutMs: 300, breaker: { consecutiveFailures: 1, halfOpenAfterMs: 60_000 } },
    );
    const first = await gateway.run();
    expect(first).toMatchObject({ data: partial, errors: [{ message: 'The inventory service did not answer within 300 ms', code: 'SERVICE_UNAVAILABLE' }] });
    expect(first.ms).toBeGreaterThanOrEqual(290);
    expect(gateway.inventoryHealth().state).toBe('open');

    const second = await gateway.run();
    expect(second).toMatchObject({ data: partial, errors: [{ message: 'The inventory service is unavailable', code: 'SERVICE_UNAVAILABLE' }] });
    expect(second.ms).toBeLessThan(150);
    expect(inventory.counts.requests).toBe(1);
    expect(products.counts.requests).toBe(2);
  });

  it('a subgraph answering 500 reaches the client as SERVICE_UNAVAILABLE (not a masked internal error), then recovers', async () => {
    let failing = true;
    const products = await serveSubgraph(productsSchema);
    const inventory = await serveSubgraph(inventorySchema, () => (failing ? 'error500' : 'answer'));
    const gateway = await startGateway(
      { products: products.url, inventory: inventory.url },
      { breaker: { consecutiveFailures: 2, halfOpenAfterMs: 150 } },
    );
    for (let i = 0; i < 2; i++) {
      expect(await gateway.run()).toMatchObject({ data: partial, errors: [{ message: 'The inventory service is unavailable', code: 'SERVICE_UNAVAILABLE' }] });
    }
    expect(gateway.inventoryHealth().state).toBe('open');
    failing = false;
    await sleep(200);
    const recovered = await gateway.run();
    expect(recovered.data).toEqual({ product: { name: 'Lamp', stock: 7 } });
    expect(recovered.errors).toBeUndefined();
    expect(gateway.inventoryHealth().state).toBe('closed');
  });
});
