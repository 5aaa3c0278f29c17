// The HTTP layer (http.ts) detail by detail, over real sockets: request ids, the client address
// behind proxies, CORS, body reading and its limits, routes, refusals, failures, the access log,
// readiness and the listener's own limits and shutdown.
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpHandler, HttpError, listen, sendJson, type HttpOptions, type Logger, type PreparedRequest, type RunningServer } from '../src/index.ts';
import { DISCARD_BYTES, DISCARD_MS, readBody } from '../src/http.ts';

type Line = { level: string; message: string } & Record<string, unknown>;
const lines: Line[] = [];
const logger: Logger = {
  debug: (message, fields) => void lines.push({ level: 'debug', message, ...fields }),
  info: (message, fields) => void lines.push({ level: 'info', message, ...fields }),
  warn: (message, fields) => void lines.push({ level: 'warn', message, ...fields }),
  error: (message, fields) => void lines.push({ level: 'error', message, ...fields }),
  child: () => logger,
};

let apollo: ApolloServer;
let release: (() => void) | undefined;
const servers: RunningServer[] = [];
/** What `prepare` saw, per request. */
const prepared: PreparedRequest[] = [];

beforeAll(async () => {
  apollo = new ApolloServer({
    typeDefs: 'type Query { hello: String, who: String, slow: String }',
    resolvers: {
      Query: {
        hello: () => 'world',
        who: (_parent: unknown, _args: unknown, context: { caller?: string }) => context.caller ?? null,
        slow: () => new Promise<string>((resolve) => (release = () => resolve('done'))),
      },
    },
  });
  await apollo.start();
});
afterAll(async () => {
  for (const server of servers) await server.close().catch(() => {});
  await apollo.stop();
});

async function serve(options: Partial<HttpOptions<{ caller?: string }, { requestId: string; clientIp: string; viewer?: { userId: number } }>> = {}, listenOptions = {}) {
  const handler = createHttpHandler<{ caller?: string }, { requestId: string; clientIp: string; viewer?: { userId: number } }>({
    apollo: apollo as ApolloServer<{ caller?: string }>,
    logger,
    context: async (info) => ({ caller: `${info.clientIp}/${info.requestId}` }),
    ...options,
  });
  const server = await listen(handler, { host: '127.0.0.1', port: 0, ...listenOptions });
  servers.push(server);
  return server;
}

const post = (server: RunningServer, body: string | object, headers: Record<string, string> = {}, path = '/graphql') =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** A plain TCP client speaking HTTP/1.1 by hand: what it received, and when the server closed it. */
function rawClient(port: number, host = '127.0.0.1') {
  const socket = connect(port, host);
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (data: string) => (text += data));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return {
    socket,
    closed,
    get text() {
      return text;
    },
  };
}

/** Polls until `condition` holds, failing after a generous bound. */
async function until(condition: () => boolean, what: string, ms = 10_000) {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('request ids', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await serve();
  });

  it('keeps a client id of 1 to 128 allowed characters, and makes a UUID for anything else', async () => {
    const id = async (offered?: string) => (await post(server, { query: '{ hello }' }, offered === undefined ? {} : { 'x-request-id': offered })).headers.get('x-request-id');
    expect(await id('a')).toBe('a');
    expect(await id('A-z.0_9:x')).toBe('A-z.0_9:x');
    expect(await id('x'.repeat(128))).toBe('x'.repeat(128));
    for (const bad of ['x'.repeat(129), 'with space', 'semi;colon', 'new\u00e9', '']) expect(await id(bad), bad).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await id()).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('can leave the id out of the response headers (echoRequestId: false), still using it in errors', async () => {
    const quiet = await serve({ echoRequestId: false });
    const response = await post(quiet, '{"query":', { 'x-request-id': 'quiet-1' });
    expect(response.headers.get('x-request-id')).toBeNull();
    expect(await response.json()).toEqual({ errors: [{ message: 'The request body is not valid JSON', extensions: { code: 'BAD_REQUEST', requestId: 'quiet-1' } }] });
  });
});

