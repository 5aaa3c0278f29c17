// The router started the way production starts it: `node router/src/main.ts` with NODE_ENV=production
// and its configuration in the environment only (every subgraph's URL and signing secret, allowed
// browser origins, a small body limit). Tests elsewhere build the router in-process with options;
// these check that main.ts really hands the environment to it.
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSupergraph, type Supergraph } from './support/supergraph.ts';
import { freePort as closedPort } from '@commerce/service-kit/testing';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const SUBGRAPHS = ['ACCOUNTS', 'PRODUCTS', 'INVENTORY', 'REVIEWS', 'ORDERS'];

interface RouterProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  stop(): Promise<number | null>;
}

/** Starts main.ts with exactly `env` (plus PATH) and waits for its "router ready" line. */
async function startRouterProcess(env: Record<string, string>): Promise<RouterProcess> {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the router did not start within 30 s:\n${output}`)), 30_000);
    const look = () => {
      const match = /router ready: send queries to (http:\/\/[^ ]+)\/graphql/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', look);
    void exited.then((code) => reject(new Error(`the router exited (${code}) before it was ready:\n${output}`)));
  });
  return {
    child,
    url,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

function secret(name: string): string {
  return `${name.toLowerCase()}-signing-secret-for-tests-only-0123456789`;
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

/** A POST whose body is sent chunked (no content-length): only the streamed limit can stop it. */
function postChunked(url: string, chunks: number, chunkSize: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    // The router reads a refused body to its end, so every write lands and the answer is read: a
    // reset or a broken pipe here is a failure, not a race to tolerate.
    request.on('error', reject);
    request.write('{"query":"{ __typename }","pad":"');
    let sent = 0;
    const pump = () => {
      if (sent++ >= chunks || request.destroyed) return request.end('"}');
      request.write('x'.repeat(chunkSize), () => setImmediate(pump));
    };
    pump();
  });
}

describe('a router process started as in production', () => {
  let graph: Supergraph;
  let router: RouterProcess;

  beforeAll(async () => {
    graph = await startSupergraph();
    router = await startRouterProcess({
      NODE_ENV: 'production',
      ROUTER_PORT: '0',
      LOG_LEVEL: 'info',
      ...graph.routerEnvironment(),
      CORS_ORIGINS: 'https://shop.example, https://admin.example',
      MAX_BODY_BYTES: '2048',
      MAX_HEADER_BYTES: '4096',
    });
  });
  afterAll(async () => {
    await router?.stop();
    await graph?.close();
  });

  it('serves the supergraph from its environment: subgraph URLs and signing secrets', async () => {
    const response = await post(router.url, { query: '{ product(id: "1") { name stock reviewCount } }' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { product: { name: 'Classic Novel', stock: 100, reviewCount: 6 } } });
  });

  it('allows the browser origins CORS_ORIGINS lists, and no other', async () => {
    const allowed = await post(router.url, { query: '{ __typename }' }, { origin: 'https://admin.example' });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://admin.example');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    expect(allowed.headers.get('vary')).toBe('origin');
    const refused = await post(router.url, { query: '{ __typename }' }, { origin: 'https://evil.example' });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers the preflight of an allowed origin, and gives a refused one nothing to go on', async () => {
    const preflight = (origin: string) =>
      fetch(`${router.url}/graphql`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
      });
    const allowed = await preflight('https://shop.example');
    expect(allowed.status).toBe(204);
    expect(Object.fromEntries([...allowed.headers].filter(([name]) => name.startsWith('access-control-')))).toEqual({
      'access-control-allow-origin': 'https://shop.example',
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'content-type, authorization, apollo-require-preflight, x-apollo-operation-name, x-request-id',
      'access-control-expose-headers': 'x-request-id, retry-after',
      'access-control-max-age': '600',
    });
    const refused = await preflight('https://evil.example');
    expect([...refused.headers].filter(([name]) => name.startsWith('access-control-'))).toEqual([]);
  });

  it('holds bodies to MAX_BODY_BYTES: 413 for a declared length over it and for a chunked body that streams past it', async () => {
    const declared = await post(router.url, { query: `{ __typename } # ${'x'.repeat(3_000)}` });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ errors: [{ message: 'Request body exceeds 2048 bytes', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
    expect(await postChunked(router.url, 10, 500)).toBe(413);
    // Under the limit, chunked is fine.
    expect(await postChunked(router.url, 2, 500)).toBe(200);
  });

  it('holds header blocks to MAX_HEADER_BYTES: 431 above it', async () => {
    expect((await post(router.url, { query: '{ __typename }' }, { 'x-padding': 'p'.repeat(2_000) })).status).toBe(200);
    expect((await post(router.url, { query: '{ __typename }' }, { 'x-padding': 'p'.repeat(6_000) })).status).toBe(431);
  });

  it('refuses introspection, serves no IDE and sends HSTS', async () => {
    const introspection = await post(router.url, { query: '{ __schema { queryType { name } } }' });
    expect(introspection.status).toBe(400);
    expect(((await introspection.json()) as { errors: { extensions: { code: string } }[] }).errors.map((e) => e.extensions.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(introspection.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    expect((await fetch(`${router.url}/`)).status).toBe(404);
    const page = await fetch(`${router.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).not.toMatch(/html/);
  });

  it('logs JSON lines, and stops cleanly on SIGTERM', async () => {
    const lines = router.output().trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(lines.map((line) => JSON.parse(line).message)).toContain(`router ready: send queries to ${router.url}/graphql (health: ${router.url}/health, readiness: ${router.url}/ready)`);
    expect(await router.stop()).toBe(0);
  });
});

describe('a router process started while every subgraph is down', () => {
  let router: RouterProcess;

  beforeAll(async () => {
    const env: Record<string, string> = { NODE_ENV: 'production', ROUTER_PORT: '0', LOG_LEVEL: 'info', SUBGRAPH_RETRIES: '0', SUBGRAPH_TIMEOUT_MS: '1000' };
    for (const name of SUBGRAPHS) {
      env[`SUBGRAPH_${name}_URL`] = `http://127.0.0.1:${await closedPort()}/graphql`;
      env[`${name}_SIGNING_SECRET`] = secret(name);
    }
    router = await startRouterProcess(env);
  });
  afterAll(() => router?.stop());

  it('starts, and is live and ready: it still answers whatever needs no subgraph', async () => {
    expect((await fetch(`${router.url}/health`)).status).toBe(200);
    const ready = await fetch(`${router.url}/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { ready: boolean; subgraphs: Record<string, { status: string; breaker: string }> };
    expect(body.ready).toBe(true);
    expect(body.subgraphs).toEqual(Object.fromEntries(SUBGRAPHS.map((name) => [name.toLowerCase(), { status: 'down', breaker: 'closed' }])));
    const typename = await post(router.url, { query: '{ __typename }' });
    expect(await typename.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('answers SERVICE_UNAVAILABLE for the fields of the subgraphs it cannot reach, naming none of their addresses', async () => {
    const response = await post(router.url, { query: '{ product(id: "1") { name } }' });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      data: { product: null },
      errors: [{ message: 'The products service is unavailable', extensions: { code: 'SERVICE_UNAVAILABLE', requestId: expect.any(String) } }],
    });
    expect(text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|localhost/);
  });

  it('keeps its own exit clean: SIGTERM stops it with code 0', async () => {
    expect(await router.stop()).toBe(0);
  });
});

describe('a router process with ROUTER_WORKERS=2', () => {
  let router: RouterProcess;

  beforeAll(async () => {
    const env: Record<string, string> = { NODE_ENV: 'production', ROUTER_PORT: '0', LOG_LEVEL: 'info', ROUTER_WORKERS: '2' };
    for (const name of SUBGRAPHS) {
      env[`SUBGRAPH_${name}_URL`] = `http://127.0.0.1:${await closedPort()}/graphql`;
      env[`${name}_SIGNING_SECRET`] = secret(name);
    }
    router = await startRouterProcess(env);
  });
  afterAll(() => router?.stop());

  it('serves one port from two worker processes, and stops them all on SIGTERM', async () => {
    const workersSeen = async () => new Set([...router.output().matchAll(/"name":"(router#\d+)"[^\n]*"message":"request"/g)].map((m) => m[1]));
    for (let i = 0; i < 40 && (await workersSeen()).size < 2; i++) {
      const response = await fetch(`${router.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, body: '{"query":"{ __typename }"}' });
      expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect([...(await workersSeen())].sort()).toEqual(['router#1', 'router#2']);
    expect(router.output()).toContain('starting 2 router workers');
    expect(await router.stop()).toBe(0);
    await expect(fetch(`${router.url}/health`)).rejects.toThrow();
  });
});
