import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPGlite, type PGliteDatabase } from './database.ts';
import { migrate, readMigrations } from './migrate.ts';

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
