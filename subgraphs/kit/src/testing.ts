import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ApolloServer, BaseContext } from '@apollo/server';
import { openDatabase, type Database, type PGliteDatabase } from '@commerce/db';
import { freshTestDatabase, provisionTestServices, type ProvisionedTestServices } from '@commerce/db/testing';
import type { GraphQLFormattedError } from 'graphql';
import { createLogger } from './logger.ts';
import { ANONYMOUS, viewer, type RequestInfo, type Viewer } from './identity.ts';
import { buildSubgraphApolloServer, seedDatabase, type PrismaLikeClient, type SubgraphContext, type SubgraphDefinition } from './subgraph.ts';

export { freePort } from '@commerce/db/testing';

/**
 * Every module a fresh Node process resolves while importing `moduleUrl` (recorded by a resolve
 * hook), and the names the module exports: for tests that hold an entry point to what it may load.
 */
export async function modulesLoadedBy(moduleUrl: string): Promise<{ loaded: string[]; exports: string[] }> {
  const probe = `
import { registerHooks } from 'node:module';
const loaded = [];
registerHooks({ resolve(specifier, context, next) { const resolved = next(specifier, context); loaded.push(resolved.url); return resolved; } });
const entry = await import(${JSON.stringify(moduleUrl)});
console.log(JSON.stringify({ loaded, exports: Object.keys(entry) }));
`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', probe], { timeout: 60_000 });
  return JSON.parse(stdout) as { loaded: string[]; exports: string[] };
}

/** Seeded user 1, the admin, as tests call in. */
export const ADMIN = viewer(1, ['admin']);

/** Nobody signed in. */
export const ANONYMOUS_CALLER: Viewer = ANONYMOUS;

/** A signed-in user without scopes. */
export function asUser(userId: number): Viewer {
  return viewer(userId);
}

export interface Result<Data = Record<string, unknown>> {
  data?: Data | null;
  errors?: readonly GraphQLFormattedError[];
}

/** Runs one operation in-process against a subgraph's Apollo server, as the router would send it. */
export async function execute<Data = Record<string, any>, Context extends BaseContext = BaseContext>(
  server: ApolloServer<Context>,
  contextValue: Context,
  query: string,
  variables?: Record<string, unknown>,
): Promise<Result<Data>> {
  const response = await server.executeOperation<Data>({ query, ...(variables ? { variables } : {}) }, { contextValue });
  if (response.body.kind !== 'single') throw new Error('expected a single result');
  const { data, errors } = response.body.singleResult;
  return { ...(data !== undefined ? { data } : {}), ...(errors ? { errors } : {}) };
}

/** The codes of a result's errors, for exact assertions. */
export function errorCodes(result: Result<unknown>): unknown[] {
  return (result.errors ?? []).map((error) => error.extensions?.code);
}

/**
 * A subgraph on a fresh, migrated (and by default seeded) in-memory PGlite database, queried
 * in-process. One per test file: tests in a file may share it; files never do.
 */
export interface SubgraphHarness<Client, D extends Database = PGliteDatabase> {
  client: Client;
  database: D;
  /** Runs an operation with a fresh per-request context, like one HTTP request would, as `as` (default: the harness's viewer). */
  query<Data = Record<string, any>>(query: string, variables?: Record<string, unknown>, as?: Viewer): Promise<Result<Data>>;
  /** Runs `run` and reports the SQL statements the service sent meanwhile (Prisma's client and `Database.sql`), each with its bound values. */
  countStatements<T>(run: () => Promise<T>): Promise<{ result: T; statements: number; sql: string[]; values: (readonly unknown[])[] }>;
  close(): Promise<void>;
}

/** A statement that read rows by a list of keys: its table, key column and the keys it was bound to, sorted. */
export interface KeyedRead {
  table: string;
  column: string;
  keys: unknown[];
}

const KEYED_READ = / FROM "?([a-z_]+)"? WHERE "?([a-z_]+)"? = ANY\(\$1::(?:int|text)\[\]\)/;

/**
 * The statements of a `countStatements` run read as `WHERE <column> = ANY($1)` (the kit's by-key
 * loaders), in the order sent; any other statement is kept as its SQL text, so a test comparing
 * the whole list sees it. A statement without its key filter, or bound to keys nobody asked for,
 * shows here.
 */
