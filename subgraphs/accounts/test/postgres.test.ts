import { fileURLToPath } from 'node:url';
import { openDatabase, serviceNames, type Database } from '@commerce/db';
import { postgresAdminUrl, provisionTestServices, type ProvisionedTestServices } from '@commerce/db/testing';
import { seedDatabase } from '@commerce/service-kit';
import { errorCodes } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { createAccounts, DEVELOPMENT_PASSWORD, testAccountsConfig, type AccountsConfig } from '../src/server.ts';
import { serve, type Query } from './support.ts';

// PGlite is one connection, so it serialises everything: the races below are only real here, on a
// PostgreSQL server with a pool, as the app role (no DDL), in a far-off server time zone.
if (!postgresAdminUrl) console.warn('postgres.test.ts: TEST_POSTGRES_ADMIN_URL is not set; the PostgreSQL tests of accounts are skipped');

describe.skipIf(!postgresAdminUrl)('accounts on PostgreSQL', () => {
  let provisioned: ProvisionedTestServices;
  let database: Database;
  let client: PrismaClient;
  let config: AccountsConfig;
  let query: Query;
  let now = new Date();

  beforeAll(async () => {
    const migrations = fileURLToPath(new URL('../prisma/migrations/', import.meta.url));
    provisioned = await provisionTestServices(postgresAdminUrl!, [{ name: 'accounts', migrationsDir: migrations }]);
    // UTC+14: a timestamp compared in the session's zone instead of its own would be 14 hours off.
    const admin = await openDatabase({ service: 'admin', kind: 'postgres', url: postgresAdminUrl!, pool: { max: 1 } });
    try {
      await admin.withSession((s) => s.query(`ALTER DATABASE "${serviceNames(provisioned.prefix, 'accounts').database}" SET timezone TO 'Pacific/Kiritimati'`));
    } finally {
      await admin.close();
    }
    config = await testAccountsConfig({ now: () => now });
    const migrator = await openDatabase({ service: 'accounts', kind: 'postgres', url: provisioned.migratorUrl('accounts'), pool: { max: 1 } });
    try {
      await seedDatabase(createAccounts(config), migrator);
    } finally {
      await migrator.close();
    }
    database = await openDatabase({ service: 'accounts', kind: 'postgres', url: provisioned.appUrl('accounts'), pool: { max: 8 } });
    client = createAccounts(config).createClient(database.adapter);
    query = await serve(config, { client, database });
  });

  afterAll(async () => {
    await client?.$disconnect();
    await database?.close();
    await provisioned?.drop();
  });

  const SIGN_IN = `mutation($email: String!) { signIn(email: $email, password: "${DEVELOPMENT_PASSWORD}") { refreshToken user { id } } }`;
  const REFRESH = `mutation($token: String!) { refreshSession(refreshToken: $token) { refreshToken } }`;

  it('lets exactly one of eight concurrent refreshes of one token win, and the others end the session', async () => {
    const signedIn = await query(SIGN_IN, { email: 'user3@example.com' });
    expect(signedIn.errors).toBeUndefined();
    const results = await Promise.all(Array.from({ length: 8 }, () => query(REFRESH, { token: signedIn.data?.signIn.refreshToken })));
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.flatMap(errorCodes)).toEqual(Array(7).fill('UNAUTHENTICATED'));
    const session = await client.session.findFirstOrThrow({ where: { userId: 3 } });
    expect(session.revokedReason).toBe('reuse_detected');
  });

  it('expires refresh tokens on the application’s clock, whatever the server’s time zone', async () => {
    const start = new Date();
    now = start;
    const first = await query(SIGN_IN, { email: 'user4@example.com' });
    // An hour before expiry: still good.
    now = new Date(start.getTime() + (config.refreshTokenTtlSeconds - 3_600) * 1000);
    const second = await query(REFRESH, { token: first.data?.signIn.refreshToken });
    expect(second.errors).toBeUndefined();
    // An hour after the new token's expiry: refused, and not taken for a reuse.
    now = new Date(now.getTime() + (config.refreshTokenTtlSeconds + 3_600) * 1000);
    expect(errorCodes(await query(REFRESH, { token: second.data?.refreshSession.refreshToken }))).toEqual(['UNAUTHENTICATED']);
    expect((await client.session.findFirstOrThrow({ where: { userId: 4 } })).revokedAt).toBeNull();
    now = new Date();
  });

  it('gives one account and clean CONFLICTs for concurrent sign-ups with one email', async () => {
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        query(`mutation { signUp(input: { email: "pg-race@example.com", name: "Racer", password: "long enough password" }) { user { id } } }`),
      ),
    );
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.flatMap(errorCodes)).toEqual(Array(3).fill('CONFLICT'));
  });

  it('signs out as the app role', async () => {
    const { data } = await query(SIGN_IN, { email: 'user5@example.com' });
    const token = data?.signIn.refreshToken;
    expect((await query(`mutation($t: String!) { signOut(refreshToken: $t) { signedOut } }`, { t: token })).data).toEqual({ signOut: { signedOut: true } });
    expect(errorCodes(await query(REFRESH, { token }))).toEqual(['UNAUTHENTICATED']);
  });
});