describe('the client address', () => {
  it('is the socket address by default, whatever X-Forwarded-For says', async () => {
    const server = await serve();
    const response = await post(server, { query: '{ who }' }, { 'x-forwarded-for': '203.0.113.9', 'x-request-id': 'r1' });
    expect(await response.json()).toEqual({ data: { who: '127.0.0.1/r1' } });
  });

  it.each([
    [1, '198.51.100.7, 203.0.113.9', '203.0.113.9'],
    [2, '198.51.100.7, 203.0.113.9', '198.51.100.7'],
    [2, '10.0.0.1,198.51.100.7,203.0.113.9', '198.51.100.7'],
    // Fewer entries than trusted hops: the first one there is.
    [3, '198.51.100.7, 203.0.113.9', '198.51.100.7'],
  ])('with %i trusted proxies, is taken from X-Forwarded-For %j as %s', async (hops, forwarded, expected) => {
    const server = await serve({ trustProxyHops: hops });
    const response = await post(server, { query: '{ who }' }, { 'x-forwarded-for': forwarded, 'x-request-id': 'r2' });
    expect(await response.json()).toEqual({ data: { who: `${expected}/r2` } });
  });

  it('reads X-Forwarded-For sent as several header lines as one chain', async () => {
    const server = await serve({ trustProxyHops: 2 });
    const body = await new Promise<string>((resolve, reject) => {
      const request = httpRequest(
        `${server.url}/graphql`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'r4', 'x-forwarded-for': ['10.0.0.1, 198.51.100.7', '203.0.113.9'] } },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve(text));
        },
      );
      request.on('error', reject);
      request.end(JSON.stringify({ query: '{ who }' }));
    });
    expect(JSON.parse(body)).toEqual({ data: { who: '198.51.100.7/r4' } });
  });

  it('is the socket address behind trusted proxies that sent no X-Forwarded-For', async () => {
    const server = await serve({ trustProxyHops: 1 });
    const response = await post(server, { query: '{ who }' }, { 'x-request-id': 'r3' });
    expect(await response.json()).toEqual({ data: { who: '127.0.0.1/r3' } });
  });
});

describe('security headers', () => {
  const expected = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'cross-origin-opener-policy': 'same-origin',
    'cache-control': 'no-store',
  };
  const shown = (response: Response) => Object.fromEntries([...Object.keys(expected), 'strict-transport-security'].map((name) => [name, response.headers.get(name)]));

  it('are on every answer (GraphQL, probes, refusals), with HSTS only when asked for', async () => {
    const plain = await serve();
    for (const response of [await post(plain, { query: '{ hello }' }), await fetch(`${plain.url}/health`), await fetch(`${plain.url}/nowhere`)]) {
      expect(shown(response), response.url).toEqual({ ...expected, 'strict-transport-security': null });
    }
    const hsts = await serve({ hsts: true });
    expect(shown(await post(hsts, { query: '{ hello }' }))).toEqual({ ...expected, 'strict-transport-security': 'max-age=31536000; includeSubDomains' });
  });
});

