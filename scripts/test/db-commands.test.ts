import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deprovision } from '@commerce/db';
import { postgresAdminUrl } from '@commerce/db/testing';
import { afterAll, describe, expect, it } from 'vitest';

const PROVISION = fileURLToPath(new URL('../src/db-provision.ts', import.meta.url));
const MIGRATE = fileURLToPath(new URL('../src/db-migrate.ts', import.meta.url));
const SERVICES = ['accounts', 'products', 'inventory', 'reviews', 'orders'];

/** A service's committed migrations, in order (what db:migrate applies), read from its folder. */
function migrationsOf(service: string): string[] {
  const dir = fileURLToPath(new URL(`../../subgraphs/${service}/prisma/migrations/`, import.meta.url));
  return readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
}

function run(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('db:provision usage', () => {
  it('exits 2 without an admin URL', async () => {
    const result = await run(PROVISION, [], { DATABASE_ADMIN_URL: '' });
    expect(result.code).toBe(2);
    expect(result.err).toContain('--admin-url');
  });

  it('exits 2 on an unknown option or a non-PostgreSQL URL', async () => {
    expect((await run(PROVISION, ['--frob'])).code).toBe(2);
    expect((await run(PROVISION, ['--admin-url', 'mysql://root@localhost/x'])).code).toBe(2);
  });
});

describe('db:migrate on embedded databases', () => {
  let dataDir: string;
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('migrates every service, then reports them up to date', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'db-migrate-'));
    const env = { DATA_DIR: dataDir, ...Object.fromEntries(SERVICES.flatMap((s) => [[`${s.toUpperCase()}_MIGRATOR_URL`, ''], [`${s.toUpperCase()}_DATABASE_URL`, '']])) };
    const first = await run(MIGRATE, [], env);
    expect(first.code).toBe(0);
    const of = (service: string) => migrationsOf(service);
    for (const service of SERVICES) expect(first.out).toMatch(new RegExp(`^${service} \\(PGlite .*\\): applied ${of(service).join(', ')}$`, 'm'));
    const status = await run(MIGRATE, ['--status'], env);
    expect(status.code).toBe(0);
    for (const service of SERVICES) expect(status.out).toMatch(new RegExp(`^${service} \\(PGlite .*\\): up to date \\(${of(service).length} migrations\\)$`, 'm'));
    // Five embedded databases created and migrated in a child process: slow on a busy machine.
  }, 120_000);
});

describe.skipIf(!postgresAdminUrl)('db:provision and db:migrate on PostgreSQL (TEST_POSTGRES_ADMIN_URL)', () => {
  const prefix = `t${process.pid}_c0ffee`;
  afterAll(() => deprovision(postgresAdminUrl!, prefix, SERVICES));

  it('provisions, says nothing changed the second time, and the printed URLs migrate and seed', async () => {
    const first = await run(PROVISION, ['--admin-url', postgresAdminUrl!, '--prefix', prefix, '--app-connection-limit', '5']);
    expect(first.code).toBe(0);
    expect(first.out).toContain(`accounts: created database ${prefix}_accounts`);
    expect(first.out).toContain('Generated passwords, shown this once');
    const urls = Object.fromEntries(
      [...first.out.matchAll(/^([A-Z]+_(?:DATABASE|MIGRATOR)_URL)=(\S+)$/gm)].map(([, name, url]) => [name!, url!]),
    );
    expect(Object.keys(urls)).toHaveLength(10);

    const again = await run(PROVISION, ['--admin-url', postgresAdminUrl!, '--prefix', prefix, '--app-connection-limit', '5']);
    expect(again.code).toBe(0);
    expect(again.out).toContain('Nothing changed: every database and role was already as provisioned.');
    expect(again.out).not.toContain('Generated passwords');

    const migrated = await run(MIGRATE, ['--seed'], urls);
    expect(migrated.code).toBe(0);
    for (const service of SERVICES) {
      expect(migrated.out).toContain(`${service} (127.0.0.1:5432/${prefix}_${service}): applied ${migrationsOf(service).join(', ')}`);
      expect(migrated.out).toContain(`${service} (127.0.0.1:5432/${prefix}_${service}): seeded`);
    }
    const status = await run(MIGRATE, ['--status'], urls);
    expect(status.out).toContain(`orders (127.0.0.1:5432/${prefix}_orders): up to date (${migrationsOf('orders').length} migrations)`);
  });
});
