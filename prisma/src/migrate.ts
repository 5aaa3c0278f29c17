import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database, SqlSession } from './database.ts';

/**
 * Applies a service's committed migrations (Prisma's folder format) and records them in
 * `_prisma_migrations` exactly as `prisma migrate deploy` does, so `prisma migrate status`
 * agrees with us on a machine that has Prisma's schema engine (which this one cannot download).
 *
 * One difference, on purpose: each migration runs in a transaction together with its
 * bookkeeping row, so a failure leaves nothing half-applied. A script that cannot run inside
 * a transaction (CREATE INDEX CONCURRENTLY …) opts out with a `-- migrator:no-transaction` line.
 */

/** Prisma's own advisory lock key, so we never race a concurrent `prisma migrate deploy`. */
const PRISMA_ADVISORY_LOCK = 72707369;
const NO_TRANSACTION_MARKER = /^--\s*migrator:no-transaction\s*$/m;

// The table exactly as Prisma's schema engine creates it for PostgreSQL.
export const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
);`;

export interface LocalMigration {
  name: string;
  script: string;
  checksum: string;
}

export interface MigrationReport {
  service: string;
  applied: string[];
  alreadyApplied: string[];
  /** True when this run created the schema from nothing (the caller may seed). */
  fresh: boolean;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Prisma stores the SHA-256 of the script as written (hex). */
export function checksumOf(script: string): string {
  return createHash('sha256').update(script).digest('hex');
}

/** Prisma accepts a checksum computed with either line ending, because git rewrites them. */
function matchesChecksum(script: string, checksum: string): boolean {
  const variants = [script, script.replace(/\r\n/g, '\n'), script.replace(/(?<!\r)\n/g, '\r\n')];
  return variants.some((variant) => checksumOf(variant) === checksum);
}

export async function readMigrations(migrationsDir: string): Promise<LocalMigration[]> {
  const lock = await readFile(join(migrationsDir, 'migration_lock.toml'), 'utf8').catch(() => {
    throw new MigrationError(`${migrationsDir}: missing migration_lock.toml (is this a Prisma migrations folder?)`);
  });
  const provider = /provider\s*=\s*"([^"]+)"/.exec(lock)?.[1];
  if (provider !== 'postgresql') {
    throw new MigrationError(`${migrationsDir}/migration_lock.toml: provider is "${provider}", expected "postgresql"`);
  }
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const script = await readFile(join(migrationsDir, name, 'migration.sql'), 'utf8');
      return { name, script, checksum: checksumOf(script) };
    }),
  );
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
}

export async function migrate(db: Database, migrationsDir: string): Promise<MigrationReport> {
  const local = await readMigrations(migrationsDir);
  return db.withSession(async (session) => {
    await session.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK]);
    try {
      return await applyPending(db.service, session, local);
    } finally {
      await session.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK]);
    }
  });
}

async function applyPending(service: string, session: SqlSession, local: LocalMigration[]): Promise<MigrationReport> {
  // Create only when missing: CREATE … IF NOT EXISTS still needs CREATE on the schema, which a
  // role without DDL rights (rightly) lacks even when provisioning already made the table.
  if (!(await hasMigrationsTable(session))) {
    await session.exec(CREATE_MIGRATIONS_TABLE).catch((error: Error) => {
      throw new MigrationError(`${service}: cannot create _prisma_migrations (${error.message}). Migrate with the service's migrator role.`);
    });
  }
  const rows = await session.query<AppliedRow>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at, logs
       FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
  );
  const live = rows.filter((row) => row.rolled_back_at === null);

  const failed = live.find((row) => row.finished_at === null);
  if (failed) {
    throw new MigrationError(
      `${service}: migration ${failed.migration_name} started but did not finish. ` +
        `Resolve it (prisma migrate resolve) before applying more.${failed.logs ? `\n${failed.logs}` : ''}`,
    );
  }

  const appliedByName = new Map(live.map((row) => [row.migration_name, row]));
  for (const migration of local) {
    const row = appliedByName.get(migration.name);
    if (row && !matchesChecksum(migration.script, row.checksum)) {
      throw new MigrationError(
        `${service}: migration ${migration.name} was modified after it was applied ` +
          `(recorded checksum ${row.checksum}, file now ${migration.checksum}). ` +
          `Applied migrations are immutable: restore the file and add a new migration instead.`,
      );
    }
  }
  const unknown = [...appliedByName.keys()].filter((name) => !local.some((m) => m.name === name));
  if (unknown.length > 0) {
    throw new MigrationError(
      `${service}: the database has migrations this code does not know (${unknown.join(', ')}). ` +
        `Is an older build running against a newer database?`,
    );
  }

  const report: MigrationReport = { service, applied: [], alreadyApplied: [], fresh: appliedByName.size === 0 };
  for (const migration of local) {
    if (appliedByName.has(migration.name)) {
      report.alreadyApplied.push(migration.name);
      continue;
    }
    await applyOne(service, session, migration);
    report.applied.push(migration.name);
  }
  return report;
}

async function applyOne(service: string, session: SqlSession, migration: LocalMigration): Promise<void> {
  const inTransaction = !NO_TRANSACTION_MARKER.test(migration.script);
  const startedAt = new Date();
  if (inTransaction) await session.exec('BEGIN');
  try {
    await session.exec(migration.script);
    await session.query(
      `INSERT INTO "_prisma_migrations"
         (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, $4, now(), 1)`,
      [randomUUID(), migration.checksum, migration.name, startedAt],
    );
    if (inTransaction) await session.exec('COMMIT');
  } catch (error) {
    if (inTransaction) await session.exec('ROLLBACK').catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`${service}: migration ${migration.name} failed and was rolled back: ${reason}`);
  }
}

/** Names of committed migrations the database has not applied yet (read-only). */
export async function pendingMigrations(db: Database, migrationsDir: string): Promise<string[]> {
  const local = await readMigrations(migrationsDir);
  const applied = await db.withSession(async (session) => {
    if (!(await hasMigrationsTable(session))) return new Set<string>();
    const rows = await session.query<{ migration_name: string }>(
      `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    return new Set(rows.map((row) => row.migration_name));
  });
  return local.filter((migration) => !applied.has(migration.name)).map((migration) => migration.name);
}

async function hasMigrationsTable(session: SqlSession): Promise<boolean> {
  const [table] = await session.query<{ exists: string | null }>(`SELECT to_regclass('"_prisma_migrations"')::text AS exists`);
  return Boolean(table?.exists);
}
