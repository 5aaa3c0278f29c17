import { ApolloServer } from '@apollo/server';
import { openPGlite, type PGliteDatabase } from '@commerce/db';
import { GraphQLError } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  createHttpHandler,
  createLogger,
  createTopPerKeyLoader,
  encodeCursor,
  listen,
  loadSubgraphEnv,
  maskError,
  parseId,
  parsePage,
  translateDatabaseError,
  type RunningServer,
} from '../src/index.ts';

const SECRET = 'a-development-secret-of-32-chars!!';

describe('loadSubgraphEnv', () => {
  it('applies defaults and reads prefixed variables', () => {
    const env = loadSubgraphEnv('REVIEWS', 4004, { REVIEWS_PORT: '5004', REVIEWS_DATABASE_URL: 'postgres://u@h/db', REVIEWS_SIGNING_SECRET: SECRET });
    expect(env).toMatchObject({ port: 5004, host: '127.0.0.1', databaseUrl: 'postgres://u@h/db', pool: { max: 10 } });
  });

  it('treats an empty value as unset', () => {
    expect(loadSubgraphEnv('REVIEWS', 4004, { REVIEWS_DATABASE_URL: '', REVIEWS_SIGNING_SECRET: SECRET }).databaseUrl).toBeUndefined();
  });

  it('reports every problem at once, by the variable name the user set', () => {
    let error: unknown;
    try {
      loadSubgraphEnv('REVIEWS', 4004, { REVIEWS_PORT: 'eighty', LOG_LEVEL: 'loud', REVIEWS_DATABASE_URL: 'mysql://x' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('REVIEWS_PORT');
    expect(message).toContain('"eighty"');
    expect(message).toContain('LOG_LEVEL');
    expect(message).toContain('REVIEWS_DATABASE_URL: must be a postgres:// or postgresql:// URL');
    expect(message).toContain('REVIEWS_SIGNING_SECRET: is required');
  });

  it('refuses a short signing secret without printing it', () => {
    expect(() => loadSubgraphEnv('REVIEWS', 4004, { REVIEWS_SIGNING_SECRET: 'hunter2' })).toThrow(
      /REVIEWS_SIGNING_SECRET: must be at least 32 characters \(got 7 characters\)/,
    );
    try {
      loadSubgraphEnv('REVIEWS', 4004, { REVIEWS_SIGNING_SECRET: 'hunter2' });
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });
});

describe('input helpers', () => {
  it.each(['1', '42', '2147483647'])('accepts id %s', (raw) => expect(parseId(raw, 'id')).toBe(Number(raw)));
  it.each(['0', '-1', '01', '1.5', 'abc', '', '2147483648', ' 1'])('rejects id "%s" with BAD_USER_INPUT', (raw) => {
    expect(() => parseId(raw, 'id')).toThrow(GraphQLError);
    try {
      parseId(raw, 'id');
    } catch (error) {
      expect((error as GraphQLError).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    }
  });

  it('round-trips cursors and refuses cursors of another list', () => {
    expect(parsePage({ first: 5, after: encodeCursor('user', 17) }, { defaultSize: 20, maxSize: 100 }, 'user')).toEqual({ take: 5, afterId: 17 });
    expect(() => parsePage({ after: encodeCursor('product', 17) }, { defaultSize: 20, maxSize: 100 }, 'user')).toThrow(/cursor/);
  });
});

describe('errors', () => {
  it('turns a unique violation into CONFLICT without the Prisma message', () => {
    const prismaError = Object.assign(new Error('Unique constraint failed on the fields: (`email`)'), { code: 'P2002', meta: { target: ['email'] } });
    expect(() => translateDatabaseError(prismaError)).toThrow(expect.objectContaining({ extensions: { code: 'CONFLICT', field: 'email' } }));
  });

  it('masks unknown codes and stack traces', () => {
    const masked = maskError({ message: 'connect ECONNREFUSED 10.0.0.5:5432', extensions: { code: 'WEIRD', stacktrace: ['at x'] } });
    expect(masked).toEqual({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    const kept = maskError({ message: 'bad', extensions: { code: 'BAD_USER_INPUT', field: 'x', stacktrace: ['at y'] } });
    expect(kept).toEqual({ message: 'bad', extensions: { code: 'BAD_USER_INPUT', field: 'x' } });
  });
});

describe('createTopPerKeyLoader', () => {
  let db: PGliteDatabase;
  const statements: string[] = [];

  beforeAll(async () => {
    db = await openPGlite({ service: 'kit', kind: 'pglite' });
    await db.pglite.exec(`
      CREATE TABLE notes (id serial primary key, owner_id int not null, created_at timestamptz not null);
      INSERT INTO notes (owner_id, created_at)
        SELECT (g % 3) + 1, timestamptz '2026-01-01' + g * interval '1 minute' FROM generate_series(1, 30) g;`);
  });
  afterAll(() => db.close());

  const run = async (text: string, ...values: unknown[]) => {
    statements.push(text);
    return (await db.pglite.query(text, values)).rows;
  };

  it('loads the newest N per key in one statement, in key order, [] for misses', async () => {
    statements.length = 0;
    const loader = createTopPerKeyLoader<{ id: number; ownerId: number }>(run, {
      table: 'notes',
      keyColumn: 'owner_id',
      columns: { id: 'id', ownerId: 'owner_id' },
      orderBy: 'created_at DESC, id DESC',
    });
    const [two, one, none, twoShort] = await Promise.all([
      loader.load({ key: 2, first: 3 }),
      loader.load({ key: 1, first: 2 }),
      loader.load({ key: 99, first: 5 }),
      loader.load({ key: 2, first: 1 }),
    ]);
    expect(statements).toHaveLength(1);
    // owner = (g % 3) + 1, so owner 2 has g = 1, 4, …, 28 and owner 1 has g = 3, 6, …, 30.
    expect(two.map((r) => r.id)).toEqual([28, 25, 22]);
    expect(one.map((r) => r.id)).toEqual([30, 27]);
    expect(none).toEqual([]);
    expect(twoShort.map((r) => r.id)).toEqual([28]);
  });
});

describe('HTTP layer', () => {
  let server: RunningServer;

  beforeAll(async () => {
    const apollo = new ApolloServer({ typeDefs: 'type Query { hello: String }', resolvers: { Query: { hello: () => 'world' } } });
    await apollo.start();
    const handler = createHttpHandler({
      apollo,
      logger: createLogger('test', 'silent'),
      context: async () => ({}),
      maxBodyBytes: 1_000,
      corsOrigins: ['https://shop.example'],
    });
    server = await listen(handler, { host: '127.0.0.1', port: 0 });
  });
  afterAll(() => server.close());

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it('answers a query', async () => {
    const response = await post(JSON.stringify({ query: '{ hello }' }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { hello: 'world' } });
  });

  it('answers malformed JSON with 400 and a JSON error, not a stack trace', async () => {
    const response = await post('{"query": ');
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      errors: [{ message: 'The request body is not valid JSON', extensions: { code: 'BAD_REQUEST', requestId: response.headers.get('x-request-id') } }],
    });
  });

  it('refuses bodies over the limit with 413', async () => {
    const response = await post(JSON.stringify({ query: `{ hello } # ${'x'.repeat(2_000)}` }));
    expect(response.status).toBe(413);
  });

  it('serves /health and 404s unknown paths', async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
  });

  it('allows only configured origins', async () => {
    const allowed = await post(JSON.stringify({ query: '{ hello }' }), { origin: 'https://shop.example' });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    const other = await post(JSON.stringify({ query: '{ hello }' }), { origin: 'https://evil.example' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
