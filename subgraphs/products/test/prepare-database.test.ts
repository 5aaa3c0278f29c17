import { openDatabase, type Database } from '@commerce/db';
import { createLogger, prepareDatabase } from '@commerce/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { products } from '../src/server.ts';

/**
 * What a service does with an embedded database when it starts (README: created, migrated and
 * seeded on first run, kept across restarts; design notes: on PGlite a service migrates itself and
 * seeds a freshly created database). Run through the kit's prepareDatabase, as runSubgraph calls
 * it, on a fresh in-memory PGlite with products' own migrations and seed.
 */
let database: Database;

beforeAll(async () => {
  database = await openDatabase({ service: 'products', kind: 'pglite' });
});
afterAll(() => database?.close());

async function count(sql: string): Promise<number> {
  const client = products.createClient(database.adapter);
  try {
    const [row] = await client.$queryRawUnsafe<{ n: bigint }[]>(sql);
    return Number(row!.n);
  } finally {
    await client.$disconnect();
  }
}

describe('starting products on an embedded database', () => {
  it('migrates and seeds a fresh one', async () => {
    await prepareDatabase(products, database, createLogger('products', 'silent'));
    expect(await count('SELECT count(*) AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL')).toBeGreaterThan(0);
    expect(await count('SELECT count(*) AS n FROM products')).toBe(200);
  });

  it('leaves one that is up to date as it is: no migration again, no second seed', async () => {
    const migrations = await count('SELECT count(*) AS n FROM _prisma_migrations');
    const client = products.createClient(database.adapter);
    try {
      await client.product.create({ data: { sku: 'KEPT-1', name: 'Kept', description: '', priceCents: 100, weightGrams: 10, category: 'HOME' } });
    } finally {
      await client.$disconnect();
    }
    await prepareDatabase(products, database, createLogger('products', 'silent'));
    expect(await count('SELECT count(*) AS n FROM _prisma_migrations')).toBe(migrations);
    expect(await count('SELECT count(*) AS n FROM products')).toBe(201);
  });
});
