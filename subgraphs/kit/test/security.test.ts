import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { openPGlite, type PGliteDatabase } from '@commerce/db';
import { parse, type GraphQLSchema } from 'graphql';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANONYMOUS,
  createHttpHandler,
  createLogger,
  createSignatureVerifier,
  enforceAuthorization,
  identityHeaders,
  listen,
  memoryNonceStore,
  redisNonceStore,
  requestInfoFromHeaders,
  signatureHeaders,
  startSubgraph,
  viewer,
  type RunningServer,
  type RunningSubgraph,
  type SignableRequest,
  type SubgraphDefinition,
  type Viewer,
} from '../src/index.ts';
import { REDACTED_PATHS } from '../src/logger.ts';
import { execute } from '../src/testing.ts';

const SECRET = 'the-router-and-notes-share-this-secret';
const silent = createLogger('test', 'silent');

function signed(body: string, headers: Record<string, string> = {}, secret = SECRET, now = Date.now()): SignableRequest {
  const request = { method: 'POST', path: '/graphql', headers: { ...headers }, body };
  Object.assign(request.headers, signatureHeaders(secret, request, now));
  return request;
}

describe('request signatures', () => {
  const identity = identityHeaders({ viewer: viewer(7, ['admin']), requestId: 'r-1', clientIp: '10.0.0.9' });
  const body = JSON.stringify({ query: '{ notes { id } }' });

  it('accepts a request signed with the shared secret, once', async () => {
    const verify = createSignatureVerifier({ secret: SECRET, nonces: memoryNonceStore() });
    const request = signed(body, identity);
    expect(await verify(request)).toEqual({ ok: true });
    expect(await verify(request)).toEqual({ ok: false, reason: 'replayed signature' });
  });

  it.each([
    ['the body', (r: SignableRequest) => ({ ...r, body: r.body.replace('notes', 'secret') })],
    ['the method', (r: SignableRequest) => ({ ...r, method: 'GET' })],
    ['the path', (r: SignableRequest) => ({ ...r, path: '/graphql?x=1' })],
    ['the user id', (r: SignableRequest) => ({ ...r, headers: { ...r.headers, 'x-commerce-user-id': '1' } })],
    ['the scopes', (r: SignableRequest) => ({ ...r, headers: { ...r.headers, 'x-commerce-scopes': 'admin root' } })],
    ['the client address', (r: SignableRequest) => ({ ...r, headers: { ...r.headers, 'x-commerce-client-ip': '1.2.3.4' } })],
  ])('refuses a request whose %s changed after signing', async (_part, tamper) => {
    const verify = createSignatureVerifier({ secret: SECRET, nonces: memoryNonceStore() });
    expect(await verify(tamper(signed(body, identity)))).toEqual({ ok: false, reason: 'bad signature' });
  });

  it('refuses unsigned, wrongly keyed, stale, future and malformed signatures', async () => {
    const verify = createSignatureVerifier({ secret: SECRET, nonces: memoryNonceStore() });
    expect(await verify({ method: 'POST', path: '/graphql', headers: identity, body })).toEqual({ ok: false, reason: 'unsigned' });
    expect(await verify(signed(body, identity, 'another-secret-of-enough-length-1234'))).toEqual({ ok: false, reason: 'bad signature' });
    expect(await verify(signed(body, identity, SECRET, Date.now() - 31_000))).toEqual({ ok: false, reason: 'stale signature' });
    expect(await verify(signed(body, identity, SECRET, Date.now() + 31_000))).toEqual({ ok: false, reason: 'stale signature' });
    const garbled = signed(body, identity);
    garbled.headers = { ...garbled.headers, 'x-commerce-signature': 'v2=abc' };
    expect(await verify(garbled)).toEqual({ ok: false, reason: 'malformed signature' });
  });

  it('does not let unsigned traffic fill the nonce store', async () => {
    const seen: string[] = [];
    const verify = createSignatureVerifier({ secret: SECRET, nonces: { claim: async (nonce) => (seen.push(nonce), true) } });
    await verify(signed(body, identity, 'another-secret-of-enough-length-1234'));
    expect(seen).toEqual([]);
  });
});

