import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, openDatabase, pendingMigrations, provision, serviceNames, urlFor } from '../src/index.ts';
import { postgresAdminUrl, provisionTestServices, type ProvisionedTestServices } from '../src/testing.ts';

const migrationsOf = (service: string) => fileURLToPath(new URL(`../../subgraphs/${service}/prisma/migrations/`, import.meta.url));

async function connectAs(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  return client;
}

async function failure(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a failure');
}

describe.skipIf(!postgresAdminUrl)('PostgreSQL: provisioning, roles and migrations (TEST_POSTGRES_ADMIN_URL)', () => {
  const adminUrl = postgresAdminUrl!;
  let services: ProvisionedTestServices;

  beforeAll(async () => {
    services = await provisionTestServices(adminUrl, [
      { name: 'accounts', migrationsDir: migrationsOf('accounts') },
      { name: 'reviews', migrationsDir: migrationsOf('reviews') },
    ]);
  });
  afterAll(() => services?.drop());

  it('runs every session in UTC, whatever the server or database says', async () => {
    const admin = await connectAs(adminUrl);
    const database = serviceNames(services.prefix, 'reviews').database;
    try {
      await admin.query(`ALTER DATABASE "${database}" SET timezone TO 'Pacific/Kiritimati'`);
      const db = await openDatabase({ service: 'reviews', kind: 'postgres', url: services.appUrl('reviews'), pool: { max: 1 } });
      try {
        const zone = await db.withSession((session) => session.query('SHOW TimeZone'));
        expect(zone).toEqual([{ TimeZone: 'UTC' }]);
      } finally {
        await db.close();
      }
    } finally {
      await admin.query(`ALTER DATABASE "${database}" RESET timezone`);
      await admin.end();
    }
  });

  it('is idempotent: a second run changes nothing and says so', async () => {
    const lines: string[] = [];
    const again = await provision({ adminUrl, prefix: services.prefix, services: ['accounts', 'reviews'], appConnectionLimit: 20, log: (l) => lines.push(l) });
    expect(again.changed).toBe(false);
    expect(again.services.map((s) => s.changes)).toEqual([[], []]);
    expect(again.services.map((s) => s.generatedPasswords)).toEqual([{}, {}]);
    expect(lines).toEqual(['accounts: unchanged', 'reviews: unchanged', 'maintenance database: unchanged']);
  });

  it('gives roles no superpowers, a connection limit and timeouts', async () => {
    const admin = await connectAs(adminUrl);
    try {
      const names = serviceNames(services.prefix, 'accounts');
      const { rows } = await admin.query(
        `SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolconnlimit, rolconfig
           FROM pg_roles WHERE rolname = ANY($1) ORDER BY rolname`,
        [[names.appRole, names.migratorRole]],
      );
      expect(rows).toEqual([
        {
          rolname: names.appRole,
          rolsuper: false,
          rolcreatedb: false,
          rolcreaterole: false,
          rolreplication: false,
          rolbypassrls: false,
          rolconnlimit: 20,
          rolconfig: expect.arrayContaining(['statement_timeout=5s', 'lock_timeout=2s', 'idle_in_transaction_session_timeout=10s']),
        },
        expect.objectContaining({ rolname: names.migratorRole, rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolconnlimit: 2 }),
      ]);
      const owner = await admin.query('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [names.database]);
      expect(owner.rows).toEqual([{ owner: names.migratorRole }]);
    } finally {
      await admin.end();
    }
  });

  it("denies one service's app role the other service's database", async () => {
    const reviewsDb = serviceNames(services.prefix, 'reviews').database;
    const accountsApp = new URL(services.appUrl('accounts'));
    const message = await failure(() =>
      connectAs(urlFor(adminUrl, { user: decodeURIComponent(accountsApp.username), password: decodeURIComponent(accountsApp.password), database: reviewsDb })),
    );
    expect(message).toMatch(/permission denied for database/);
  });

  it('denies the app role the maintenance database', async () => {
    const accountsApp = new URL(services.appUrl('accounts'));
    const maintenance = new URL(adminUrl).pathname.slice(1) || 'postgres';
    const message = await failure(() =>
      connectAs(urlFor(adminUrl, { user: decodeURIComponent(accountsApp.username), password: decodeURIComponent(accountsApp.password), database: maintenance })),
    );
    expect(message).toMatch(/permission denied for database/);
  });

  it('denies the app role DDL in its own database, and writes to the migrations table', async () => {
    const app = await connectAs(services.appUrl('accounts'));
    try {
      expect(await failure(() => app.query('CREATE TABLE sneaky (id int)'))).toMatch(/permission denied for schema public/);
      expect(await failure(() => app.query('DROP TABLE users'))).toMatch(/must be owner of table users/);
      expect(await failure(() => app.query('ALTER TABLE users ADD COLUMN x int'))).toMatch(/must be owner of table users/);
      expect(await failure(() => app.query(`DELETE FROM "_prisma_migrations"`))).toMatch(/permission denied for table _prisma_migrations/);
      // …while the data work the service needs is allowed.
      await app.query(`INSERT INTO users (email, name) VALUES ('pg@example.com', 'Pg')`);
      expect((await app.query('SELECT count(*)::int AS n FROM users')).rows).toEqual([{ n: 1 }]);
      expect((await app.query('SELECT count(*)::int AS n FROM "_prisma_migrations"')).rows).toEqual([{ n: 2 }]);
    } finally {
      await app.end();
    }
  });

  it('applies migrations with the migrator role: a second run is a no-op, the app role sees none pending', async () => {
    const db = await openDatabase({ service: 'accounts', kind: 'postgres', url: services.migratorUrl('accounts'), pool: { max: 1 } });
    try {
      expect(await migrate(db, migrationsOf('accounts'))).toMatchObject({ applied: [], alreadyApplied: ['20261125000000_init', '20261201000000_sign_in'], fresh: false });
    } finally {
      await db.close();
    }
    const asApp = await openDatabase({ service: 'accounts', kind: 'postgres', url: services.appUrl('accounts'), pool: { max: 1 } });
    try {
      expect(await pendingMigrations(asApp, migrationsOf('accounts'))).toEqual([]);
    } finally {
      await asApp.close();
    }
  });

  it('refuses a tampered migration with a clear message', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tampered-'));
    try {
      await cp(migrationsOf('accounts'), dir, { recursive: true });
      await writeFile(join(dir, '20261125000000_init', 'migration.sql'), '-- edited after the fact\n', { flag: 'a' });
      const db = await openDatabase({ service: 'accounts', kind: 'postgres', url: services.migratorUrl('accounts'), pool: { max: 1 } });
      try {
        await expect(migrate(db, dir)).rejects.toThrow(/accounts: migration 20261125000000_init was modified after it was applied/);
      } finally {
        await db.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('cannot migrate as the app role (no DDL): a new migration is refused and nothing is recorded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'as-app-'));
    try {
      await cp(migrationsOf('accounts'), dir, { recursive: true });
      await cp(join(dir, '20261125000000_init'), join(dir, '20261126000000_more'), { recursive: true });
      await writeFile(join(dir, '20261126000000_more', 'migration.sql'), 'ALTER TABLE "users" ADD COLUMN "nickname" TEXT;\n');
      const db = await openDatabase({ service: 'accounts', kind: 'postgres', url: services.appUrl('accounts'), pool: { max: 1 } });
      try {
        await expect(migrate(db, dir)).rejects.toThrow(/20261126000000_more failed and was rolled back: must be owner of table users/);
        expect(await pendingMigrations(db, dir)).toEqual(['20261126000000_more']);
      } finally {
        await db.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
