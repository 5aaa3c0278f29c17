import { randomUUID } from 'node:crypto';
import { createReceiver, type Receipt } from '@commerce/service-kit';
import { ADMIN, errorCodes, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { seedStock } from '../src/seed.ts';
import { inventory } from '../src/server.ts';
import { snapshot } from '../src/snapshot.ts';

/**
 * inventory's side of the order flow on its own database: orders' and products' events driven
 * through the kit's real receiver (inbox included), the outbox read back for what inventory
 * answered. After every test, every product's stock must equal the sum of its ledger.
 */
let harness: SubgraphHarness<PrismaClient>;
let receive: ReturnType<typeof createReceiver>;

beforeAll(async () => {
  harness = await subgraphHarness(inventory, { viewer: ADMIN });
  receive = createReceiver(harness.database.sql, inventory.eventHandlers!);
});
afterAll(() => harness?.close());
afterEach(async () => {
  expect(await unbalanced()).toEqual([]);
});

/** Products whose stock is not the sum of their ledger (or is negative): none, ever. */
const unbalanced = () =>
  harness.client.$queryRawUnsafe<unknown[]>(
    `SELECT i.product_id, i.stock, COALESCE(SUM(m.delta), 0)::int AS ledger
       FROM inventory_items i LEFT JOIN stock_movements m ON m.product_id = i.product_id
      GROUP BY i.product_id, i.stock HAVING i.stock <> COALESCE(SUM(m.delta), 0) OR i.stock < 0`,
  );

type Line = { productId: number; quantity: number };
let sequence = 0;
function envelope(source: string, type: string, aggregate: string, payload: unknown) {
  return { id: randomUUID(), source, type, version: 1, aggregate, sequence: ++sequence, occurredAt: new Date().toISOString(), payload };
}
const orderPlaced = (orderId: number, items: Line[]) => envelope('orders', 'OrderPlaced', `order:${orderId}`, { orderId, userId: 5, items });
const orderCancelled = (orderId: number) => envelope('orders', 'OrderCancelled', `order:${orderId}`, { orderId, userId: 5 });
const productCreated = (productId: number, revision = 1, type = 'ProductCreated') =>
  envelope('products', type, `product:${productId}`, { productId, sku: `SKU-${productId}`, name: `Product ${productId}`, priceCents: 999, revision });

/** Delivers an event like a transport would: again while the receiver asks for a retry. */
async function deliver(event: ReturnType<typeof envelope>): Promise<Receipt> {
  for (let attempt = 1; ; attempt++) {
    const receipt = await receive(event, { attempt, maxAttempts: 20 });
    if (receipt.outcome !== 'retry') return receipt;
  }
}

const stockOf = async (productId: number) => (await harness.client.inventoryItem.findUnique({ where: { productId } }))?.stock ?? 0;
const answers = (orderId: number) =>
  harness.client.$queryRawUnsafe<{ type: string; payload: unknown }[]>(`SELECT type, payload FROM outbox_events WHERE aggregate = $1 ORDER BY seq`, `order:${orderId}`);
const decision = (orderId: number) => harness.client.orderDecision.findUnique({ where: { orderId }, select: { outcome: true, reason: true } });

/** A product only this test uses: in the replica, with exactly `stock` on the shelf (restocked, so on the ledger). */
async function freshProduct(productId: number, stock: number): Promise<number> {
  expect(await deliver(productCreated(productId))).toEqual({ outcome: 'handled' });
  if (stock > 0) {
    const result = await harness.query(`mutation($id: ID!, $q: Int!) { restock(productId: $id, quantity: $q) { product { stock } } }`, { id: String(productId), q: stock });
    expect(result.data?.restock.product.stock).toBe(stock);
  }
  return productId;
}

describe('the ledger', () => {
  it('opens with the seeded stock: one SEED movement per stocked product', async () => {
    const movements = await harness.client.stockMovement.findMany({ where: { reason: 'SEED' }, orderBy: { productId: 'asc' } });
    expect(movements.map((m) => [m.productId, m.delta])).toEqual(
      Array.from({ length: 200 }, (_, i) => i + 1)
        .filter((n) => seedStock(n) > 0)
        .map((n) => [n, seedStock(n)]),
    );
  });

  it('records a restock in the same statement as the stock', async () => {
    const { result, sql } = await harness.countStatements(() => harness.query(`mutation { restock(productId: "9", quantity: 4) { product { stock } } }`));
    expect(result.data?.restock.product.stock).toBe(seedStock(9) + 4);
    // The stock and its ledger row in one statement; then, in the same transaction, its StockChanged.
    expect(sql).toHaveLength(2);
    expect(sql[0]).toMatch(/INSERT INTO inventory_items[\s\S]*INSERT INTO stock_movements/);
    expect(sql[1]).toContain('INSERT INTO outbox_events');
    const [movement] = await harness.client.stockMovement.findMany({ where: { productId: 9, reason: 'RESTOCK' } });
    expect(movement).toMatchObject({ delta: 4, orderId: null });
  });

  it('refuses a restock of an unknown product with NOT_FOUND: no stock row, no movement', async () => {
    const result = await harness.query(`mutation { restock(productId: "4242", quantity: 5) { product { stock } } }`);
    expect(errorCodes(result)).toEqual(['NOT_FOUND']);
    expect(await harness.client.inventoryItem.count({ where: { productId: 4242 } })).toBe(0);
    expect(await harness.client.stockMovement.count({ where: { productId: 4242 } })).toBe(0);
  });

  it('is backed by CHECK (stock >= 0): a direct negative update is refused', async () => {
    await expect(harness.client.inventoryItem.update({ where: { productId: 11 }, data: { stock: -1 } })).rejects.toThrow(/inventory_items_stock_check/);
    await expect(harness.client.$executeRawUnsafe(`UPDATE inventory_items SET stock = stock - 1000 WHERE product_id = 12`)).rejects.toThrow(/inventory_items_stock_check/);
    expect(await stockOf(11)).toBe(seedStock(11));
  });

  it('refuses movements that contradict their reason', async () => {
    const insert = (delta: number, reason: string, orderId: number | null) =>
      harness.client.$executeRawUnsafe(`INSERT INTO stock_movements (product_id, delta, reason, order_id) VALUES (13, $1, $2::stock_movement_reason, $3)`, delta, reason, orderId);
    await expect(insert(5, 'RESERVE', 1)).rejects.toThrow(/stock_movements_delta_check/);
    await expect(insert(-5, 'RESTOCK', null)).rejects.toThrow(/stock_movements_delta_check/);
    await expect(insert(5, 'RELEASE', null)).rejects.toThrow(/stock_movements_order_id_check/);
  });
});

describe('OrderPlaced', () => {
  it('reserves every item: stock down, reservations and ledger per product, RESERVED, StockReserved in product order', async () => {
    const receipt = await deliver(orderPlaced(100, [{ productId: 3, quantity: 4 }, { productId: 1, quantity: 2 }]));
    expect(receipt).toEqual({ outcome: 'handled' });
    expect([await stockOf(1), await stockOf(3)]).toEqual([seedStock(1) - 2, seedStock(3) - 4]);
    expect(await harness.client.reservation.findMany({ where: { orderId: 100 }, select: { productId: true, quantity: true, releasedAt: true }, orderBy: { productId: 'asc' } })).toEqual([
      { productId: 1, quantity: 2, releasedAt: null },
      { productId: 3, quantity: 4, releasedAt: null },
    ]);
    expect(await harness.client.stockMovement.findMany({ where: { orderId: 100 }, select: { productId: true, delta: true, reason: true }, orderBy: { productId: 'asc' } })).toEqual([
      { productId: 1, delta: -2, reason: 'RESERVE' },
      { productId: 3, delta: -4, reason: 'RESERVE' },
    ]);
    expect(await decision(100)).toEqual({ outcome: 'RESERVED', reason: null });
    expect(await answers(100)).toEqual([{ type: 'StockReserved', payload: { orderId: 100, items: [{ productId: 1, quantity: 2 }, { productId: 3, quantity: 4 }] } }]);
  });

  it('reserves all the stock there is', async () => {
    expect(await deliver(orderPlaced(101, [{ productId: 11, quantity: seedStock(11) }]))).toEqual({ outcome: 'handled' });
    expect(await stockOf(11)).toBe(0);
    expect((await decision(101))?.outcome).toBe('RESERVED');
  });

  it('rejects an order with one item short and changes no item’s stock, before or after it', async () => {
    const before = [await stockOf(2), await stockOf(4), await stockOf(5)];
    const items = [{ productId: 5, quantity: 1 }, { productId: 2, quantity: 1 }, { productId: 4, quantity: seedStock(4) + 1 }];
    expect(await deliver(orderPlaced(102, items))).toEqual({ outcome: 'handled' });
    expect([await stockOf(2), await stockOf(4), await stockOf(5)]).toEqual(before);
    expect(await harness.client.reservation.count({ where: { orderId: 102 } })).toBe(0);
    expect(await harness.client.stockMovement.count({ where: { orderId: 102 } })).toBe(0);
    const message = `product 4 has ${seedStock(4)} left, ${seedStock(4) + 1} asked`;
    expect(await decision(102)).toEqual({ outcome: 'REJECTED', reason: `INSUFFICIENT_STOCK: ${message}` });
    expect(await answers(102)).toEqual([{ type: 'StockRejected', payload: { orderId: 102, reason: 'INSUFFICIENT_STOCK', productId: 4, message } }]);
  });

  it('names the first short product in product order', async () => {
    await deliver(orderPlaced(103, [{ productId: 30, quantity: 1 }, { productId: 20, quantity: 1 }, { productId: 6, quantity: 1 }]));
    expect(await answers(103)).toEqual([
      { type: 'StockRejected', payload: { orderId: 103, reason: 'INSUFFICIENT_STOCK', productId: 20, message: 'product 20 has 0 left, 1 asked' } },
    ]);
    expect(await stockOf(6)).toBe(seedStock(6));
  });

  it('counts a known product without a stock row as 0 left', async () => {
    await freshProduct(3000, 0);
    await deliver(orderPlaced(104, [{ productId: 3000, quantity: 1 }]));
    expect(await answers(104)).toEqual([
      { type: 'StockRejected', payload: { orderId: 104, reason: 'INSUFFICIENT_STOCK', productId: 3000, message: 'product 3000 has 0 left, 1 asked' } },
    ]);
  });

  it('rejects a product the replica does not have with UNKNOWN_PRODUCT and changes nothing', async () => {
    const before = await stockOf(7);
    await deliver(orderPlaced(105, [{ productId: 7, quantity: 1 }, { productId: 9999, quantity: 1 }]));
    expect(await stockOf(7)).toBe(before);
    expect(await answers(105)).toEqual([
      { type: 'StockRejected', payload: { orderId: 105, reason: 'UNKNOWN_PRODUCT', productId: 9999, message: 'product 9999 is not in the catalogue' } },
    ]);
    expect(await decision(105)).toEqual({ outcome: 'REJECTED', reason: 'UNKNOWN_PRODUCT: product 9999 is not in the catalogue' });
  });

  it('reserves once however often the order arrives: the same event, or the same order under a new id', async () => {
    const event = orderPlaced(106, [{ productId: 8, quantity: 3 }]);
    expect(await deliver(event)).toEqual({ outcome: 'handled' });
    expect(await deliver(event)).toEqual({ outcome: 'duplicate' });
    expect(await deliver(orderPlaced(106, [{ productId: 8, quantity: 3 }]))).toEqual({ outcome: 'handled' });
    expect(await stockOf(8)).toBe(seedStock(8) - 3);
    expect(await harness.client.stockMovement.count({ where: { orderId: 106 } })).toBe(1);
    expect((await answers(106)).map((a) => a.type)).toEqual(['StockReserved']);
  });

  it('never changes a decision: a rejected order arriving again once stock is there stays rejected', async () => {
    await deliver(orderPlaced(107, [{ productId: 17, quantity: seedStock(17) + 5 }]));
    await harness.query(`mutation { restock(productId: "17", quantity: 100) { product { stock } } }`);
    await deliver(orderPlaced(107, [{ productId: 17, quantity: seedStock(17) + 5 }]));
    expect(await stockOf(17)).toBe(seedStock(17) + 100);
    expect((await answers(107)).map((a) => a.type)).toEqual(['StockRejected']);
  });

  it('reserves exactly the stock there is for 50 concurrent orders of one unit: 10 reserved, 40 rejected, stock 0', async () => {
    const productId = await freshProduct(3001, 10);
    const orderIds = Array.from({ length: 50 }, (_, i) => 2000 + i);
    const receipts = await Promise.all(orderIds.map((orderId) => deliver(orderPlaced(orderId, [{ productId, quantity: 1 }]))));
    expect(receipts).toEqual(Array(50).fill({ outcome: 'handled' }));
    expect(await stockOf(productId)).toBe(0);
    const decisions = await harness.client.orderDecision.groupBy({ by: ['outcome'], where: { orderId: { in: orderIds } }, _count: true, orderBy: { outcome: 'asc' } });
    expect(decisions.map((d) => [d.outcome, d._count])).toEqual([
      ['RESERVED', 10],
      ['REJECTED', 40],
    ]);
    expect(await harness.client.reservation.aggregate({ where: { productId }, _sum: { quantity: true } })).toEqual({ _sum: { quantity: 10 } });
    const types = await harness.client.$queryRawUnsafe<{ type: string; n: bigint }[]>(
      `SELECT type, count(*) AS n FROM outbox_events WHERE aggregate = ANY($1::text[]) GROUP BY type ORDER BY type`,
      orderIds.map((id) => `order:${id}`),
    );
    expect(types.map((t) => [t.type, Number(t.n)])).toEqual([
      ['StockRejected', 40],
      ['StockReserved', 10],
    ]);
  });
});

describe('OrderCancelled', () => {
  it('releases every reservation exactly once: stock back, released_at, ledger, RELEASED, one StockReleased', async () => {
    await deliver(orderPlaced(200, [{ productId: 14, quantity: 5 }, { productId: 13, quantity: 2 }]));
    expect([await stockOf(13), await stockOf(14)]).toEqual([seedStock(13) - 2, seedStock(14) - 5]);
    const cancel = orderCancelled(200);
    expect(await deliver(cancel)).toEqual({ outcome: 'handled' });
    expect(await deliver(cancel)).toEqual({ outcome: 'duplicate' });
    expect(await deliver(orderCancelled(200))).toEqual({ outcome: 'handled' });
    expect([await stockOf(13), await stockOf(14)]).toEqual([seedStock(13), seedStock(14)]);
    const reservations = await harness.client.reservation.findMany({ where: { orderId: 200 } });
    expect(reservations.map((r) => r.releasedAt)).toEqual([expect.any(Date), expect.any(Date)]);
    expect(await harness.client.stockMovement.findMany({ where: { orderId: 200, reason: 'RELEASE' }, select: { productId: true, delta: true }, orderBy: { productId: 'asc' } })).toEqual([
      { productId: 13, delta: 2 },
      { productId: 14, delta: 5 },
    ]);
    expect(await decision(200)).toEqual({ outcome: 'RELEASED', reason: null });
    expect(await answers(200)).toEqual([
      { type: 'StockReserved', payload: { orderId: 200, items: [{ productId: 13, quantity: 2 }, { productId: 14, quantity: 5 }] } },
      { type: 'StockReleased', payload: { orderId: 200, items: [{ productId: 13, quantity: 2 }, { productId: 14, quantity: 5 }] } },
    ]);
    // The order arriving again after its release reserves nothing.
    await deliver(orderPlaced(200, [{ productId: 14, quantity: 5 }, { productId: 13, quantity: 2 }]));
    expect([await stockOf(13), await stockOf(14)]).toEqual([seedStock(13), seedStock(14)]);
  });

  it('does nothing for a rejected order: nothing was reserved', async () => {
    await deliver(orderPlaced(201, [{ productId: 10, quantity: 1 }]));
    expect(await deliver(orderCancelled(201))).toEqual({ outcome: 'handled' });
    expect(await decision(201)).toEqual({ outcome: 'REJECTED', reason: 'INSUFFICIENT_STOCK: product 10 has 0 left, 1 asked' });
    expect((await answers(201)).map((a) => a.type)).toEqual(['StockRejected']);
  });

  it('decides RELEASED for an order it never heard of, so that a late OrderPlaced reserves nothing', async () => {
    expect(await deliver(orderCancelled(202))).toEqual({ outcome: 'handled' });
    expect(await decision(202)).toEqual({ outcome: 'RELEASED', reason: null });
    expect(await deliver(orderPlaced(202, [{ productId: 15, quantity: 1 }]))).toEqual({ outcome: 'handled' });
    expect(await stockOf(15)).toBe(seedStock(15));
    expect(await harness.client.reservation.count({ where: { orderId: 202 } })).toBe(0);
    expect(await answers(202)).toEqual([{ type: 'StockReleased', payload: { orderId: 202, items: [] } }]);
  });
});

describe('the catalogue replica', () => {
  it('keeps the newest revision: an older fact or an equal snapshot changes nothing', async () => {
    await deliver(productCreated(3100, 3));
    await deliver(productCreated(3100, 2, 'ProductSnapshot'));
    await deliver(productCreated(3100, 3, 'ProductSnapshot'));
    expect(await harness.client.catalogProduct.findUniqueOrThrow({ where: { productId: 3100 } })).toMatchObject({ revision: 3 });
    await deliver(productCreated(3100, 4, 'ProductSnapshot'));
    expect(await harness.client.catalogProduct.findUniqueOrThrow({ where: { productId: 3100 } })).toMatchObject({ revision: 4 });
  });

  it('makes a product created in products restockable and orderable', async () => {
    await freshProduct(3101, 3);
    await deliver(orderPlaced(300, [{ productId: 3101, quantity: 3 }]));
    expect((await decision(300))?.outcome).toBe('RESERVED');
    expect(await stockOf(3101)).toBe(0);
  });

  it('parks what does not match its contract and ignores what it does not subscribe to', async () => {
    expect((await receive(orderPlaced(301, []), { attempt: 1, maxAttempts: 5 })).outcome).toBe('parked');
    expect(await receive(envelope('products', 'ProductPriceChanged', 'product:1', {}), { attempt: 1, maxAttempts: 5 })).toEqual({ outcome: 'ignored' });
  });
});

describe('snapshot', () => {
  it('reports stock beside its ledger, the reservations held, every decision and the replica', async () => {
    await deliver(orderPlaced(400, [{ productId: 16, quantity: 1 }]));
    expect(inventory.snapshot).toBe(snapshot);
    const report = await snapshot(harness.client);
    expect(report.stock.filter((row) => row.stock !== row.ledger)).toEqual([]);
    expect(report.stock.find((row) => row.productId === 16)).toEqual({ productId: 16, stock: seedStock(16) - 1, ledger: seedStock(16) - 1 });
    expect(report.reservations).toContainEqual({ orderId: 400, productId: 16, quantity: 1 });
    expect(report.reservations.some((row) => row.orderId === 200)).toBe(false);
    expect(report.decisions).toContainEqual({ orderId: 400, outcome: 'RESERVED' });
    expect(report.decisions).toContainEqual({ orderId: 200, outcome: 'RELEASED' });
    expect(report.catalog.find((row) => row.productId === 1)).toEqual({ productId: 1, revision: 1 });
    expect(report.catalog).toContainEqual({ productId: 3100, revision: 4 });
  });
});
