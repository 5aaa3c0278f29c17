// Provisioning, roles, isolation and migrations on the machine's PostgreSQL server, through
// TEST_POSTGRES_ADMIN_URL (skipped, and reported as skipped, without it). The same suite runs on a
// throw-away cluster with password authentication in postgres-passwords.test.ts.
import { postgresAdminUrl } from '../src/testing.ts';
import { definePostgresPlatformSuite } from './support/postgres-platform-suite.ts';

definePostgresPlatformSuite(
  'PostgreSQL: provisioning, roles and migrations (TEST_POSTGRES_ADMIN_URL)',
  // The machine's server may trust loopback connections: passwords are checked on the other cluster.
  { start: async () => ({ adminUrl: postgresAdminUrl! }), checksPasswords: false },
  { skip: !postgresAdminUrl },
);
