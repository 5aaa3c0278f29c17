import { fileURLToPath } from 'node:url';
import { databaseOptionsFromEnv } from '@commerce/db';
import { describe, expect, it } from 'vitest';
import { loadSubgraphEnv } from '../src/index.ts';

/**
 * The README's Configuration table, the subgraphs' rows: what a subgraph runs with when a variable
 * is unset. kit.test.ts covers the rules (prefixes, empty values, every problem at once); this file
 * holds the defaults to the table.
 */
describe('a subgraph’s defaults, as the README’s Configuration table gives them', () => {
  it('embedded PGlite, port, listen address, log level, pool, representations per _entities, no Redis or NATS', () => {
    const env = loadSubgraphEnv('INVENTORY', 4003, { INVENTORY_SIGNING_SECRET: 's'.repeat(32) });
    expect(env).toEqual({
      nodeEnv: 'development',
      host: '127.0.0.1',
      logLevel: 'info',
      dataDir: undefined,
      redisUrl: undefined,
      natsUrl: undefined,
      eventsSecret: undefined,
      port: 4003,
      signingSecret: 's'.repeat(32),
      maxRepresentations: 10_000,
      databaseUrl: undefined,
      // Prepared statements per connection: unset, so the database platform's default (none) applies.
      pool: { max: 10, connectTimeoutMs: 5_000, idleTimeoutMs: 10_000 },
    });
    // No database URL: embedded PGlite in .data/<service>/ at the repository root.
    expect(databaseOptionsFromEnv('inventory', env)).toEqual({
      service: 'inventory',
      kind: 'pglite',
      dataDir: `${fileURLToPath(new URL('../../../.data/', import.meta.url)).replace(/\/$/, '')}/inventory`,
    });
  });

  it('puts the embedded database under DATA_DIR, and uses PostgreSQL with its pool once the URL is set', () => {
    const secret = { INVENTORY_SIGNING_SECRET: 's'.repeat(32) };
    expect(databaseOptionsFromEnv('inventory', loadSubgraphEnv('INVENTORY', 4003, { ...secret, DATA_DIR: '/srv/data/' }))).toEqual({
      service: 'inventory',
      kind: 'pglite',
      dataDir: '/srv/data/inventory',
    });
    const url = 'postgres://commerce_inventory_app:pw@db:5432/commerce_inventory';
    expect(databaseOptionsFromEnv('inventory', loadSubgraphEnv('INVENTORY', 4003, { ...secret, INVENTORY_DATABASE_URL: url }))).toEqual({
      service: 'inventory',
      kind: 'postgres',
      url,
      pool: { max: 10, connectTimeoutMs: 5_000, idleTimeoutMs: 10_000 },
    });
  });

  it('reads each of those from its variable', () => {
    const env = loadSubgraphEnv('INVENTORY', 4003, {
      INVENTORY_SIGNING_SECRET: 's'.repeat(32),
      INVENTORY_PORT: '8080',
      INVENTORY_MAX_REPRESENTATIONS: '500',
      INVENTORY_DATABASE_POOL_MAX: '4',
      INVENTORY_DATABASE_CONNECT_TIMEOUT_MS: '2000',
      INVENTORY_DATABASE_IDLE_TIMEOUT_MS: '0',
      INVENTORY_DATABASE_PREPARED_STATEMENTS: '0',
      DATA_DIR: '/var/lib/commerce',
      HOST: '0.0.0.0',
    });
    expect(env).toMatchObject({
      port: 8080,
      maxRepresentations: 500,
      pool: { max: 4, connectTimeoutMs: 2_000, idleTimeoutMs: 0, preparedStatements: 0 },
      dataDir: '/var/lib/commerce',
      host: '0.0.0.0',
    });
  });

  it('refuses a prepared-statement count that is not a whole number from 0 to 10000, naming the variable', () => {
    for (const value of ['-1', '2.5', 'many', '10001']) {
      expect(() => loadSubgraphEnv('INVENTORY', 4003, { INVENTORY_SIGNING_SECRET: 's'.repeat(32), INVENTORY_DATABASE_PREPARED_STATEMENTS: value })).toThrow(
        /INVENTORY_DATABASE_PREPARED_STATEMENTS/,
      );
    }
  });
});
