// What a subgraph lets out when something goes wrong, over its real HTTP layer: only the closed
// set of codes passes, with its own message and allow-listed extensions; anything else (a
// library's own code, a database error, INTERNAL_SERVER_ERROR with details) becomes one generic
// INTERNAL_SERVER_ERROR, the details going to the log only. And /ready says 503 once the
// subgraph's database is gone.
import { openPGlite, type PGliteDatabase } from '@commerce/db';
import { GraphQLError } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANONYMOUS,
  badUserInput,
  identityHeaders,
  notFound,
  signatureHeaders,
  startSubgraph,
  type Logger,
  type RunningSubgraph,
  type SubgraphDefinition,
  type Viewer,
} from '../src/index.ts';

const SECRET = 'a-signing-secret-of-at-least-32-characters';

/** What the next `notes` query throws. */
let next: () => unknown = () => [];
const logged: { message: string; fields: Record<string, unknown> }[] = [];
const logger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: (message, fields = {}) => void logged.push({ message, fields }),
  child: () => logger,
};

const definition: SubgraphDefinition<{ $disconnect(): Promise<void> }, { viewer: Viewer }> = {
  name: 'notes',
  defaultPort: 0,
  schema: new URL('./fixtures/notes.graphql', import.meta.url),
  migrations: new URL('./fixtures/', import.meta.url),
  resolvers: { Query: { notes: () => next() } },
  createClient: () => ({ $disconnect: async () => {} }),
  createContext: (_client, request) => ({ viewer: request.viewer }),
};

let database: PGliteDatabase;
let subgraph: RunningSubgraph<{ $disconnect(): Promise<void> }>;

beforeAll(async () => {
  database = await openPGlite({ service: 'notes', kind: 'pglite' });
  subgraph = await startSubgraph(definition, { database, signingSecret: SECRET, logger });
});
afterAll(async () => {
  await subgraph?.stop();
  await database?.close().catch(() => {});
});

/** `{ notes { id } }`, signed as the router would send it; `throws` decides what the resolver does. */
async function ask(throws: () => unknown) {
  next = throws;
  logged.length = 0;
  const body = JSON.stringify({ query: '{ notes { id } }' });
  const headers = identityHeaders({ viewer: ANONYMOUS, requestId: 'req-mask', clientIp: null });
  const response = await fetch(subgraph.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers, ...signatureHeaders(SECRET, { method: 'POST', path: '/graphql', headers, body }) },
    body,
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as { data: unknown; errors?: { message: string; path?: unknown; extensions?: Record<string, unknown> }[] } };
}

const GENERIC = { message: 'Internal server error', locations: [{ line: 1, column: 3 }], path: ['notes'], extensions: { code: 'INTERNAL_SERVER_ERROR' } };
const SECRET_TEXT = /10\.0\.0\.5|relation|Invalid `prisma|P20\d\d|stack|at \/srv|password/i;

/** A Prisma known request error as Prisma's client throws it (its class is not what matters: its shape is). */
function prismaError(code: string, message: string): Error {
  return Object.assign(new Error(message), { name: 'PrismaClientKnownRequestError', code, clientVersion: '7.10.1', meta: { modelName: 'Note' } });
}

describe('a subgraph masks every error outside the closed set of codes', () => {
  it.each([
    ['a library error with its own code', () => new GraphQLError('relation "notes" does not exist (10.0.0.5:5432)', { extensions: { code: 'P2010', stacktrace: ['at /srv/notes.ts:1'] } })],
    ['a code that only looks like ours', () => new GraphQLError('password for 10.0.0.5 is wrong', { extensions: { code: 'bad_user_input' } })],
    ['INTERNAL_SERVER_ERROR with details in its message', () => new GraphQLError('Invalid `prisma.note.findMany()` invocation: 10.0.0.5', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })],
    ['an error whose code is not a string', () => new GraphQLError('relation "notes" at 10.0.0.5', { extensions: { code: 42 } })],
    ['a Prisma error no one translated', () => prismaError('P2010', 'Invalid `prisma.note.findMany()` invocation: relation "notes" does not exist')],
    ['a plain Error', () => new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2')],
  ])('%s becomes one generic INTERNAL_SERVER_ERROR; the details reach the log only', async (_what, error) => {
    const answer = await ask(() => {
      throw error();
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ data: null, errors: [GENERIC] });
    expect(answer.text).not.toMatch(SECRET_TEXT);
    expect(logged).toHaveLength(1);
    expect(logged[0]!.message).toBe('unexpected error');
    expect(logged[0]!.fields.path).toEqual(['notes']);
    expect(JSON.stringify(logged[0]!.fields)).toMatch(SECRET_TEXT);
  });

  it('lets our own codes through with their message and only the allow-listed extensions', async () => {
    const input = await ask(() => {
      throw badUserInput('text must not be empty', 'input.text');
    });
    expect(input.body.errors).toEqual([{ message: 'text must not be empty', locations: [{ line: 1, column: 3 }], path: ['notes'], extensions: { code: 'BAD_USER_INPUT', field: 'input.text' } }]);
    const missing = await ask(() => {
      throw notFound('Note', 7);
    });
    expect(missing.body.errors).toEqual([{ message: 'Note 7 was not found', locations: [{ line: 1, column: 3 }], path: ['notes'], extensions: { code: 'NOT_FOUND', typename: 'Note', id: '7' } }]);
    const extra = await ask(() => {
      throw new GraphQLError('Slow down', { extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 3, sql: 'SELECT * FROM notes', stacktrace: ['at x'], serviceName: 'notes' } });
    });
    expect(extra.body.errors).toEqual([{ message: 'Slow down', locations: [{ line: 1, column: 3 }], path: ['notes'], extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 3 } }]);
    expect(logged).toEqual([]);
  });
});

describe('readiness follows the database', () => {
  it('is ready while the database answers, 503 once it is gone, and queries get the generic error', async () => {
    const base = subgraph.url.replace(/\/graphql$/, '');
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, database: 'pglite' });

    await database.close();
    const gone = await fetch(`${base}/ready`);
    expect(gone.status).toBe(503);
    expect(await gone.json()).toEqual({ ready: false, database: 'pglite', error: expect.any(String) });
    // Liveness is not readiness: the process still answers.
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const query = await ask(() => database.withSession((session) => session.query('SELECT 1')));
    expect(query.body).toEqual({ data: null, errors: [GENERIC] });
    expect(query.text).not.toMatch(/PGlite|closed/i);
  });
});
