import { readFile } from 'node:fs/promises';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { EventClient, SqlClient } from '../../src/events/index.ts';

/**
 * A real (in-memory PGlite) database with the event backbone's tables, seen through the same
 * raw-SQL surface a service's Prisma client offers the kit. The kit's event code is tested against
 * it without any service's generated client.
 */
export async function eventDatabase(extraSql = ''): Promise<{ client: EventClient; pglite: PGlite; close(): Promise<void> }> {
  const pglite = await PGlite.create();
  await pglite.exec(await readFile(new URL('../fixtures/events.sql', import.meta.url), 'utf8'));
  if (extraSql) await pglite.exec(extraSql);
  const over = (db: PGlite | Transaction): SqlClient => ({
    async $queryRawUnsafe<T>(query: string, ...values: unknown[]) {
      return (await db.query(query, values)).rows as T;
    },
    async $executeRawUnsafe(query: string, ...values: unknown[]) {
      return (await db.query(query, values)).affectedRows ?? 0;
    },
  });
  const base = over(pglite);
  // PGlite is one connection: transactions run one at a time, as the Prisma adapter makes them.
  let queue: Promise<unknown> = Promise.resolve();
  const client: EventClient = {
    ...base,
    $transaction<R>(fn: (tx: SqlClient) => Promise<R>): Promise<R> {
      const run = queue.then(() => pglite.transaction((tx) => fn(over(tx))));
      queue = run.catch(() => {});
      return run;
    },
  };
  return { client, pglite, close: () => pglite.close() };
}
