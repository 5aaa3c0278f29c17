// The platform's raw SQL client (`Database.sql`), which the event backbone and raw-SQL writes run on
// instead of Prisma's client: the same suite on embedded PGlite and, with TEST_POSTGRES_ADMIN_URL,
// on the machine's PostgreSQL server (skipped, and reported as skipped, without it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, TRANSACTION_CLOSED, type Database } from '../src/index.ts';
import { postgresAdminUrl, provisionTestServices, type ProvisionedTestServices } from '../src/testing.ts';
import { migrationsOf } from './support/postgres-platform-suite.ts';

const TABLE = `CREATE TABLE raw_sql_probe (id bigint PRIMARY KEY, n integer NOT NULL DEFAULT 0, doc jsonb, at timestamptz NOT NULL DEFAULT now())`;

function defineRawSqlSuite(kind: 'pglite' | 'postgres', open: () => Promise<Database>, options: { skip?: boolean } = {}) {
  describe.skipIf(options.skip ?? false)(`Database.sql on ${kind}`, () => {
    let db: Database;
    beforeAll(async () => {
      db = await open();
    });
    afterAll(async () => {
      await db?.close();
    });
    const count = async () => Number((await db.sql.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM raw_sql_probe`))[0]!.n);

    it('reads values as Prisma raw queries give them (bigint as bigint) and counts affected rows', async () => {
      const inserted = await db.sql.$executeRawUnsafe(`INSERT INTO raw_sql_probe (id, n, doc) VALUES ($1, $2, $3::jsonb), ($4, $5, NULL)`, 1, 7, JSON.stringify({ a: [1] }), 2, 8);
      expect(inserted).toBe(2);
      const rows = await db.sql.$queryRawUnsafe<{ id: unknown; n: unknown; doc: unknown; at: unknown }[]>(`SELECT id, n, doc, at FROM raw_sql_probe WHERE id = ANY($1::bigint[]) ORDER BY id`, [1, 2]);
      expect(rows.map((row) => [row.id, row.n, row.doc])).toEqual([
        [1n, 7, { a: [1] }],
        [2n, 8, null],
      ]);
      expect(rows[0]!.at).toBeInstanceOf(Date);
      expect(await db.sql.$executeRawUnsafe(`DELETE FROM raw_sql_probe WHERE id IN (1, 2)`)).toBe(2);
    });

    it('commits a transaction that returns, and rolls back all of one that throws, rethrowing its error', async () => {
      const result = await db.sql.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`INSERT INTO raw_sql_probe (id) VALUES (10)`);
        await tx.$executeRawUnsafe(`INSERT INTO raw_sql_probe (id) VALUES (11)`);
        return 'done';
      });
      expect(result).toBe('done');
      expect(await count()).toBe(2);
      const failure = new Error('the handler failed');
      await expect(
        db.sql.$transaction(async (tx) => {
          await tx.$executeRawUnsafe(`INSERT INTO raw_sql_probe (id) VALUES (12)`);
          await tx.$executeRawUnsafe(`UPDATE raw_sql_probe SET n = n + 1`);
          throw failure;
        }),
      ).rejects.toBe(failure);
      // A statement the database refuses rolls back the same way.
      await expect(
        db.sql.$transaction(async (tx) => {
          await tx.$executeRawUnsafe(`INSERT INTO raw_sql_probe (id) VALUES (13)`);
          await tx.$executeRawUnsafe(`INSERT INTO raw_sql_probe (id) VALUES (10)`);
        }),
      ).rejects.toMatchObject({ code: '23505' });
      expect(await db.sql.$queryRawUnsafe(`SELECT id, n FROM raw_sql_probe ORDER BY id`)).toEqual([
        { id: 10n, n: 0 },
        { id: 11n, n: 0 },
      ]);
      await db.sql.$executeRawUnsafe(`DELETE FROM raw_sql_probe`);
    });

    it('refuses the statements of a transaction past its timeout and commits none of it', async () => {
      await expect(
        db.sql.$transaction(
          async (tx) => {
            await tx.$executeRawUnsafe(`INSERT INTO raw_sql_probe (id) VALUES (20)`);
            await new Promise((resolve) => setTimeout(resolve, 80));
            await tx.$executeRawUnsafe(`INSERT INTO raw_sql_probe (id) VALUES (21)`);
          },
          { timeout: 30 },
        ),
      ).rejects.toThrow(TRANSACTION_CLOSED);
      // One that returns after its timeout without another statement is rolled back too.
      await expect(
        db.sql.$transaction(
          async (tx) => {
            await tx.$executeRawUnsafe(`INSERT INTO raw_sql_probe (id) VALUES (22)`);
            await new Promise((resolve) => setTimeout(resolve, 80));
          },
          { timeout: 30 },
        ),
      ).rejects.toThrow(TRANSACTION_CLOSED);
      expect(await count()).toBe(0);
    });

    it("reports every statement to the database's listeners, transaction control aside", async () => {
      const seen: string[] = [];
      const stop = db.onStatement((sql) => seen.push(sql));
      try {
        await db.sql.$queryRawUnsafe(`SELECT 1 AS one`);
        await db.sql.$transaction(async (tx) => {
          await tx.$executeRawUnsafe(`INSERT INTO raw_sql_probe (id) VALUES (30)`);
        });
      } finally {
        stop();
      }
      expect(seen).toEqual([`SELECT 1 AS one`, `INSERT INTO raw_sql_probe (id) VALUES (30)`]);
      await db.sql.$executeRawUnsafe(`DELETE FROM raw_sql_probe`);
    });

    it('loses no update when many transactions change one row at once, and keeps a plain statement out of an open transaction', async () => {
      await db.sql.$executeRawUnsafe(`INSERT INTO raw_sql_probe (id) VALUES (40)`);
      await Promise.all(
        Array.from({ length: 20 }, () =>
          db.sql.$transaction(async (tx) => {
            const [row] = await tx.$queryRawUnsafe<{ n: number }[]>(`SELECT n FROM raw_sql_probe WHERE id = 40 FOR UPDATE`);
            await tx.$executeRawUnsafe(`UPDATE raw_sql_probe SET n = $1 WHERE id = 40`, row!.n + 1);
          }),
        ),
      );
      expect(await db.sql.$queryRawUnsafe(`SELECT n FROM raw_sql_probe WHERE id = 40`)).toEqual([{ n: 20 }]);
      // A plain statement sent while a transaction is open is not part of it: the rollback keeps it.
      let plain: Promise<number> | undefined;
      await expect(
        db.sql.$transaction(async (tx) => {
          await tx.$executeRawUnsafe(`INSERT INTO raw_sql_probe (id) VALUES (41)`);
          plain = db.sql.$executeRawUnsafe(`INSERT INTO raw_sql_probe (id) VALUES (42)`);
          await new Promise((resolve) => setTimeout(resolve, 20));
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect(await plain).toBe(1);
      expect(await db.sql.$queryRawUnsafe(`SELECT id FROM raw_sql_probe ORDER BY id`)).toEqual([{ id: 40n }, { id: 42n }]);
      await db.sql.$executeRawUnsafe(`DELETE FROM raw_sql_probe`);
    });
  });
}

defineRawSqlSuite('pglite', async () => {
  const db = await openDatabase({ service: 'probe', kind: 'pglite' });
  await db.withSession((session) => session.exec(TABLE));
  return db;
});

let services: ProvisionedTestServices | undefined;
afterAll(async () => {
  await services?.drop();
});
defineRawSqlSuite(
  'postgres',
  async () => {
    services = await provisionTestServices(postgresAdminUrl!, [{ name: 'products', migrationsDir: migrationsOf('products') }]);
    // The migrator makes the table (owner of the schema); the suite runs as the app role, as a service does.
    const migrator = await openDatabase({ service: 'products', kind: 'postgres', url: services.migratorUrl('products'), pool: { max: 1 } });
    try {
      await migrator.withSession((session) => session.exec(TABLE));
    } finally {
      await migrator.close();
    }
    return openDatabase({ service: 'products', kind: 'postgres', url: services.appUrl('products'), pool: { max: 5 } });
  },
  { skip: !postgresAdminUrl },
);
