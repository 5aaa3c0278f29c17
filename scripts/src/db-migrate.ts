// npm run db:migrate [-- --status | --seed]
// Applies every subgraph's committed migrations to its own database and prints per-service status.
// Where: <SERVICE>_MIGRATOR_URL (the migrator role, production), else <SERVICE>_DATABASE_URL, else
// the embedded PGlite database in DATA_DIR (default .data/<service>). --status only reports.
// --seed also loads the deterministic seed data into databases this run created from nothing.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { databaseOptionsFromEnv, migrate, openDatabase, pendingMigrations, readMigrations } from '@commerce/db';
import { seedDatabase, type PrismaLikeClient, type SeedableSubgraph } from '@commerce/service-kit';
import { readSubgraphs, REPO_ROOT } from './composition.ts';

let args;
try {
  args = parseArgs({ options: { status: { type: 'boolean', default: false }, seed: { type: 'boolean', default: false } } }).values;
} catch (error) {
  console.error(`${(error as Error).message}\nusage: npm run db:migrate [-- --status | --seed]`);
  process.exit(2);
}

let failed = false;
for (const { name } of await readSubgraphs()) {
  const prefix = name.toUpperCase();
  const migrationsDir = fileURLToPath(new URL(`subgraphs/${name}/prisma/migrations/`, `file://${REPO_ROOT}/`));
  const url = process.env[`${prefix}_MIGRATOR_URL`] || process.env[`${prefix}_DATABASE_URL`] || undefined;
  const options = databaseOptionsFromEnv(name, { databaseUrl: url, dataDir: process.env.DATA_DIR || undefined, pool: { max: 1 } });
  const where = options.kind === 'postgres' ? new URL(url!).host + new URL(url!).pathname : `PGlite ${options.dataDir}`;
  try {
    const db = await openDatabase(options);
    try {
      const total = (await readMigrations(migrationsDir)).length;
      if (args.status) {
        const pending = await pendingMigrations(db, migrationsDir);
        console.log(`${name} (${where}): ${pending.length === 0 ? `up to date (${total} migrations)` : `${pending.length} pending: ${pending.join(', ')}`}`);
      } else {
        const report = await migrate(db, migrationsDir);
        console.log(
          `${name} (${where}): ${report.applied.length === 0 ? `up to date (${total} migrations)` : `applied ${report.applied.join(', ')}`}`,
        );
        if (args.seed && report.fresh) {
          await seedService(name, db);
          console.log(`${name} (${where}): seeded`);
        }
      }
    } finally {
      await db.close();
    }
  } catch (error) {
    failed = true;
    console.error(`${name} (${where}): ${(error as Error).message}`);
  }
}
process.exit(failed ? 1 : 0);

/** Seeds through the service's own definition (its client and seed), never another service's. */
async function seedService(name: string, db: Awaited<ReturnType<typeof openDatabase>>): Promise<void> {
  const module: Record<string, SeedableSubgraph<PrismaLikeClient>> = await import(`@commerce/subgraph-${name}`);
  const definition = module[name];
  if (!definition) throw new Error(`@commerce/subgraph-${name} exports no definition named ${name}`);
  await seedDatabase(definition, db);
}
