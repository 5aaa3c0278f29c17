import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { observeAdapter, type StatementListener } from './observe.ts';
import { DEFAULT_PREPARED_STATEMENTS, preparedStatementNames } from './prepared.ts';
import { pgliteSqlClient, postgresSqlClient, type SqlTransactionClient } from './raw-sql.ts';

export type DatabaseKind = 'pglite' | 'postgres';

/** One connection's worth of raw SQL, for the migrator and for seeding in bulk. */
export interface SqlSession {
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a script of several statements (simple query protocol, no parameters). */
  exec(script: string): Promise<void>;
}

/** A service's own database: a driver adapter for its Prisma client plus raw sessions. */
export interface Database {
  readonly service: string;
  readonly kind: DatabaseKind;
  /** Hand this to the service's generated `PrismaClient({ adapter })`. */
  readonly adapter: SqlDriverAdapterFactory;
  /**
   * Raw SQL and transactions on the same database without Prisma's client (the event backbone's
   * inbox, outbox and relay, and raw-SQL writes): much cheaper per transaction. Its statements are
   * reported to `onStatement` listeners too.
   */
  readonly sql: SqlTransactionClient;
  /**
   * Reports every SQL statement the service's Prisma client sends until the returned function is
   * called. Raw sessions (migrator, seeds) are not reported.
   */
  onStatement(listener: StatementListener): () => void;
  /** Runs `fn` on one connection: session-level advisory locks and explicit transactions need it. */
  withSession<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface PoolOptions {
  /** Connections per service process. */
  max: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  applicationName: string;
  /**
   * How many distinct statements each connection keeps prepared, so PostgreSQL parses them once
   * per connection instead of on every execution (`preparedStatementNames`); 0 = none (the default).
   */
  preparedStatements: number;
}

export type OpenOptions =
  | { service: string; kind: 'postgres'; url: string; pool?: Partial<PoolOptions> }
  /** `dataDir` undefined = in memory; `loadDataDir` clones a dumped template (tests). */
  | { service: string; kind: 'pglite'; dataDir?: string; loadDataDir?: Blob };

export async function openDatabase(options: OpenOptions): Promise<Database> {
  return options.kind === 'postgres' ? openPostgres(options) : openPGlite(options);
}

/** A PGlite-backed database keeps its engine reachable so tests can dump a migrated template. */
export interface PGliteDatabase extends Database {
  readonly kind: 'pglite';
  readonly pglite: PGlite;
}

export async function openPGlite(options: Extract<OpenOptions, { kind: 'pglite' }>): Promise<PGliteDatabase> {
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const pglite = await PGlite.create({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
  });
  // PGlite is a single connection: sessions share it, and the adapter serialises transactions.
  const session: SqlSession = {
    async query<Row>(text: string, params: readonly unknown[] = []) {
      const result = await pglite.query<Row>(text, [...params]);
      return result.rows;
    },
    async exec(script: string) {
      await pglite.exec(script);
    },
  };
  const listeners = new Set<StatementListener>();
  return {
    service: options.service,
    kind: 'pglite',
    adapter: observeAdapter(new PrismaPGlite(pglite), listeners),
    sql: pgliteSqlClient(pglite, listeners),
    onStatement: (listener) => subscribe(listeners, listener),
    withSession: (fn) => fn(session),
    close: () => pglite.close(),
    pglite,
  };
}

async function openPostgres(options: Extract<OpenOptions, { kind: 'postgres' }>): Promise<Database> {
  const preparedStatements = options.pool?.preparedStatements ?? DEFAULT_PREPARED_STATEMENTS;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.pool?.max ?? 10,
    connectionTimeoutMillis: options.pool?.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: options.pool?.idleTimeoutMs ?? 10_000,
    application_name: options.pool?.applicationName ?? options.service,
    // Prisma's pg adapter writes a Date as a wall-clock time the server reads in its own zone: on a
    // server not set to UTC, timestamps would be stored hours off. Every session runs in UTC.
    // Kept statements are planned for their values on every execution: after five runs PostgreSQL
    // may otherwise switch one to a generic plan, which for a batch (`= ANY($1)`, an IN list) or a
    // page cost several times as much at the large data size (DESIGN, "What one subgraph fetch costs").
    options: preparedStatements > 0 ? '-c TimeZone=UTC -c plan_cache_mode=force_custom_plan' : '-c TimeZone=UTC',
  });
  // An idle client's error (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const listeners = new Set<StatementListener>();
  return {
    service: options.service,
    kind: 'postgres',
    adapter: observeAdapter(new PrismaPg(pool, preparedStatements > 0 ? { statementNameGenerator: preparedStatementNames(preparedStatements) } : {}), listeners),
    sql: postgresSqlClient(pool, listeners),
    onStatement: (listener) => subscribe(listeners, listener),
    async withSession(fn) {
      const client = await pool.connect();
      try {
        return await fn({
          async query<Row>(text: string, params: readonly unknown[] = []) {
            const result = await client.query(text, [...params]);
            return result.rows as Row[];
          },
          async exec(script: string) {
            await client.query(script);
          },
        });
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

function subscribe(listeners: Set<StatementListener>, listener: StatementListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
