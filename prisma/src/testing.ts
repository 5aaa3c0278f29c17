import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, openPGlite, type PGliteDatabase } from './database.ts';
import { migrate, readMigrations } from './migrate.ts';
import { deprovision, generatePassword, provision, serviceNames, urlFor } from './provision.ts';
import { isAlive } from './local-processes.ts';

export { freePort, isAlive } from './local-processes.ts';
export { CLUSTER_DIR_PREFIX, passwordClusterUnavailable, startPasswordCluster, sweepAbandonedClusters, type PasswordCluster } from './test-cluster.ts';

/**
 * A fresh in-memory PGlite database with the service's committed migrations applied.
 * Initialising PGlite and migrating takes ~2 s; cloning a dumped template takes ~0.3 s, so the
 * first caller on the machine builds the template and every later test file clones it.
 */
export async function freshTestDatabase(service: string, migrationsDir: string): Promise<PGliteDatabase> {
  const template = await templateFor(service, migrationsDir);
  return openPGlite({ service, kind: 'pglite', loadDataDir: template });
}

const templates = new Map<string, Promise<Blob>>();

function templateFor(service: string, migrationsDir: string): Promise<Blob> {
  let template = templates.get(migrationsDir);
  if (!template) {
    template = loadOrBuildTemplate(service, migrationsDir);
    templates.set(migrationsDir, template);
  }
  return template;
}

async function loadOrBuildTemplate(service: string, migrationsDir: string): Promise<Blob> {
  const migrations = await readMigrations(migrationsDir);
  const key = createHash('sha256')
    .update(JSON.stringify(migrations.map((m) => [m.name, m.checksum])))
    .digest('hex')
    .slice(0, 16);
  const dir = join(tmpdir(), 'commerce-pglite-templates');
  const file = join(dir, `${service}-${key}.tgz`);
  const cached = await readFile(file).catch(() => null);
  if (cached) return new Blob([cached]);

  const db = await openPGlite({ service, kind: 'pglite' });
  try {
    await migrate(db, migrationsDir);
    const dump = await db.pglite.dumpDataDir('gzip');
    const bytes = new Uint8Array(await dump.arrayBuffer());
    // Write then rename: parallel test workers never read a half-written template.
    await mkdir(dir, { recursive: true });
    const partial = `${file}.${process.pid}.partial`;
    await writeFile(partial, bytes);
    await rename(partial, file);
    return new Blob([bytes]);
  } finally {
    await db.close();
  }
}

/**
 * The PostgreSQL server tests may use, from TEST_POSTGRES_ADMIN_URL (a superuser URL on the
 * maintenance database). Unset → PostgreSQL tests are skipped, and say so.
 */
export const postgresAdminUrl: string | undefined = process.env.TEST_POSTGRES_ADMIN_URL || undefined;

export interface ProvisionedTestServices {
  prefix: string;
  /** The URL a service runs with (its app role). */
  appUrl(service: string): string;
  /** The URL migrations and seeds run with (its migrator role). */
  migratorUrl(service: string): string;
  /** Drops every database and role this provisioned. Safe to call twice. */
  drop(): Promise<void>;
}

/**
 * Provisions each service on the real server under a name unique to this run
 * (`t<pid>_<random>_<service>`), applies its migrations as its migrator role, and returns the URLs.
 * Callers drop them in afterAll, so they go even when tests fail.
 */
export async function provisionTestServices(
  adminUrl: string,
  services: readonly { name: string; migrationsDir: string }[],
): Promise<ProvisionedTestServices> {
  await sweepAbandoned(adminUrl);
  const prefix = `t${process.pid}_${randomBytes(3).toString('hex')}`;
  const names = services.map((s) => s.name);
  const passwords = new Map<string, string>();
  for (const name of names) {
    const roles = serviceNames(prefix, name);
    passwords.set(roles.appRole, generatePassword()).set(roles.migratorRole, generatePassword());
  }
  const url = (service: string, role: 'appRole' | 'migratorRole') => {
    const roles = serviceNames(prefix, service);
    return urlFor(adminUrl, { user: roles[role], password: passwords.get(roles[role])!, database: roles.database });
  };
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await deprovision(adminUrl, prefix, names);
  };
  try {
    await provision({ adminUrl, services: names, prefix, passwords, appConnectionLimit: 20 });
    for (const service of services) {
      const db = await openDatabase({ service: service.name, kind: 'postgres', url: url(service.name, 'migratorRole'), pool: { max: 1 } });
      try {
        await migrate(db, service.migrationsDir);
      } finally {
        await db.close();
      }
    }
  } catch (error) {
    await drop();
    throw error;
  }
  return { prefix, appUrl: (s) => url(s, 'appRole'), migratorUrl: (s) => url(s, 'migratorRole'), drop };
}

/**
 * afterAll drops a run's databases even when its tests fail; a run that was killed never gets
 * there. Its databases and roles carry its process id, so the next run drops every database and
 * role of each prefix whose process is gone (whichever services that run had).
 */
async function sweepAbandoned(adminUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ prefix: string }>(
      `SELECT DISTINCT substring(name from '^(t[0-9]+_[0-9a-f]{6})_') AS prefix
         FROM (SELECT datname AS name FROM pg_database UNION ALL SELECT rolname FROM pg_roles) names
        WHERE name ~ '^t[0-9]+_[0-9a-f]{6}_'`,
    );
    const dead = rows.map((row) => row.prefix).filter((prefix) => !isAlive(Number(/^t(\d+)_/.exec(prefix)![1])));
    for (const prefix of dead) {
      const like = `${prefix}\\_%`;
      const databases = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [like]);
      for (const { datname } of databases.rows) await admin.query(`DROP DATABASE IF EXISTS ${ident(datname)} WITH (FORCE)`);
      const roles = await admin.query<{ rolname: string }>(`SELECT rolname FROM pg_roles WHERE rolname LIKE $1`, [like]);
      for (const { rolname } of roles.rows) {
        // Privileges granted on other databases (the maintenance one) would block DROP ROLE.
        await admin.query(`DROP OWNED BY ${ident(rolname)}`);
        await admin.query(`DROP ROLE ${ident(rolname)}`);
      }
    }
  } finally {
    await admin.end();
  }
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
