import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSubgraphFetcher } from '../src/fetcher.ts';

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
    expect(connections).toBe(1);
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