const redisUrl = process.env.TEST_REDIS_URL;

describe.skipIf(!redisUrl)('request signatures across replicas (TEST_REDIS_URL)', () => {
  let redis: Redis;
  const prefix = `test:nonce:${process.pid}:${Date.now()}:`;
  beforeAll(() => {
    redis = new Redis(redisUrl!, { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('catches a request replayed to another replica', async () => {
    const replicaA = createSignatureVerifier({ secret: SECRET, nonces: redisNonceStore(redis, prefix, memoryNonceStore(), silent) });
    const replicaB = createSignatureVerifier({ secret: SECRET, nonces: redisNonceStore(redis, prefix, memoryNonceStore(), silent) });
    const request = signed('{}');
    expect(await replicaA(request)).toEqual({ ok: true });
    expect(await replicaB(request)).toEqual({ ok: false, reason: 'replayed signature' });
    expect(await redis.pttl(`${prefix}${request.headers['x-commerce-nonce']}`)).toBeGreaterThan(50_000);
  });

  it('keeps verifying on its own memory while Redis is unreachable', async () => {
    const down = new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
    down.on('error', () => {});
    const verify = createSignatureVerifier({ secret: SECRET, nonces: redisNonceStore(down, prefix, memoryNonceStore(), silent) });
    const request = signed('{}');
    expect(await verify(request)).toEqual({ ok: true });
    expect(await verify(request)).toEqual({ ok: false, reason: 'replayed signature' });
    down.disconnect();
  });
});

describe('identity headers', () => {
  it('reads a signed user id and scopes, and ignores malformed ones', () => {
    expect(requestInfoFromHeaders({ 'x-commerce-user-id': '42', 'x-commerce-scopes': 'admin', 'x-request-id': 'abc' }, 'fallback')).toEqual({
      viewer: viewer(42, ['admin']),
      requestId: 'abc',
      clientIp: null,
    });
    const odd = requestInfoFromHeaders({ 'x-commerce-user-id': '4e2', 'x-commerce-scopes': 'a"b \u0000 ok' }, 'fallback');
    expect(odd).toEqual({ viewer: viewer(null, ['ok']), requestId: 'fallback', clientIp: null });
    expect(requestInfoFromHeaders({}, 'f').viewer).toBe(ANONYMOUS);
  });
});

describe('authorization directives', () => {
  let schema: GraphQLSchema;
  let server: ApolloServer<{ viewer: Viewer }>;
  const writes: string[] = [];
  const notes = [
    { id: 1, text: 'mine', owner: 7 },
    { id: 2, text: 'yours', owner: 8 },
    { id: 3, text: 'also yours', owner: 8 },
  ];

  beforeAll(async () => {
    schema = buildSubgraphSchema([
      {
        typeDefs: parse(readFileSync(new URL('./fixtures/notes.graphql', import.meta.url), 'utf8')),
        resolvers: {
          Query: { notes: () => notes, secret: () => 'the secret', adminOnly: () => 'for admins' },
          Mutation: {
            addNote: (_: unknown, { text }: { text: string }) => (writes.push(text), { id: 9, text, owner: 7 }),
            wipe: () => (writes.push('wipe'), 3),
          },
          Diary: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, entry: `dear diary ${ref.id}`, author: Number(ref.id) }) },
        } as never,
      },
    ]);
    expect(enforceAuthorization(schema, { Note: (note: { owner: number }) => note.owner, Diary: (d: { author: number }) => d.author }).sort()).toEqual([
      'Diary.entry',
      'Diary.id',
      'Mutation.addNote',
      'Mutation.wipe',
      'Note.owner',
      'Query.adminOnly',
      'Query.secret',
    ]);
    server = new ApolloServer({ schema });
    await server.start();
  });
  afterAll(() => server.stop());

  const run = (query: string, who: Viewer, variables?: Record<string, unknown>) => execute(server, { viewer: who }, query, variables);
  const codes = (result: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => (result.errors ?? []).map((e) => e.extensions?.code);

  it('shows a guarded field to its owner and to a scope holder, null with one error to anyone else', async () => {
    const query = '{ notes { id owner } }';
    expect((await run(query, viewer(7))).data?.notes).toEqual([
      { id: '1', owner: 7 },
      { id: '2', owner: null },
      { id: '3', owner: null },
    ]);
    const admin = await run(query, viewer(1, ['admin']));
    expect(admin.errors).toBeUndefined();
    expect(admin.data?.notes.map((n: { owner: number }) => n.owner)).toEqual([7, 8, 8]);
    const anonymous = await run(query, ANONYMOUS);
    expect(anonymous.data?.notes.map((n: { owner: number | null }) => n.owner)).toEqual([null, null, null]);
    // One error for the field, not one per list item.
    expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);
    expect(codes(await run(query, viewer(7)))).toEqual(['FORBIDDEN']);
  });

  it('guards every field of a guarded type', async () => {
    const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Diary { id entry } } }`;
    const reps = { r: [{ __typename: 'Diary', id: '7' }] };
    expect((await run(query, viewer(7), reps)).data?._entities).toEqual([{ id: '7', entry: 'dear diary 7' }]);
    const other = await run(query, viewer(8), reps);
    expect(other.data?._entities).toEqual([null]);
    expect(new Set(codes(other))).toEqual(new Set(['FORBIDDEN']));
  });

  it('runs no guarded mutation for a caller it refuses', async () => {
    writes.length = 0;
    expect(codes(await run('mutation { addNote(text: "x") { id } }', ANONYMOUS))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await run('mutation { wipe }', viewer(7)))).toEqual(['FORBIDDEN']);
    expect(codes(await run('mutation { wipe }', ANONYMOUS))).toEqual(['UNAUTHENTICATED']);
    expect(writes).toEqual([]);
    expect((await run('mutation { addNote(text: "ok") { id } }', viewer(7))).errors).toBeUndefined();
    expect((await run('mutation { wipe }', viewer(1, ['admin']))).data).toEqual({ wipe: 3 });
    expect(writes).toEqual(['ok', 'wipe']);
  });

  it('lets a scope-only caller (a service token) through scopes, not as a signed-in user', async () => {
    const service = viewer(null, ['admin']);
    expect((await run('{ secret }', service)).data).toEqual({ secret: 'the secret' });
    expect(codes(await run('mutation { addNote(text: "x") { id } }', service))).toEqual(['FORBIDDEN']);
  });

  it('requires every rule when a field carries several', async () => {
    expect(codes(await run('{ adminOnly }', viewer(null, ['admin'])))).toEqual(['FORBIDDEN']);
    expect(codes(await run('{ adminOnly }', viewer(7)))).toEqual(['FORBIDDEN']);
    expect((await run('{ adminOnly }', viewer(1, ['admin']))).data).toEqual({ adminOnly: 'for admins' });
  });
});

describe('a subgraph refuses anything the router did not sign', () => {
  let database: PGliteDatabase;
  let subgraph: RunningSubgraph<{ $disconnect(): Promise<void> }>;

  const definition: SubgraphDefinition<{ $disconnect(): Promise<void> }, { viewer: Viewer }> = {
    name: 'notes',
    defaultPort: 0,
    schema: new URL('./fixtures/notes.graphql', import.meta.url),
    migrations: new URL('./fixtures/', import.meta.url),
    resolvers: { Query: { notes: () => [{ id: 1, text: 'hello', owner: 1 }] }, Note: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, text: 't', owner: 1 }) } },
    createClient: () => ({ $disconnect: async () => {} }),
    createContext: (_client, request) => ({ viewer: request.viewer }),
  };

  beforeAll(async () => {
    database = await openPGlite({ service: 'notes', kind: 'pglite' });
    subgraph = await startSubgraph(definition, { database, signingSecret: SECRET, maxRepresentations: 3, logger: silent });
  });
  afterAll(async () => {
    await subgraph?.stop();
    await database?.close();
  });

  const post = (body: unknown, headers: Record<string, string>) =>
    fetch(subgraph.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const signedHeaders = (body: unknown, who: Viewer = ANONYMOUS) => {
    const headers = identityHeaders({ viewer: who, requestId: 'req-1', clientIp: null });
    return { ...headers, ...signatureHeaders(SECRET, { method: 'POST', path: '/graphql', headers, body: JSON.stringify(body) }) };
  };

  it.each([
    ['_service', { query: '{ _service { sdl } }' }],
    ['_entities', { query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Note { text } } }', variables: { r: [{ __typename: 'Note', id: '1' }] } }],
    ['a plain query', { query: '{ notes { id } }' }],
  ])('refuses an unsigned %s with 401 UNAUTHENTICATED', async (_what, body) => {
    const response = await post(body, {});
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      errors: [{ message: 'Only the router may call this service', extensions: { code: 'UNAUTHENTICATED', requestId: expect.any(String) } }],
    });
  });

  it('answers a signed request, and refuses the same request replayed', async () => {
    const body = { query: '{ _service { sdl } }' };
    const headers = signedHeaders(body);
    const first = await post(body, headers);
    expect(first.status).toBe(200);
    expect(((await first.json()) as { data: { _service: { sdl: string } } }).data._service.sdl).toContain('type Note');
    const replay = await post(body, headers);
    expect(replay.status).toBe(401);
  });

  it('refuses a signature made with another key, and identity headers added to a signed request', async () => {
    const body = { query: '{ notes { id } }' };
    const headers = identityHeaders({ viewer: ANONYMOUS, requestId: 'x', clientIp: null });
    const forged = { ...headers, ...signatureHeaders('not-the-secret-but-long-enough-1234', { method: 'POST', path: '/graphql', headers, body: JSON.stringify(body) }) };
    expect((await post(body, forged)).status).toBe(401);
    const escalated = { ...signedHeaders(body), 'x-commerce-scopes': 'admin' };
    expect((await post(body, escalated)).status).toBe(401);
  });

  it('caps the representations of one _entities request', async () => {
    const body = { query: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Note { text } } }', variables: { r: ['1', '2', '3', '4'].map((id) => ({ __typename: 'Note', id })) } };
    const response = await post(body, signedHeaders(body));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
  });

  it('keeps /health and /ready public, for probes', async () => {
    expect((await fetch(`${subgraph.url.replace('/graphql', '')}/health`)).status).toBe(200);
    expect((await fetch(`${subgraph.url.replace('/graphql', '')}/ready`)).status).toBe(200);
  });
});

describe('HTTP hygiene', () => {
  let server: RunningServer;
  const lines: Record<string, unknown>[] = [];
  let releaseSlow: (() => void) | undefined;

  beforeAll(async () => {
    const apollo = new ApolloServer({
      typeDefs: 'type Query { hello: String, slow: String }',
      resolvers: {
        Query: {
          hello: () => 'world',
          slow: () => new Promise<string>((resolve) => (releaseSlow = () => resolve('done'))),
        },
      },
    });
    await apollo.start();
    const logger = {
      ...silent,
      info: (message: string, fields?: Record<string, unknown>) => void lines.push({ message, ...fields }),
      error: (message: string, fields?: Record<string, unknown>) => void lines.push({ level: 'error', message, ...fields }),
    };
    const handler = createHttpHandler({ apollo, logger, accessLog: 'info', context: async () => ({}), maxBodyBytes: 2_000, hsts: true });
    server = await listen(handler, { host: '127.0.0.1', port: 0, headersTimeoutMs: 300, requestTimeoutMs: 600, maxHeaderBytes: 4_096, shutdownGraceMs: 5_000 });
  });
  afterAll(() => server?.close());

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it('echoes a well-formed request id and makes one up otherwise; logs one access line per request', async () => {
    lines.length = 0;
    const given = await post(JSON.stringify({ query: 'query Hello { hello }', operationName: 'Hello' }), { 'x-request-id': 'client-abc.123' });
    expect(given.headers.get('x-request-id')).toBe('client-abc.123');
    await given.text();
    const made = await post(JSON.stringify({ query: '{ hello }' }), { 'x-request-id': 'bad id with spaces\u00e9' });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await made.text();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(lines).toEqual([
      expect.objectContaining({ message: 'request', method: 'POST', operationName: 'Hello', status: 200, requestId: 'client-abc.123', userId: null }),
      expect.objectContaining({ message: 'request', status: 200, requestId: made.headers.get('x-request-id') }),
    ]);
  });

  it('sends security headers and no version banner', async () => {
    const response = await post(JSON.stringify({ query: '{ hello }' }));
    for (const [name, value] of [
      ['x-content-type-options', 'nosniff'],
      ['x-frame-options', 'DENY'],
      ['referrer-policy', 'no-referrer'],
      ['cache-control', 'no-store'],
      ['strict-transport-security', 'max-age=31536000; includeSubDomains'],
    ]) {
      expect(response.headers.get(name!)).toBe(value);
    }
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('server')).toBeNull();
    expect(response.headers.get('x-powered-by')).toBeNull();
  });

  it('refuses a chunked body over the limit while it streams (no content-length to check)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      request.write(`{"query":"{ hello }","pad":"`);
      const chunk = 'x'.repeat(500);
      let sent = 0;
      const pump = () => {
        if (sent++ > 20 || request.destroyed) return request.end('"}');
        request.write(chunk, () => setImmediate(pump));
      };
      pump();
    });
    expect(status).toBe(413);
  });

  it('answers 431 to a header block over the limit', async () => {
    const response = await post(JSON.stringify({ query: '{ hello }' }), { 'x-padding': 'p'.repeat(8_000) });
    expect(response.status).toBe(431);
  });

  it('cuts a client that sends its headers too slowly (slowloris)', async () => {
    const closedAfter = await new Promise<number>((resolve) => {
      const started = Date.now();
      const socket = connect(server.port, '127.0.0.1', () => {
        socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\n');
        const drip = setInterval(() => socket.write('X-Slow: 1\r\n'), 100);
        socket.on('close', () => {
          clearInterval(drip);
          resolve(Date.now() - started);
        });
      });
      socket.on('error', () => {});
      socket.resume();
    });
    // Headers timeout 300 ms, checked every 300 ms: closed well before the drip would end (never).
    expect(closedAfter).toBeLessThan(3_000);
  });

  it('logs a client that hangs up mid-request once, without an error or a stack', async () => {
    lines.length = 0;
    await new Promise<void>((resolve) => {
      const socket = connect(server.port, '127.0.0.1', () => {
        socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"query":');
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(lines.filter((line) => line.level === 'error')).toEqual([]);
    expect(lines).toEqual([expect.objectContaining({ message: 'request', aborted: true })]);
    expect(JSON.stringify(lines)).not.toMatch(/stack|at .*\.ts/);
  });

  it('redacts tokens and passwords in log lines', () => {
    const chunks: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (chunks.push(String(chunk)), done()) });
    const log = pino({ redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, sink);
    log.info({ authorization: 'Bearer abc.def.ghi', variables: { input: { password: 'hunter2hunter2' } }, refreshToken: 'rt-1' }, 'sign in');
    const line = chunks.join('');
    expect(line).not.toMatch(/abc\.def|hunter2|rt-1/);
    expect(line).toContain('[redacted]');
  });

  it('drains on close: /ready says 503, the in-flight request completes, then the server stops', async () => {
    const inFlight = post(JSON.stringify({ query: '{ slow }' }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = server.close();
    const ready = await new Promise<number>((resolve) => {
      // A request on a new connection is refused once closing; ask over the in-flight request's pool instead.
      const request = httpRequest(`${server.url}/ready`, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', () => resolve(-1));
      request.end();
    });
    // Either the listener is already closed to new connections (-1) or it says it is draining (503).
    expect([503, -1]).toContain(ready);
    releaseSlow?.();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { slow: 'done' } });
    await closing;
  });
});
