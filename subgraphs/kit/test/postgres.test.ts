import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openDatabase } from '@commerce/db';
import { postgresAdminUrl, provisionTestServices, type ProvisionedTestServices } from '@commerce/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createLogger, prepareDatabase, type SubgraphDefinition } from '../src/index.ts';

const accountsMigrations = fileURLToPath(new URL('../../accounts/prisma/migrations/', import.meta.url));

describe.skipIf(!postgresAdminUrl)('a service on PostgreSQL (TEST_POSTGRES_ADMIN_URL)', () => {
  let services: ProvisionedTestServices;
  let newer: string;

  beforeAll(async () => {
    services = await provisionTestServices(postgresAdminUrl!, [{ name: 'accounts', migrationsDir: accountsMigrations }]);
    // The code is one migration ahead of the database: a deploy whose migrations did not run.
    newer = await mkdtemp(join(tmpdir(), 'newer-'));
    await cp(accountsMigrations, newer, { recursive: true });
    await cp(join(newer, '20261125000000_init'), join(newer, '20261201000000_nickname'), { recursive: true });
    await writeFile(join(newer, '20261201000000_nickname', 'migration.sql'), 'ALTER TABLE "users" ADD COLUMN "nickname" TEXT;\n');
  });
  afterAll(async () => {
    await services?.drop();
    if (newer) await rm(newer, { recursive: true, force: true });
  });

  const definition = (migrations: URL) =>
    ({ name: 'accounts', migrations, seed: async () => {} }) as unknown as SubgraphDefinition<never, never>;

  it('starts on an up-to-date database without touching it', async () => {
    const db = await openDatabase({ service: 'accounts', kind: 'postgres', url: services.appUrl('accounts'), pool: { max: 1 } });
    try {
      await expect(prepareDatabase(definition(pathToFileURL(`${accountsMigrations}/`)), db, createLogger('t', 'silent'))).resolves.toBeUndefined();
    } finally {
      await db.close();
    }
  });

  it('refuses to start with pending migrations, naming them and the command that applies them', async () => {
    const db = await openDatabase({ service: 'accounts', kind: 'postgres', url: services.appUrl('accounts'), pool: { max: 1 } });
    try {
      const start = prepareDatabase(definition(pathToFileURL(`${newer}/`)), db, createLogger('t', 'silent'));
      await expect(start).rejects.toBeInstanceOf(ConfigError);
      await expect(start).rejects.toThrow(/1 pending migration\(s\) \(20261201000000_nickname\)\. Apply them with `npm run db:migrate`/);
    } finally {
      await db.close();
    }
  });
});