describe('CORS', () => {
  const corsHeaders = (response: Response) => Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('access-control-') || name === 'vary'));

  it('allows any origin with *, never with credentials', async () => {
    const server = await serve({ corsOrigins: '*', corsCredentials: true });
    expect(corsHeaders(await post(server, { query: '{ hello }' }, { origin: 'https://anywhere.example' }))).toEqual({
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'x-request-id, retry-after',
      vary: 'origin',
    });
  });

  it('echoes a listed origin, with credentials when asked, and answers its preflight', async () => {
    const server = await serve({ corsOrigins: ['https://a.example', 'https://b.example'], corsCredentials: true });
    expect(corsHeaders(await post(server, { query: '{ hello }' }, { origin: 'https://b.example' }))).toEqual({
      'access-control-allow-origin': 'https://b.example',
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'x-request-id, retry-after',
      vary: 'origin',
    });
    const preflight = await fetch(`${server.url}/graphql`, { method: 'OPTIONS', headers: { origin: 'https://a.example', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(corsHeaders(preflight)).toEqual({
      'access-control-allow-origin': 'https://a.example',
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'x-request-id, retry-after',
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'content-type, authorization, apollo-require-preflight, x-apollo-operation-name, x-request-id',
      'access-control-max-age': '600',
      vary: 'origin',
    });
  });

  it('says nothing to an unlisted origin, or to none by default, and nothing CORS without an Origin', async () => {
    const listed = await serve({ corsOrigins: ['https://a.example'] });
    expect(corsHeaders(await post(listed, { query: '{ hello }' }, { origin: 'https://evil.example' }))).toEqual({});
    expect(corsHeaders(await post(listed, { query: '{ hello }' }))).toEqual({});
    const preflight = await fetch(`${listed.url}/graphql`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    expect(preflight.status).toBe(204);
    expect(corsHeaders(preflight)).toEqual({});
    const none = await serve();
    expect(corsHeaders(await post(none, { query: '{ hello }' }, { origin: 'https://a.example' }))).toEqual({});
  });

  it('sends no credentials header to a listed origin unless corsCredentials is set', async () => {
    const server = await serve({ corsOrigins: ['https://a.example'] });
    expect(corsHeaders(await post(server, { query: '{ hello }' }, { origin: 'https://a.example' }))).toEqual({
      'access-control-allow-origin': 'https://a.example',
      'access-control-expose-headers': 'x-request-id, retry-after',
      vary: 'origin',
    });
  });

  it('says nothing CORS to a request without an Origin, even with *', async () => {
    const server = await serve({ corsOrigins: '*' });
    expect(corsHeaders(await post(server, { query: '{ hello }' }))).toEqual({});
  });
});

describe('bodies', () => {
  it('allows 1 MiB by default, and refuses one byte more (declared; the rest is read and dropped, keeping the connection)', async () => {
    const server = await serve();
    const padded = (size: number) => {
      const base = '{"query":"{ hello }","pad":""}';
      return `{"query":"{ hello }","pad":"${'x'.repeat(size - base.length)}"}`;
    };
    expect((await post(server, padded(1024 * 1024))).status).toBe(200);
    const over = await post(server, padded(1024 * 1024 + 1));
    expect(over.status).toBe(413);
    expect(over.headers.get('connection')).not.toBe('close');
    expect(await over.json()).toEqual({ errors: [{ message: 'Request body exceeds 1048576 bytes', extensions: { code: 'PAYLOAD_TOO_LARGE', requestId: over.headers.get('x-request-id') } }] });
  });

  it('reads a streamed body up to exactly the limit, and cuts it one byte past', async () => {
    const chunked = (size: number) =>
      new Promise<{ status: number; requestId: string | undefined }>((resolve, reject) => {
        const request = httpRequest(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (response) => {
          response.resume();
          resolve({ status: response.statusCode ?? 0, requestId: response.headers['x-request-id'] as string | undefined });
        });
        request.on('error', reject);
        const body = `{"query":"{ hello }","pad":"${'y'.repeat(size - 30)}"}`;
        request.write(body.slice(0, 100));
        request.end(body.slice(100));
      });
    const server = await serve({ maxBodyBytes: 2_000 });
    expect((await chunked(2_000)).status).toBe(200);
    expect((await chunked(2_001)).status).toBe(413);
  });

  it('reads a body exactly at the limit through readBody, and refuses a declared length above it before reading', async () => {
    const received: string[] = [];
    const server = await serve({}, {});
    const raw = await listen(
      async (request, response) => {
        try {
          received.push(await readBody(request, 10));
          response.end('ok');
        } catch (error) {
          response.writeHead((error as HttpError).status).end((error as HttpError).message);
        }
      },
      { host: '127.0.0.1', port: 0 },
    );
    servers.push(raw);
    expect(await (await fetch(raw.url, { method: 'POST', body: '0123456789' })).text()).toBe('ok');
    const over = await fetch(raw.url, { method: 'POST', body: '0123456789X' });
    expect([over.status, await over.text()]).toEqual([413, 'Request body exceeds 10 bytes']);
    expect(received).toEqual(['0123456789']);
    expect(server.url).toBeTruthy();
  });

  it('hands Apollo an empty JSON body as no body, and a non-JSON content type as text', async () => {
    const server = await serve({ prepare: async (request) => (prepared.push(request), { requestId: request.requestId, clientIp: request.clientIp }) });
    prepared.length = 0;
    await post(server, '');
    await post(server, 'query { hello }', { 'content-type': 'application/graphql' });
    expect(prepared.map((p) => [p.method, p.body, p.rawBody])).toEqual([
      ['POST', undefined, ''],
      ['POST', 'query { hello }', 'query { hello }'],
    ]);
  });
  it('reads and parses only a POST body, leaving the body of a GET alone', async () => {
    const server = await serve({ prepare: async (request) => (prepared.push(request), { requestId: request.requestId, clientIp: request.clientIp }) });
    prepared.length = 0;
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${server.url}/graphql?query=%7B%20hello%20%7D`, { method: 'GET', headers: { 'apollo-require-preflight': 'true', 'content-length': '13' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      request.end('not the body');
    });
    expect(status).toBe(200);
    expect(prepared.map((p) => [p.method, p.body, p.rawBody])).toEqual([['GET', undefined, '']]);
  });

  it('hands a POST without a content type to Apollo as text', async () => {
    const server = await serve({ prepare: async (request) => (prepared.push(request), { requestId: request.requestId, clientIp: request.clientIp }) });
    prepared.length = 0;
    const client = rawClient(server.port);
    client.socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 15\r\nConnection: close\r\n\r\nquery { hello }');
    await client.closed;
    expect(client.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(prepared.map((p) => [p.method, p.body, p.rawBody])).toEqual([['POST', 'query { hello }', 'query { hello }']]);
  });

  const chunk = (data: string) => `${data.length.toString(16)}\r\n${data}\r\n`;
  const chunkedHead = 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
  const refusal = JSON.stringify({ errors: [{ message: 'Request body exceeds 2000 bytes', extensions: { code: 'PAYLOAD_TOO_LARGE', requestId: 'early-1' } }] });

  it('refuses a declared length over the limit at once, and closes after DISCARD_MS if the body never comes', async () => {
    const server = await serve({ maxBodyBytes: 2_000 }, { requestTimeoutMs: 120_000 });
    const client = rawClient(server.port);
    client.socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2001\r\nX-Request-Id: early-1\r\n\r\n{"query":');
    await until(() => client.text.endsWith('\r\n0\r\n\r\n'), 'the whole 413');
    expect(client.text).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/);
    expect(client.text).not.toMatch(/\r\nconnection: close\r\n/i);
    expect(client.text).toContain(refusal);
    const answered = performance.now();
    await client.closed;
    expect(performance.now() - answered).toBeGreaterThan(DISCARD_MS - 1_000);
  });

  it('answers a declared length past the limit by more than DISCARD_BYTES with connection: close, and closes', async () => {
    const server = await serve({ maxBodyBytes: 2_000 }, { requestTimeoutMs: 120_000 });
    const client = rawClient(server.port);
    client.socket.write(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${2_001 + DISCARD_BYTES}\r\n\r\n{"query":`);
    await client.closed;
    expect(client.text).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/);
    expect(client.text).toMatch(/\r\nconnection: close\r\n/i);
  });

  it('answers a streamed body past the limit while the client still writes, reads the rest, and keeps the connection', async () => {
    const server = await serve({ maxBodyBytes: 2_000 });
    const client = rawClient(server.port);
    client.socket.write(chunkedHead.replace('\r\n\r\n', '\r\nX-Request-Id: early-1\r\n\r\n') + chunk(`{"query":"{ hello }","pad":"${'x'.repeat(2_100)}`));
    await until(() => client.text.endsWith('\r\n0\r\n\r\n'), 'the whole 413');
    expect(client.text).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/);
    expect(client.text).toContain(refusal);
    // The client only now finishes its body: every write lands, and the connection serves the next request.
    for (let i = 0; i < 20; i++) client.socket.write(chunk('x'.repeat(1_000)));
    client.socket.write(chunk('"}') + '0\r\n\r\n');
    const next = '{"query":"{ hello }"}';
    client.socket.write(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${next.length}\r\nConnection: close\r\n\r\n${next}`);
    await client.closed;
    expect(client.text.match(/HTTP\/1\.1 \d+/g)).toEqual(['HTTP/1.1 413', 'HTTP/1.1 200']);
    expect(client.text).toContain('{"data":{"hello":"world"}}');
  });

  it('closes a streamed body that goes on past the limit by more than DISCARD_BYTES, after answering it', async () => {
    const server = await serve({ maxBodyBytes: 2_000 });
    const client = rawClient(server.port);
    client.socket.write(chunkedHead + chunk('x'.repeat(2_100)));
    await until(() => client.text.endsWith('\r\n0\r\n\r\n'), 'the whole 413');
    let written = 0;
    while (!client.socket.destroyed && written <= 2 * DISCARD_BYTES) {
      await new Promise<void>((resolve) => client.socket.write(chunk('x'.repeat(16 * 1024)), () => setImmediate(resolve)));
      written += 16 * 1024;
    }
    await client.closed;
    expect(written).toBeLessThanOrEqual(2 * DISCARD_BYTES);
    expect(client.text).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/);
  });
});

describe('routes and refusals', () => {
  it('serves extra GET and HEAD routes, internal routes for any method, and 404s the rest with the path', async () => {
    const seen: string[] = [];
    const server = await serve({
      routes: { '/jwks': (_request, response) => void response.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}') },
      internalRoutes: {
        '/internal/ping': (request, response, requestId) => {
          seen.push(`${request.method} ${requestId}`);
          response.writeHead(202).end();
        },
      },
    });
    const jwks = await fetch(`${server.url}/jwks`);
    expect([jwks.status, await jwks.text(), jwks.headers.get('x-content-type-options')]).toEqual([200, '{"keys":[]}', 'nosniff']);
    expect((await fetch(`${server.url}/jwks`, { method: 'HEAD' })).status).toBe(200);
    // A POST to a GET route is not the route: the path is not the GraphQL path, so 404.
    expect((await fetch(`${server.url}/jwks`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${server.url}/internal/ping`, { method: 'PUT', headers: { 'x-request-id': 'int-1' } })).status).toBe(202);
    expect(seen).toEqual(['PUT int-1']);
    const missing = await fetch(`${server.url}/${'a'.repeat(300)}`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ errors: [{ message: `Not found: /${'a'.repeat(199)}`, extensions: { code: 'NOT_FOUND', requestId: missing.headers.get('x-request-id') } }] });
  });

  it('answers an HttpError from prepare with its status, headers, code and extensions', async () => {
    const server = await serve({
      prepare: async () => {
        throw new HttpError(429, 'RATE_LIMITED', 'Slow down', { headers: { 'retry-after': '7' }, extensions: { retryAfterSeconds: 7 } });
      },
    });
    const response = await post(server, { query: '{ hello }' }, { 'x-request-id': 'limited-1' });
    expect([response.status, response.headers.get('retry-after'), response.headers.get('content-type')]).toEqual([429, '7', 'application/json; charset=utf-8']);
    expect(await response.json()).toEqual({ errors: [{ message: 'Slow down', extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 7, requestId: 'limited-1' } }] });
    const bare = new HttpError(400, 'BAD_REQUEST', 'x');
    expect([bare.headers, bare.extensions]).toEqual([{}, {}]);
  });

  it('answers an unexpected failure with a generic 500, logging it with the request id', async () => {
    const server = await serve({
      prepare: async () => {
        throw new Error('connect ECONNREFUSED 10.0.0.5:5432');
      },
    });
    lines.length = 0;
    const response = await post(server, { query: '{ hello }' }, { 'x-request-id': 'boom-1' });
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'boom-1' } }] });
    expect(lines.filter((line) => line.level === 'error')).toEqual([expect.objectContaining({ message: 'request failed', requestId: 'boom-1', error: expect.stringContaining('ECONNREFUSED') })]);
  });

  it('cuts the connection when a failure comes after the answer has started', async () => {
    const server = await serve({
      htmlPage: (_request: IncomingMessage, response: ServerResponse) => {
        response.writeHead(200, { 'content-type': 'text/html' });
        response.write('<!doctype html>');
        throw new Error('template broke');
      },
    });
    const outcome = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } }).then(
      async (response) => response.text().then(() => 'complete', () => 'cut'),
      () => 'cut',
    );
    expect(outcome).toBe('cut');
  });

  it('logs a failure after the client has gone as an abort, at debug, not as an error', async () => {
    let reached!: () => void;
    const inPrepare = new Promise<void>((resolve) => (reached = resolve));
    const server = await serve({
      prepare: async (request) => {
        reached();
        await new Promise((resolve) => request.raw.socket.once('close', resolve));
        throw new Error('the database went away too');
      },
    });
    lines.length = 0;
    const client = rawClient(server.port);
    const body = '{"query":"{ hello }"}';
    client.socket.write(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nX-Request-Id: gone-1\r\n\r\n${body}`);
    await inPrepare;
    client.socket.destroy();
    await until(() => lines.some((line) => line.message === 'request' && line.requestId === 'gone-1'), 'the access line');
    expect(lines.filter((line) => line.level !== 'debug' || line.message !== 'request')).toEqual([{ level: 'debug', message: 'request aborted by the client', requestId: 'gone-1' }]);
  });
});

describe('the access log', () => {
  it('writes one line per GraphQL request at the configured level: method, operation name (GET too, at most 100 characters), status, duration, user', async () => {
    const server = await serve({
      accessLog: 'info',
      prepare: async (request) => ({ requestId: request.requestId, clientIp: request.clientIp, viewer: { userId: 12 } }),
    });
    lines.length = 0;
    await (await post(server, { query: 'query Hello { hello }', operationName: 'Hello' }, { 'x-request-id': 'log-1' })).text();
    const long = 'N'.repeat(150);
    await (await fetch(`${server.url}/graphql?query=${encodeURIComponent(`query ${long} { hello }`)}&operationName=${long}`, { headers: { 'apollo-require-preflight': 'true', 'x-request-id': 'log-2' } })).text();
    await (await fetch(`${server.url}/health`)).text();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const access = lines.filter((line) => line.message === 'request');
    expect(access).toEqual([
      { level: 'info', message: 'request', method: 'POST', operationName: 'Hello', status: 200, durationMs: expect.any(Number), userId: 12, requestId: 'log-1' },
      { level: 'info', message: 'request', method: 'GET', operationName: 'N'.repeat(100), status: 200, durationMs: expect.any(Number), userId: 12, requestId: 'log-2' },
    ]);
    for (const line of access) expect(Math.round((line.durationMs as number) * 10)).toBe((line.durationMs as number) * 10);
  });

  it('logs at debug by default, with no user and no operation name when there are none', async () => {
    const server = await serve();
    lines.length = 0;
    await (await post(server, { query: '{ hello }' }, { 'x-request-id': 'log-3' })).text();
    await (await post(server, [{ query: '{ hello }' }], { 'x-request-id': 'log-4' })).text();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(lines.filter((line) => line.message === 'request').map(({ level, operationName, userId, requestId }) => ({ level, operationName, userId, requestId }))).toEqual([
      { level: 'debug', operationName: null, userId: null, requestId: 'log-3' },
      { level: 'debug', operationName: null, userId: null, requestId: 'log-4' },
    ]);
  });

  it('measures the duration of the exchange in milliseconds, to a tenth', async () => {
    const server = await serve({
      prepare: async (request) => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        return { requestId: request.requestId, clientIp: request.clientIp };
      },
    });
    lines.length = 0;
    const started = performance.now();
    await (await post(server, { query: '{ hello }' }, { 'x-request-id': 'timed-1' })).text();
    await until(() => lines.some((line) => line.message === 'request'), 'the access line');
    const elapsed = performance.now() - started;
    const { durationMs } = lines.find((line) => line.message === 'request')!;
    // At least the 200 ms prepare waited, at most the time the test saw go by.
    expect(durationMs).toBeGreaterThanOrEqual(150);
    expect(durationMs).toBeLessThanOrEqual(Math.ceil(elapsed * 10) / 10);
  });
});

describe('the HTML page at the GraphQL path', () => {
  it('is chosen by the Accept header as Apollo would: quality first, then the more specific range, then the earlier one', async () => {
    const server = await serve({ htmlPage: (_request: IncomingMessage, response: ServerResponse) => void response.writeHead(200, { 'content-type': 'text/html' }).end('the page') });
    const page = async (accept: string) => (await (await fetch(`${server.url}/graphql`, { headers: { accept } })).text()) === 'the page';
    const cases: [string, boolean][] = [
      // No range for the JSON types: HTML at any quality wins.
      ['image/png, text/html;q=0.5', true],
      // Any type at a higher quality: JSON.
      ['text/html;q=0.5, */*', false],
      // Same quality: the exact range beats */*.
      ['text/html, */*', true],
      // The more specific range of a type counts, not the first one that matches.
      ['text/*;q=0.9, text/html, application/json;q=0.95', true],
      // Of two equally specific ranges, the first one counts.
      ['*/*, text/html;q=0.5, */*;q=0.1', false],
      // q is read from its own parameter, wherever it is.
      ['text/html;level=1;q=0.5, application/json', false],
      // Every GraphQL response type is weighed, not only application/json.
      ['application/graphql-response+json, text/html', false],
      ['multipart/mixed, text/html', false],
    ];
    const answers: [string, boolean][] = [];
    for (const [accept] of cases) answers.push([accept, await page(accept)]);
    expect(answers).toEqual(cases);
  });
});

describe('probes', () => {
  it('answers /health always, and /ready from the readiness check (ready by default)', async () => {
    let ready = true;
    const server = await serve({ readiness: async () => ({ ready, database: 'pglite' }) });
    expect([(await fetch(`${server.url}/health`)).status, await (await fetch(`${server.url}/health`)).json()]).toEqual([200, { status: 'ok' }]);
    const up = await fetch(`${server.url}/ready`);
    expect([up.status, await up.json()]).toEqual([200, { ready: true, database: 'pglite' }]);
    ready = false;
    const down = await fetch(`${server.url}/ready`);
    expect([down.status, await down.json()]).toEqual([503, { ready: false, database: 'pglite' }]);
    const plain = await serve();
    const defaults = await fetch(`${plain.url}/ready`);
    expect([defaults.status, await defaults.json()]).toEqual([200, { ready: true }]);
  });
});

describe('the listener', () => {
  it('applies its defaults: 16 KiB of headers, 10 s for headers, 30 s for the request, and checks every second', async () => {
    const server = await serve();
    const checkEvery = (running: RunningServer) => (running.server as unknown as { connectionsCheckingInterval: number }).connectionsCheckingInterval;
    expect([server.server.headersTimeout, server.server.requestTimeout, server.server.keepAliveTimeout, checkEvery(server)]).toEqual([10_000, 30_000, 65_000, 1_000]);
    // A shorter headers deadline is checked as often as it is long.
    expect(checkEvery(await serve({}, { headersTimeoutMs: 300 }))).toBe(300);
    const big = await post(server, { query: '{ hello }' }, { 'x-padding': 'p'.repeat(15_000) });
    expect(big.status).toBe(200);
    const huge = await post(server, { query: '{ hello }' }, { 'x-padding': 'p'.repeat(17_000) });
    expect(huge.status).toBe(431);
  });

  it('never lets the request deadline be shorter than the headers deadline', async () => {
    const server = await serve({}, { headersTimeoutMs: 2_000, requestTimeoutMs: 500 });
    expect([server.server.headersTimeout, server.server.requestTimeout]).toEqual([2_000, 2_000]);
  });

  it('names its URL by the address it listens on, localhost for any address', async () => {
    const any = await serve({}, { host: '0.0.0.0' });
    expect(any.url).toBe(`http://localhost:${any.port}`);
    const loopback = await serve();
    expect(loopback.url).toBe(`http://127.0.0.1:${loopback.port}`);
  });

  it('on close, waits for in-flight requests only for the grace period, then cuts them', async () => {
    const server = await serve({}, { shutdownGraceMs: 300 });
    const inFlight = post(server, { query: '{ slow }' }).then(
      (response) => response.status,
      () => 'cut',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    await server.close();
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2_000);
    expect(await inFlight).toBe('cut');
    release?.();
  });

  it('closes at once when nothing is in flight', async () => {
    const server = await serve({}, { shutdownGraceMs: 5_000 });
    await (await post(server, { query: '{ hello }' })).text();
    const started = performance.now();
    await server.close();
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('takes its header limit from maxHeaderBytes', async () => {
    const server = await serve({}, { maxHeaderBytes: 4_096 });
    expect((await post(server, { query: '{ hello }' }, { 'x-padding': 'p'.repeat(3_000) })).status).toBe(200);
    expect((await post(server, { query: '{ hello }' }, { 'x-padding': 'p'.repeat(5_000) })).status).toBe(431);
  });

  it('names an IPv6 address in brackets, and localhost for the IPv6 any address', async () => {
    const loopback = await serve({}, { host: '::1' });
    expect(loopback.url).toBe(`http://[::1]:${loopback.port}`);
    expect((await fetch(`${loopback.url}/health`)).status).toBe(200);
    const any = await serve({}, { host: '::' });
    expect(any.url).toBe(`http://localhost:${any.port}`);
  });

  it('keeps no listener of its own for errors once listening: a later server error is not swallowed', async () => {
    const server = await serve();
    expect(() => server.server.emit('error', new Error('later trouble'))).toThrow('later trouble');
  });

  it('on close, says 503 draining to /ready and closes each connection after its answer, and stops once the last in-flight request is done', async () => {
    const held: (() => void)[] = [];
    const server = await listen(
      (request, response) => {
        if (request.url === '/hold') held.push(() => response.end('held'));
        else response.end(`handler ${request.url}`);
      },
      { host: '127.0.0.1', port: 0, shutdownGraceMs: 60_000 },
    );
    servers.push(server);
    let requests = 0;
    server.server.on('request', () => requests++);
    const a = rawClient(server.port);
    const b = rawClient(server.port);
    a.socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
    b.socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => held.length === 2, 'two held requests');
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    // Pipelined behind the held ones, so they arrive while the server drains.
    a.socket.write('GET /ready HTTP/1.1\r\nHost: x\r\n\r\n');
    b.socket.write('GET /other HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => requests === 4, 'the pipelined requests');
    held[0]!();
    await until(() => a.text.includes('draining'), 'the answers on the first connection');
    await a.closed;
    // The first connection's requests are done; the other one's are not, and the server waits for them.
    expect(closed).toBe(false);
    held[1]!();
    await b.closed;
    await until(() => closed, 'close() to resolve once nothing is in flight');
    await closing;
    const responses = (text: string) => text.split(/(?=HTTP\/1\.1 )/).map((response) => {
      const [head = '', body] = response.split('\r\n\r\n');
      return { status: head.split('\r\n')[0], connection: /\r\nconnection: (.*)/i.exec(head)?.[1], body };
    });
    expect(responses(a.text)).toEqual([
      { status: 'HTTP/1.1 200 OK', connection: 'keep-alive', body: 'held' },
      { status: 'HTTP/1.1 503 Service Unavailable', connection: 'close', body: expect.stringContaining('{"ready":false,"draining":true}') },
    ]);
    expect(responses(b.text)).toEqual([
      { status: 'HTTP/1.1 200 OK', connection: 'keep-alive', body: 'held' },
      { status: 'HTTP/1.1 200 OK', connection: 'close', body: 'handler /other' },
    ]);
  }, 30_000);

  it('rejects when the port is taken', async () => {
    const taken = await serve();
    await expect(listen(() => {}, { host: '127.0.0.1', port: taken.port })).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('sendJson', () => {
  it('writes nothing once an answer has started', async () => {
    const raw = await listen(
      (_request, response) => {
        response.writeHead(201, { 'content-type': 'text/plain' });
        sendJson(response, 500, { errors: [] });
        response.end('first answer');
      },
      { host: '127.0.0.1', port: 0 },
    );
    servers.push(raw);
    const response = await fetch(raw.url);
    expect([response.status, await response.text()]).toEqual([201, 'first answer']);
  });

  it('survives a client that is already gone', async () => {
    let sent = false;
    const raw = await listen(
      (request, response) => {
        request.socket.destroy();
        setTimeout(() => {
          sendJson(response, 200, { ok: true });
          sent = true;
        }, 20);
      },
      { host: '127.0.0.1', port: 0 },
    );
    servers.push(raw);
    await new Promise<void>((resolve) => {
      const socket = connect(raw.port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(sent).toBe(true);
  });
});
