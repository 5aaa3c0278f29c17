import { fileURLToPath } from 'node:url';
import type { OpenOptions, PoolOptions } from './database.ts';

/** `.data/` at the repository root: one PGlite data directory per service. */
const DEFAULT_DATA_ROOT = fileURLToPath(new URL('../../.data/', import.meta.url));

/**
 * Where a service's database lives: PostgreSQL when `<SERVICE>_DATABASE_URL` is set,
 * otherwise embedded PGlite in `<DATA_DIR or .data>/<service>/`.
 * The values come from the service's validated env; nothing here reads process.env.
 */
export function databaseOptionsFromEnv(
  service: string,
  env: { databaseUrl?: string | undefined; dataDir?: string | undefined; pool?: Partial<PoolOptions> | undefined },
): OpenOptions {
  if (env.databaseUrl) return { service, kind: 'postgres', url: env.databaseUrl, ...(env.pool ? { pool: env.pool } : {}) };
  const root = env.dataDir ?? DEFAULT_DATA_ROOT;
  return { service, kind: 'pglite', dataDir: `${root.replace(/\/$/, '')}/${service}` };
}