export function keyedReads({ sql, values }: { sql: string[]; values: (readonly unknown[])[] }): (KeyedRead | string)[] {
  return sql.map((text, i) => {
    const match = KEYED_READ.exec(text);
    const keys = values[i]?.[0];
    if (!match || !Array.isArray(keys)) return text;
    const sorted = [...keys].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
    return { table: match[1]!, column: match[2]!, keys: sorted };
  });
}

/**
 * The keyed reads of a run by `table.column`, for a test that asserts which reads were made and
 * not in which order (one batch's loaders run concurrently). Each column read once maps to its
 * sorted keys; a column read twice, or a statement that is no keyed read, throws.
 */
export function keyedReadsByColumn(counted: { sql: string[]; values: (readonly unknown[])[] }): Record<string, unknown[]> {
  const reads: Record<string, unknown[]> = {};
  for (const read of keyedReads(counted)) {
    if (typeof read === 'string') throw new Error(`not a keyed read: ${read}`);
    const column = `${read.table}.${read.column}`;
    if (column in reads) throw new Error(`${column} read twice`);
    reads[column] = read.keys;
  }
  return reads;
}

/** The request info of an in-process test request made by `viewer`. */
export function testRequest(viewer: Viewer = ANONYMOUS): RequestInfo {
  return { viewer, requestId: 'test', clientIp: '127.0.0.1' };
}

export async function subgraphHarness<Client extends PrismaLikeClient, Context extends SubgraphContext>(
  definition: SubgraphDefinition<Client, Context>,
  { seed = true, viewer: defaultViewer = ANONYMOUS }: { seed?: boolean; viewer?: Viewer } = {},
): Promise<SubgraphHarness<Client>> {
  const database = await freshTestDatabase(definition.name, fileURLToPath(definition.migrations));
  const client = definition.createClient(database.adapter);
  if (seed && definition.seed) await definition.seed(client);
  return harnessOn(definition, database, client, defaultViewer, () => database.close());
}

/**
 * The same harness on the PostgreSQL server of TEST_POSTGRES_ADMIN_URL: the service provisioned
 * under a name unique to the run, migrated and seeded as its migrator role, served as its app role
 * through a pool of `pool` connections (real concurrency, which PGlite's one connection never has).
 * `close` drops the databases and roles, also after failed tests.
 */
export async function postgresSubgraphHarness<Client extends PrismaLikeClient, Context extends SubgraphContext>(
  definition: SubgraphDefinition<Client, Context>,
  adminUrl: string,
  { pool = 10, viewer: defaultViewer = ANONYMOUS }: { pool?: number; viewer?: Viewer } = {},
): Promise<SubgraphHarness<Client, Database> & { provisioned: ProvisionedTestServices }> {
  const name = definition.name;
  const provisioned = await provisionTestServices(adminUrl, [{ name, migrationsDir: fileURLToPath(definition.migrations) }]);
  try {
    const migrator = await openDatabase({ service: name, kind: 'postgres', url: provisioned.migratorUrl(name), pool: { max: 1 } });
    try {
      await seedDatabase(definition, migrator);
    } finally {
      await migrator.close();
    }
    const database = await openDatabase({ service: name, kind: 'postgres', url: provisioned.appUrl(name), pool: { max: pool } });
    const client = definition.createClient(database.adapter);
    const harness = await harnessOn(definition, database, client, defaultViewer, async () => {
      await database.close();
      await provisioned.drop();
    });
    return { ...harness, provisioned };
  } catch (error) {
    await provisioned.drop();
    throw error;
  }
}

async function harnessOn<Client extends PrismaLikeClient, Context extends SubgraphContext, D extends Database>(
  definition: SubgraphDefinition<Client, Context>,
  database: D,
  client: Client,
  defaultViewer: Viewer,
  closeDatabase: () => Promise<void>,
): Promise<SubgraphHarness<Client, D>> {
  const server = buildSubgraphApolloServer(definition, createLogger(definition.name, 'silent'));
  await server.start();
  return {
    client,
    database,
    query: (query, variables, as = defaultViewer) => execute(server, definition.createContext(client, testRequest(as), database.sql), query, variables),
    async countStatements(run) {
      const sql: string[] = [];
      const values: (readonly unknown[])[] = [];
      const stop = database.onStatement((statement, bound) => {
        sql.push(statement);
        values.push(bound);
      });
      try {
        const result = await run();
        return { result, statements: sql.length, sql, values };
      } finally {
        stop();
      }
    },
    async close() {
      await server.stop();
      await client.$disconnect();
      await closeDatabase();
    },
  };
}
