import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { pgliteSqlClient, postgresSqlClient } from '@commerce/db';
import type { EventClient } from '../../src/events/index.ts';
import { isAlive } from '@commerce/db/testing';

const fixture = () => readFile(new URL('../fixtures/events.sql', import.meta.url), 'utf8');

export interface EventDatabase {
  client: EventClient;
  kind: 'pglite' | 'postgres';
  close(): Promise<void>;
}

/**
 * A real (in-memory PGlite) database with the event backbone's tables, seen through the platform's
 * raw client (what `Database.sql` gives a service). The kit's event code is tested against it
 * without any service's generated client.
 */
export async function eventDatabase(extraSql = ''): Promise<EventDatabase & { pglite: PGlite }> {
  const pglite = await PGlite.create({ loadDataDir: await template() });
  if (extraSql) await pglite.exec(extraSql);
  // The platform's own raw client, as a service's events run on it (Database.sql).
  const client: EventClient = pgliteSqlClient(pglite, new Set());
  return { client, kind: 'pglite', pglite, close: () => pglite.close() };
}

let cached: Promise<Blob> | undefined;

/**
 * A fresh PGlite takes seconds to initialise (far more on a busy machine); cloning a dump of one
 * with the event tables takes a fraction of that. The dump is kept in the temp directory, keyed by
 * the fixture, so test files after the first on a machine clone it at once.
 */
function template(): Promise<Blob> {
  cached ??= (async () => {
    const sql = await fixture();
    const key = createHash('sha256').update(sql).digest('hex').slice(0, 16);
    const dir = join(tmpdir(), 'commerce-pglite-templates');
    const file = join(dir, `kit-events-${key}.tar.gz`);
    const stored = await readFile(file).catch(() => null);
    if (stored) return new Blob([stored]);
    const pglite = await PGlite.create();
    try {
      await pglite.exec(sql);
      const bytes = new Uint8Array(await (await pglite.dumpDataDir('gzip')).arrayBuffer());
      // Write then rename: parallel test workers never read a half-written template.
      await mkdir(dir, { recursive: true });
      const partial = `${file}.${process.pid}.partial`;
      await writeFile(partial, bytes);
      await rename(partial, file);
      return new Blob([bytes]);
    } finally {
      await pglite.close();
    }
  })();
  cached.catch(() => (cached = undefined));
  return cached;
}

/**
 * A throwaway database on a real PostgreSQL server (`adminUrl`: a superuser on the maintenance
 * database) with the event tables, and as many independent clients on it as a test wants: each
 * one a pg Pool behind the platform's raw client (`Database.sql` on PostgreSQL). `close` drops
 * the database.
 */
export async function postgresEventDatabase(adminUrl: string, extraSql = '') {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const name = `tev${process.pid}_${randomBytes(3).toString('hex')}`;
  try {
    // Databases left by runs that were killed before their afterAll (their process is gone).
    const stale = await admin.query<{ datname: string; pid: string }>(`SELECT datname, substring(datname from '^tev([0-9]+)_') AS pid FROM pg_database WHERE datname ~ '^tev[0-9]+_[0-9a-f]{6}$'`);
    for (const row of stale.rows) if (!isAlive(Number(row.pid))) await admin.query(`DROP DATABASE IF EXISTS "${row.datname}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pools: pg.Pool[] = [];
  const connect = (max = 5): EventDatabase & { pool: pg.Pool } => {
    const pool = new pg.Pool({ connectionString: url.toString(), max, connectionTimeoutMillis: 5_000 });
    // An idle client whose connection is cut (a test that drops the database) must not crash the run.
    pool.on('error', () => {});
    pools.push(pool);
    const client: EventClient = postgresSqlClient(pool, new Set());
    return {
      client,
      pool,
      kind: 'postgres',
      async close() {
        pools.splice(pools.indexOf(pool), 1);
        await pool.end();
      },
    };
  };
  const first = connect();
  await first.pool.query(await fixture());
  if (extraSql) await first.pool.query(extraSql);
  return {
    ...first,
    name,
    /** Another process's view of the same database (its own pool). */
    connect,
    async close() {
      await Promise.all(pools.splice(0).map((pool) => pool.end()));
      const dropper = new pg.Client({ connectionString: adminUrl });
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}
