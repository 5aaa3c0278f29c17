import type { PGlite, Transaction as PGliteTransaction } from '@electric-sql/pglite';
import pg from 'pg';
import type { StatementListener } from './observe.ts';

/**
 * Raw SQL on a service's own database, the surface a Prisma client offers for it
 * (`$queryRawUnsafe`, `$executeRawUnsafe`), so code written against it takes either.
 */
export interface SqlClient {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

export interface SqlTransactionOptions {
  /**
   * After this many ms a transaction's further statements fail and it is rolled back (default
   * 5 000, Prisma's). The wait for a connection is not part of it: that is the pool's connect timeout.
   */
  timeout?: number;
}

/** A SqlClient that also runs transactions: what the event backbone and raw-SQL writes run on. */
export interface SqlTransactionClient extends SqlClient {
  $transaction<R>(fn: (tx: SqlClient) => Promise<R>, options?: SqlTransactionOptions): Promise<R>;
}

const DEFAULT_TRANSACTION_TIMEOUT_MS = 5_000;

/** The message of a statement sent after its transaction's timeout (the inbox retries on it, as on Prisma's). */
export const TRANSACTION_CLOSED = 'Transaction already closed';

const INT8 = 20;
// Results as Prisma's raw queries give them, so code moved between the two reads the same values:
// bigint columns as JavaScript bigints (pg's default is a string, PGlite's a number).
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? (value: string) => BigInt(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};
const pgliteOptions = { parsers: { [INT8]: (value: string) => BigInt(value) } };

type Run = (query: string, values: unknown[]) => Promise<{ rows: unknown[]; count: number }>;

const closed = () => new Error(`${TRANSACTION_CLOSED}: it ran longer than its timeout; rolled back`);

/** Every statement is reported to the listeners first, as the Prisma adapter's are (observe.ts). */
function over(run: Run, listeners: ReadonlySet<StatementListener>, deadline = Infinity): SqlClient {
  const send = (query: string, values: unknown[]) => {
    if (Date.now() > deadline) return Promise.reject(closed());
    for (const listener of listeners) listener(query, values);
    return run(query, values);
  };
  return {
    async $queryRawUnsafe<T>(query: string, ...values: unknown[]) {
      return (await send(query, values)).rows as T;
    },
    async $executeRawUnsafe(query: string, ...values: unknown[]) {
      return (await send(query, values)).count;
    },
  };
}

/** Runs a transaction's body on `run` (its connection): past the timeout its statements fail, and so does the transaction. */
async function within<R>(fn: (tx: SqlClient) => Promise<R>, run: Run, listeners: ReadonlySet<StatementListener>, options: SqlTransactionOptions | undefined): Promise<R> {
  const deadline = Date.now() + (options?.timeout ?? DEFAULT_TRANSACTION_TIMEOUT_MS);
  const result = await fn(over(run, listeners, deadline));
  if (Date.now() > deadline) throw closed();
  return result;
}

/**
 * Raw SQL through a PostgreSQL pool, without Prisma's client. A transaction is BEGIN … COMMIT on
 * one pooled connection: measured, Prisma's interactive transaction cost about 430 µs more of the
 * service's CPU than this for the same four statements (DESIGN, "Raw SQL without Prisma's client").
 */
export function postgresSqlClient(pool: pg.Pool, listeners: ReadonlySet<StatementListener>): SqlTransactionClient {
  const runOn =
    (queryable: pg.Pool | pg.PoolClient): Run =>
    async (text, values) => {
      const result = await queryable.query({ text, values, types: pgTypes });
      return { rows: result.rows, count: result.rowCount ?? 0 };
    };
  return {
    ...over(runOn(pool), listeners),
    async $transaction(fn, options) {
      const connection = await pool.connect();
      // A connection whose ROLLBACK failed is in an unknown state: the pool closes it instead of reusing it.
      let broken: Error | undefined;
      try {
        await connection.query('BEGIN');
        const result = await within(fn, runOn(connection), listeners, options);
        await connection.query('COMMIT');
        return result;
      } catch (error) {
        await connection.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
        throw error;
      } finally {
        connection.release(broken);
      }
    },
  };
}

/** The same on embedded PGlite: one connection, whose own lock runs a transaction alone (plain queries wait for it). */
export function pgliteSqlClient(pglite: PGlite, listeners: ReadonlySet<StatementListener>): SqlTransactionClient {
  const runOn =
    (queryable: PGlite | PGliteTransaction): Run =>
    async (text, values) => {
      const result = await queryable.query(text, values, pgliteOptions);
      return { rows: result.rows, count: result.affectedRows ?? 0 };
    };
  return {
    ...over(runOn(pglite), listeners),
    $transaction(fn, options) {
      return pglite.transaction((tx) => within(fn, runOn(tx), listeners, options));
    },
  };
}
