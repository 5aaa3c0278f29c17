import type { Database } from '@commerce/db';
import { postgresAdminUrl } from '@commerce/db/testing';
import { ADMIN, errorCodes, postgresSubgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfill } from '../src/events.ts';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { seedProduct } from '../src/seed.ts';
import { products } from '../src/server.ts';

// PGlite is one connection, so it serialises every transaction: whether concurrent changes of one
// product publish their events in revision order is only really tested here, on a PostgreSQL
// server with a pool, as the app role.
if (!postgresAdminUrl) console.warn('postgres.test.ts: TEST_POSTGRES_ADMIN_URL is not set; the PostgreSQL tests of products are skipped');

describe.skipIf(!postgresAdminUrl)('products on PostgreSQL', () => {
  let harness: SubgraphHarness<PrismaClient, Database>;
  let client: PrismaClient;

  beforeAll(async () => {
    harness = await postgresSubgraphHarness(products, postgresAdminUrl!, { pool: 8, viewer: ADMIN });
    client = harness.client;
  });

  afterAll(async () => {
    await harness?.close();
  });

  const changePrice = (id: number, price: number) =>
    harness.query(`mutation($id: ID!, $p: Int!) { updateProductPrice(id: $id, priceCents: $p) { product { id } } }`, {
      id: String(id),
      p: price,
    });

  async function events(aggregate?: string) {
    const rows = await client.outboxEvent.findMany({ where: aggregate ? { aggregate } : {}, orderBy: { seq: 'asc' } });
    return rows.map((row) => ({ aggregate: row.aggregate, type: row.type, ...(row.payload as { priceCents: number; previousPriceCents?: number; revision: number }) }));
  }

  it('queues concurrent price changes of one product: revisions distinct and increasing in outbox order, each seeing the price before it', async () => {
    const prices = Array.from({ length: 24 }, (_, i) => 5_000 + i);
    const results = await Promise.all(prices.map((price) => changePrice(9, price)));
    expect(results.flatMap(errorCodes)).toEqual([]);
    const published = await events('product:9');
    expect(published.map((e) => e.revision)).toEqual(Array.from({ length: 24 }, (_, i) => i + 2));
    expect(published.map((e) => e.previousPriceCents)).toEqual([seedProduct(9).priceCents, ...published.slice(0, -1).map((e) => e.priceCents)]);
    expect(await client.product.findUniqueOrThrow({ where: { id: 9 } })).toMatchObject({ priceCents: published.at(-1)?.priceCents, revision: 25 });
  });

  it('never puts an older revision after a newer one when a backfill races price changes', async () => {
    const changes = Array.from({ length: 40 }, (_, i) => changePrice(1 + (i % 10) * 20, 7_000 + i));
    const [published, ...results] = await Promise.all([backfill(client, 25), ...changes]);
    expect(results.flatMap(errorCodes)).toEqual([]);
    expect(published).toBe(await client.product.count());
    const byAggregate = new Map<string, number[]>();
    for (const event of await events()) byAggregate.set(event.aggregate, [...(byAggregate.get(event.aggregate) ?? []), event.revision]);
    for (const [aggregate, revisions] of byAggregate) {
      expect({ aggregate, revisions }).toEqual({ aggregate, revisions: [...revisions].sort((a, b) => a - b) });
    }
    // Every product's last event carries its current revision.
    const rows = await client.product.findMany({ select: { id: true, revision: true } });
    for (const row of rows) expect(byAggregate.get(`product:${row.id}`)?.at(-1)).toBe(row.revision);
  });
});
