import { randomUUID } from 'node:crypto';
import type { Database } from '@commerce/db';
import { postgresAdminUrl } from '@commerce/db/testing';
import { createReceiver, type Receipt } from '@commerce/service-kit';
import { ADMIN, errorCodes, postgresSubgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { seedStock } from '../src/seed.ts';
import { inventory } from '../src/server.ts';

// PGlite is one connection and runs transactions one after another: whether reservations stay
// all-or-nothing, never oversell and never deadlock when they really run at once is only tested
// here, on a PostgreSQL server with a pool, as the app role.
if (!postgresAdminUrl) console.warn('postgres.test.ts: TEST_POSTGRES_ADMIN_URL is not set; the PostgreSQL tests of inventory are skipped');

describe.skipIf(!postgresAdminUrl)('inventory’s reservations on PostgreSQL', () => {
  let harness: SubgraphHarness<PrismaClient, Database>;
  let client: PrismaClient;
  let receive: ReturnType<typeof createReceiver>;
  /** Errors of attempts the receiver asked to retry (a transport would deliver those again). */
  const retried: string[] = [];
  /**
   * The only acceptable reason to retry: waiting too long for a pooled connection. A deadlock (its
   * message may even be empty once through the driver), a serialization failure or a constraint
   * violation would each mean the locking scheme is wrong.
   */
  const unexpectedRetries = () => retried.filter((error) => !/timeout exceeded when trying to connect/.test(error));

  beforeAll(async () => {
    harness = await postgresSubgraphHarness(inventory, postgresAdminUrl!, { pool: 10, viewer: ADMIN });
    client = harness.client;
    receive = createReceiver(harness.database.sql, inventory.eventHandlers!);
  });

  afterAll(async () => {
    await harness?.close();
  });

  let sequence = 0;
  const envelope = (source: string, type: string, aggregate: string, payload: unknown) => ({
    id: randomUUID(),
    source,
    type,
    version: 1,
    aggregate,
    sequence: ++sequence,
    occurredAt: new Date().toISOString(),
    payload,
  });
  const orderPlaced = (orderId: number, items: { productId: number; quantity: number }[]) => envelope('orders', 'OrderPlaced', `order:${orderId}`, { orderId, userId: 9, items });
  const orderCancelled = (orderId: number) => envelope('orders', 'OrderCancelled', `order:${orderId}`, { orderId, userId: 9 });

  async function deliver(event: ReturnType<typeof envelope>): Promise<Receipt> {
    for (let attempt = 1; ; attempt++) {
      const receipt = await receive(event, { attempt, maxAttempts: 50 });
      if (receipt.outcome !== 'retry') return receipt;
      retried.push(receipt.error);
    }
  }
  const restock = (productId: number, quantity: number) =>
    harness.query(`mutation($id: ID!, $q: Int!) { restock(productId: $id, quantity: $q) { product { stock } } }`, {
      id: String(productId),
      q: quantity,
    });
  const stockOf = async (productId: number) => (await client.inventoryItem.findUnique({ where: { productId } }))?.stock ?? 0;
  const unbalanced = () =>
    client.$queryRawUnsafe<unknown[]>(
      `SELECT i.product_id, i.stock, COALESCE(SUM(m.delta), 0)::int AS ledger
         FROM inventory_items i LEFT JOIN stock_movements m ON m.product_id = i.product_id
        GROUP BY i.product_id, i.stock HAVING i.stock <> COALESCE(SUM(m.delta), 0) OR i.stock < 0`,
    );

  it('reserves exactly 10 of 50 concurrent one-unit orders for a stock of 10', async () => {
    expect(await deliver(envelope('products', 'ProductCreated', 'product:5000', { productId: 5000, sku: 'SKU-5000', name: 'Scarce', priceCents: 100, revision: 1 }))).toEqual({
      outcome: 'handled',
    });
    expect(errorCodes(await restock(5000, 10))).toEqual([]);
    const orderIds = Array.from({ length: 50 }, (_, i) => 1000 + i);
    const receipts = await Promise.all(orderIds.map((orderId) => deliver(orderPlaced(orderId, [{ productId: 5000, quantity: 1 }]))));
    expect(receipts).toEqual(Array(50).fill({ outcome: 'handled' }));
    expect(await stockOf(5000)).toBe(0);
    const outcomes = await client.orderDecision.groupBy({ by: ['outcome'], where: { orderId: { in: orderIds } }, _count: true, orderBy: { outcome: 'asc' } });
    expect(outcomes.map((o) => [o.outcome, o._count])).toEqual([
      ['RESERVED', 10],
      ['REJECTED', 40],
    ]);
    expect(await client.reservation.count({ where: { productId: 5000 } })).toBe(10);
    expect(await unbalanced()).toEqual([]);
    expect(unexpectedRetries()).toEqual([]);
  });

  it('stays all-or-nothing and deadlock-free with multi-product orders, cancels and restocks all at once', async () => {
    const products = [21, 22, 23, 24, 25];
    const before = new Map(await Promise.all(products.map(async (id) => [id, await stockOf(id)] as const)));
    expect([...before.values()]).toEqual(products.map(seedStock));
    // Orders name their products in scrambled orders; inventory must lock them in one order anyway.
    const orders = Array.from({ length: 80 }, (_, i) => {
      const picked = products.filter((_, p) => (i + p) % 3 !== 0);
      const items = (i % 2 === 0 ? picked : [...picked].reverse()).map((productId, k) => ({ productId, quantity: 1 + ((i + k) % 4) }));
      return { orderId: 3000 + i, items };
    });
    const restocks = products.flatMap((productId) => [restock(productId, 3), restock(productId, 5)]);
    const placing = orders.map((order) => deliver(orderPlaced(order.orderId, order.items)));
    // Cancels of the first 20 orders race their own placement; the transport would never deliver a
    // cancel first, but inventory must stay consistent either way (a tombstone, then nothing).
    const cancelling = orders.slice(0, 20).map((order) => deliver(orderCancelled(order.orderId)));
    const [restocked, placed, cancelled] = await Promise.all([Promise.all(restocks), Promise.all(placing), Promise.all(cancelling)]);
    expect(restocked.flatMap(errorCodes)).toEqual([]);
    expect([...placed, ...cancelled].filter((receipt) => receipt.outcome !== 'handled')).toEqual([]);
    expect(unexpectedRetries()).toEqual([]);

    const decisions = new Map((await client.orderDecision.findMany({ where: { orderId: { gte: 3000, lt: 3080 } } })).map((d) => [d.orderId, d.outcome]));
    const reservations = await client.reservation.findMany({ where: { orderId: { gte: 3000, lt: 3080 } } });
    for (const order of orders) {
      const held = reservations.filter((r) => r.orderId === order.orderId);
      const outcome = decisions.get(order.orderId);
      // Never half-reserved: a reserved (or reserved-then-released) order holds every item, exactly.
      if (outcome === 'RESERVED' || (outcome === 'RELEASED' && held.length > 0)) {
        expect(held.map((r) => [r.productId, r.quantity]).sort()).toEqual(order.items.map((item) => [item.productId, item.quantity]).sort());
      } else {
        expect(held).toEqual([]);
      }
      // A cancelled order ends RELEASED (or REJECTED: a cancel changes nothing after a rejection); the others are decided.
      expect(order.orderId < 3020 ? ['RELEASED', 'REJECTED'] : ['RESERVED', 'REJECTED']).toContain(outcome);
      expect(held.every((r) => (r.releasedAt !== null) === (outcome === 'RELEASED'))).toBe(true);
    }
    expect(decisions.size).toBe(80);
    for (const productId of products) {
      const stillHeld = reservations.filter((r) => r.productId === productId && r.releasedAt === null).reduce((sum, r) => sum + r.quantity, 0);
      expect({ productId, total: (await stockOf(productId)) + stillHeld }).toEqual({ productId, total: before.get(productId)! + 8 });
    }
    expect(await unbalanced()).toEqual([]);
  });
});
