// Prepared statements on PostgreSQL (off unless a service asks for them): what each connection
// keeps prepared, checked in the server's own pg_prepared_statements (TEST_POSTGRES_ADMIN_URL;
// skipped, and reported as skipped, without it). The naming rule itself is checked without a server.
import type { SqlDriverAdapter, SqlQuery } from '@prisma/driver-adapter-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/index.ts';
import { MAX_PREPARED_PARAMETERS, preparedStatementNames } from '../src/prepared.ts';
import { postgresAdminUrl, provisionTestServices, type ProvisionedTestServices } from '../src/testing.ts';
import { migrationsOf } from './support/postgres-platform-suite.ts';

/** `SELECT $1::int + … + $n::int AS total`: a statement with `count` integer parameters. */
function sum(count: number, start = 1): SqlQuery {
  const args = Array.from({ length: count }, (_, i) => start + i);
  return {
    sql: `SELECT ${args.map((_, i) => `$${i + 1}::int`).join(' + ')} AS total`,
    args,
    argTypes: args.map(() => ({ scalarType: 'int', arity: 'scalar' }) as const),
  };
}

const expectedSum = (count: number, start = 1) => (count * (2 * start + count - 1)) / 2;

describe('preparedStatementNames', () => {
  it('gives the same text the same name and different texts different names', () => {
    const name = preparedStatementNames(10);
    const first = name(sum(1));
    expect(first).not.toBe('');
    expect(name(sum(1, 5))).toBe(first);
    const second = name(sum(2));
    expect(second).not.toBe('');
    expect(second).not.toBe(first);
  });

  it('names only the first `limit` texts, and never one with more than MAX_PREPARED_PARAMETERS parameters', () => {
    const name = preparedStatementNames(2);
    expect(name(sum(MAX_PREPARED_PARAMETERS + 1))).toBe('');
    const a = name(sum(1));
    const b = name(sum(MAX_PREPARED_PARAMETERS));
    expect([a, b].every((n) => n !== '')).toBe(true);
    expect(name(sum(3))).toBe('');
    // Texts named before the budget ran out keep their names.
    expect(name(sum(1))).toBe(a);
    expect(preparedStatementNames(0)(sum(1))).toBe('');
  });
});

describe.skipIf(!postgresAdminUrl)('prepared statements on PostgreSQL (TEST_POSTGRES_ADMIN_URL)', () => {
  let services: ProvisionedTestServices;
  const opened: Database[] = [];

  beforeAll(async () => {
    services = await provisionTestServices(postgresAdminUrl!, [{ name: 'products', migrationsDir: migrationsOf('products') }]);
  });
  afterAll(async () => {
    for (const db of opened) await db.close();
    await services?.drop();
  });

  /** One connection, so the session the adapter used is the one pg_prepared_statements describes. */
  async function open(preparedStatements?: number): Promise<{ db: Database; adapter: SqlDriverAdapter; prepared: () => Promise<string[]> }> {
    const db = await openDatabase({
      service: 'products',
      kind: 'postgres',
      url: services.appUrl('products'),
      pool: { max: 1, ...(preparedStatements === undefined ? {} : { preparedStatements }) },
    });
    opened.push(db);
    const adapter = await db.adapter.connect();
    const prepared = () =>
      db.withSession(async (session) => (await session.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements ORDER BY prepare_time')).map((row) => row.statement));
    return { db, adapter, prepared };
  }

  const total = async (adapter: SqlDriverAdapter, query: SqlQuery) => Number((await adapter.queryRaw(query)).rows[0]?.[0]);

  it('keeps a statement prepared on its connection when asked to, and answers from it with new values', async () => {
    const { adapter, prepared } = await open(200);
    expect(await total(adapter, sum(2, 1))).toBe(expectedSum(2, 1));
    expect(await total(adapter, sum(2, 40))).toBe(expectedSum(2, 40));
    expect(await prepared()).toEqual([sum(2).sql]);
  });

  it('plans every execution of a kept statement for its values (never a generic plan)', async () => {
    const { db, adapter } = await open(200);
    // Past the five executions after which PostgreSQL would otherwise consider a generic plan.
    for (let i = 0; i < 8; i++) expect(await total(adapter, sum(1, i))).toBe(i);
    const plans = await db.withSession((session) =>
      session.query<{ generic_plans: string; custom_plans: string }>('SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1', [sum(1).sql]),
    );
    expect(plans.map((row) => ({ generic: Number(row.generic_plans), custom: Number(row.custom_plans) }))).toEqual([{ generic: 0, custom: 8 }]);
  });

  it.each([
    ['by default', undefined],
    ['with preparedStatements 0', 0],
  ])('prepares nothing %s, and answers the same', async (_title, preparedStatements) => {
    const { db, adapter, prepared } = await open(preparedStatements);
    expect(await total(adapter, sum(2, 1))).toBe(expectedSum(2, 1));
    expect(await total(adapter, sum(2, 7))).toBe(expectedSum(2, 7));
    expect(await prepared()).toEqual([]);
    // Nothing is kept, so the server's own plan caching (PL/pgSQL) is left as it is.
    const [setting] = await db.withSession((session) => session.query<{ plan_cache_mode: string }>('SHOW plan_cache_mode'));
    expect(setting?.plan_cache_mode).toBe('auto');
  });

  it('stops preparing at the limit and never prepares a statement with more parameters than the cap; every answer is right', async () => {
    const { adapter, prepared } = await open(2);
    const queries = [sum(MAX_PREPARED_PARAMETERS + 1), sum(1), sum(3), sum(4), sum(1, 9)];
    for (const query of queries) expect(await total(adapter, query)).toBe(expectedSum(query.args.length, query.args[0] as number));
    expect(await prepared()).toEqual([sum(1).sql, sum(3).sql]);
  });
});
