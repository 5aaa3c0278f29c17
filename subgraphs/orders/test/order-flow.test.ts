import { randomUUID } from 'node:crypto';
import { createReceiver, seedProductPriceCents, SEED } from '@commerce/service-kit';
import { ADMIN, ANONYMOUS_CALLER, asUser, errorCodes, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { seedOrders } from '../src/seed.ts';
import { orders } from '../src/server.ts';
import { snapshot } from '../src/snapshot.ts';

/**
 * The order flow on orders' own database: placeOrder and cancelOrder through the GraphQL API, and
 * inventory's and products' answers driven through the kit's real receiver (inbox included), with
 * the outbox read back to see what orders published.
 */
let harness: SubgraphHarness<PrismaClient>;
let receive: ReturnType<typeof createReceiver>;

beforeAll(async () => {
  harness = await subgraphHarness(orders);
  receive = createReceiver(harness.database.sql, orders.eventHandlers!);
});
afterAll(() => harness?.close());

type Item = { productId: string; quantity: number };
const ORDER = `id status reason totalCents updatedAt user { id } items { product { id } quantity unitPriceCents }`;
const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { ${ORDER} } } }`;
const CANCEL = `mutation($id: ID!) { cancelOrder(id: $id) { order { id status reason } } }`;

const place = (userId: number, items: Item[], idempotencyKey: string = randomUUID()) =>
  harness.query(PLACE, { input: { items, idempotencyKey } }, asUser(userId));
const cancel = (id: string | number, as = ADMIN) => harness.query(CANCEL, { id: String(id) }, as);

/** Places an order that must succeed and returns it. */
async function placed(userId: number, items: Item[], key?: string) {
  const result = await place(userId, items, key);
  expect(result.errors).toBeUndefined();
  return result.data?.placeOrder.order as PlacedOrder;
}

interface PlacedOrder {
  id: string;
  status: string;
  reason: string | null;
  totalCents: number;
  updatedAt: string;
  user: { id: string };
  items: { product: { id: string }; quantity: number; unitPriceCents: number }[];
}

interface OutboxRow {
  type: string;
  aggregate: string;
  payload: unknown;
}
const outbox = (aggregate?: string) =>
  harness.client.$queryRawUnsafe<OutboxRow[]>(
    `SELECT type, aggregate, payload FROM outbox_events ${aggregate ? 'WHERE aggregate = $1' : ''} ORDER BY seq`,
    ...(aggregate ? [aggregate] : []),
  );
const orderCount = () => harness.client.order.count();

let sequence = 0;
function envelope(source: string, type: string, aggregate: string, payload: unknown) {
  return { id: randomUUID(), source, type, version: 1, aggregate, sequence: ++sequence, occurredAt: new Date().toISOString(), payload };
}
const deliver = (event: ReturnType<typeof envelope>) => receive(event, { attempt: 1, maxAttempts: 5 });
const reserved = (orderId: number, items: { productId: number; quantity: number }[]) =>
  envelope('inventory', 'StockReserved', `order:${orderId}`, { orderId, items });
const rejected = (orderId: number, productId: number, message: string, reason = 'INSUFFICIENT_STOCK') =>
  envelope('inventory', 'StockRejected', `order:${orderId}`, { orderId, reason, productId, message });
const productFact = (type: string, productId: number, priceCents: number, revision: number, extra: Record<string, unknown> = {}) =>
  envelope('products', type, `product:${productId}`, { productId, sku: `SKU-${productId}`, name: `Product ${productId}`, priceCents, revision, ...extra });

const statusOf = async (id: string | number) => (await harness.client.order.findUniqueOrThrow({ where: { id: Number(id) } })).status;

describe('placeOrder', () => {
  it('places a PENDING order priced from the replica and publishes OrderPlaced with it, in one transaction', async () => {
    const order = await placed(61, [
      { productId: '3', quantity: 2 },
      { productId: '5', quantity: 1 },
    ]);
    expect(order).toEqual({
      id: String(SEED.orders + 1),
      status: 'PENDING',
      reason: null,
      totalCents: 2 * seedProductPriceCents(3) + seedProductPriceCents(5),
      updatedAt: expect.any(String),
      user: { id: '61' },
      items: [
        { product: { id: '3' }, quantity: 2, unitPriceCents: seedProductPriceCents(3) },
        { product: { id: '5' }, quantity: 1, unitPriceCents: seedProductPriceCents(5) },
      ],
    });
    expect(await outbox(`order:${order.id}`)).toEqual([
      {
        type: 'OrderPlaced',
        aggregate: `order:${order.id}`,
        payload: { orderId: Number(order.id), userId: 61, items: [{ productId: 3, quantity: 2 }, { productId: 5, quantity: 1 }] },
      },
    ]);
  });

  it('returns the same order for the same key, in any item order, and publishes nothing more', async () => {
    const first = await placed(62, [{ productId: '7', quantity: 1 }, { productId: '8', quantity: 3 }], 'retry-me');
    const again = await placed(62, [{ productId: '7', quantity: 1 }, { productId: '8', quantity: 3 }], 'retry-me');
    const reordered = await placed(62, [{ productId: '8', quantity: 3 }, { productId: '7', quantity: 1 }], 'retry-me');
    expect(again).toEqual(first);
    expect(reordered).toEqual(first);
    expect(await outbox(`order:${first.id}`)).toHaveLength(1);
    expect(await harness.client.order.count({ where: { userId: 62 } })).toBe(1);
  });

  it('places one order for 20 concurrent requests with one key; all of them get it', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => place(63, [{ productId: '9', quantity: 4 }], 'double-click')));
    expect(results.flatMap(errorCodes)).toEqual([]);
    const ids = new Set(results.map((result) => result.data?.placeOrder.order.id));
    expect(ids.size).toBe(1);
    expect(await harness.client.order.count({ where: { userId: 63 } })).toBe(1);
    expect(await outbox(`order:${[...ids][0]}`)).toHaveLength(1);
  });

  it('refuses the same key with other items with CONFLICT and changes nothing', async () => {
    const first = await placed(64, [{ productId: '11', quantity: 1 }], 'my-key');
    const [before, events] = [await orderCount(), (await outbox()).length];
    for (const items of [[{ productId: '11', quantity: 2 }], [{ productId: '12', quantity: 1 }], [{ productId: '11', quantity: 1 }, { productId: '12', quantity: 1 }]]) {
      const result = await place(64, items, 'my-key');
      expect(errorCodes(result)).toEqual(['CONFLICT']);
      expect(result.errors?.[0]?.extensions?.field).toBe('input.idempotencyKey');
      expect(result.errors?.[0]?.message).toContain(`order ${first.id}`);
      expect(result.data).toBeNull();
    }
    expect(await orderCount()).toBe(before);
    expect(await outbox()).toHaveLength(events);
  });

  it('keeps keys per user: another user with the same key gets an order of their own', async () => {
    const mine = await placed(65, [{ productId: '13', quantity: 1 }], 'shared-key');
    const theirs = await placed(66, [{ productId: '13', quantity: 1 }], 'shared-key');
    expect(theirs.id).not.toBe(mine.id);
    expect(theirs.user).toEqual({ id: '66' });
  });

  const one = [{ productId: '1', quantity: 1 }];
  it.each([
    ['no items', 'input.items', [], 'k'],
    ['21 items', 'input.items', Array.from({ length: 21 }, (_, i) => ({ productId: String(i + 1), quantity: 1 })), 'k'],
    ['a quantity of 0', 'input.items[1].quantity', [{ productId: '1', quantity: 1 }, { productId: '2', quantity: 0 }], 'k'],
    ['a negative quantity', 'input.items[0].quantity', [{ productId: '1', quantity: -3 }], 'k'],
    ['a quantity over 100', 'input.items[0].quantity', [{ productId: '1', quantity: 101 }], 'k'],
    ['a product twice', 'input.items[2].productId', [{ productId: '1', quantity: 1 }, { productId: '2', quantity: 1 }, { productId: '1', quantity: 2 }], 'k'],
    ['a malformed product id', 'input.items[0].productId', [{ productId: 'abc', quantity: 1 }], 'k'],
    ['a zero product id', 'input.items[0].productId', [{ productId: '0', quantity: 1 }], 'k'],
    ['an empty key', 'input.idempotencyKey', one, ''],
    ['a blank key', 'input.idempotencyKey', one, '   '],
    ['a key of 101 characters', 'input.idempotencyKey', one, 'k'.repeat(101)],
    ['a key with a control character', 'input.idempotencyKey', one, 'key\u0007'],
    ['a key with a line break', 'input.idempotencyKey', one, 'key\nkey'],
    ['a non-ASCII key', 'input.idempotencyKey', one, 'clé'],
  ])('refuses %s with BAD_USER_INPUT on %s and writes nothing', async (_name, field, items, key) => {
    const [before, events] = [await orderCount(), (await outbox()).length];
    const result = await place(67, items, key);
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions?.field).toBe(field);
    expect(result.data).toBeNull();
    expect(await orderCount()).toBe(before);
    expect(await outbox()).toHaveLength(events);
  });

  it('says which items name the same product', async () => {
    const result = await place(67, [{ productId: '4', quantity: 1 }, { productId: '6', quantity: 1 }, { productId: '4', quantity: 2 }]);
    expect(result.errors?.[0]?.message).toBe('Product 4 is in items 0 and 2: order each product once, with its whole quantity');
  });

  it('accepts the bounds: 20 items, 100 units, a key of 100 characters', async () => {
    const items = Array.from({ length: 20 }, (_, i) => ({ productId: String(i + 21), quantity: i === 0 ? 100 : 1 }));
    const order = await placed(68, items, `${'K'.repeat(98)} !`);
    expect(order.status).toBe('PENDING');
    expect(order.items).toHaveLength(20);
    expect(order.items[0]).toEqual({ product: { id: '21' }, quantity: 100, unitPriceCents: seedProductPriceCents(21) });
  });

  it('rejects an order with a product the catalogue does not have at once, with the reason and no event for inventory', async () => {
    const order = await placed(69, [{ productId: '2', quantity: 1 }, { productId: '999', quantity: 2 }]);
    expect(order).toMatchObject({
      status: 'REJECTED',
      reason: 'UNKNOWN_PRODUCT: product 999 is not in the catalogue',
      totalCents: seedProductPriceCents(2),
      items: [
        { product: { id: '2' }, quantity: 1, unitPriceCents: seedProductPriceCents(2) },
        { product: { id: '999' }, quantity: 2, unitPriceCents: 0 },
      ],
    });
    // No OrderPlaced (nothing to reserve); only the router's entity cache hears of the new order.
    expect(await outbox(`order:${order.id}`)).toEqual([
      {
        type: 'OrderStatusChanged',
        aggregate: `order:${order.id}`,
        payload: { orderId: Number(order.id), userId: 69, status: 'REJECTED', reason: 'UNKNOWN_PRODUCT: product 999 is not in the catalogue' },
      },
    ]);
  });

  it('refuses an order whose total would not fit in totalCents', async () => {
    expect(await deliver(productFact('ProductCreated', 601, 100_000_000, 1))).toEqual({ outcome: 'handled' });
    const before = await orderCount();
    const result = await place(70, [{ productId: '601', quantity: 22 }]);
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions?.field).toBe('input.items');
    expect(await orderCount()).toBe(before);
    expect((await placed(70, [{ productId: '601', quantity: 21 }])).totalCents).toBe(2_100_000_000);
  });

  it('refuses anonymous callers with UNAUTHENTICATED and writes nothing', async () => {
    const [before, events] = [await orderCount(), (await outbox()).length];
    const result = await harness.query(PLACE, { input: { items: [{ productId: '1', quantity: 1 }], idempotencyKey: 'anon' } }, ANONYMOUS_CALLER);
    expect(errorCodes(result)).toEqual(['UNAUTHENTICATED']);
    expect(result.data).toBeNull();
    expect(await orderCount()).toBe(before);
    expect(await outbox()).toHaveLength(events);
  });

  it('places the order for the caller, an admin too', async () => {
    const order = await harness.query(PLACE, { input: { items: [{ productId: '1', quantity: 1 }], idempotencyKey: 'admin' } }, ADMIN);
    expect(order.data?.placeOrder.order.user).toEqual({ id: '1' });
  });
});

describe('inventory’s answers', () => {
  it('confirms a PENDING order on StockReserved, once, however often it arrives', async () => {
    const order = await placed(71, [{ productId: '15', quantity: 2 }]);
    const event = reserved(Number(order.id), [{ productId: 15, quantity: 2 }]);
    expect(await deliver(event)).toEqual({ outcome: 'handled' });
    expect(await deliver(event)).toEqual({ outcome: 'duplicate' });
    const row = await harness.client.order.findUniqueOrThrow({ where: { id: Number(order.id) } });
    expect(row.status).toBe('CONFIRMED');
    expect(row.updatedAt.getTime()).toBeGreaterThanOrEqual(new Date(order.updatedAt).getTime());
    // The same answer under a new event id (a publisher that published twice) changes nothing either.
    expect(await deliver(reserved(Number(order.id), [{ productId: 15, quantity: 2 }]))).toEqual({ outcome: 'handled' });
    expect(await harness.client.order.findUniqueOrThrow({ where: { id: Number(order.id) } })).toEqual(row);
    const seen = await harness.query(`query($id: ID!) { order(id: $id) { status reason } }`, { id: order.id }, asUser(71));
    expect(seen.data?.order).toEqual({ status: 'CONFIRMED', reason: null });
  });

  it('rejects a PENDING order on StockRejected with inventory’s reason, once', async () => {
    const order = await placed(72, [{ productId: '7', quantity: 5 }]);
    const event = rejected(Number(order.id), 7, 'product 7 has 2 left, 5 asked');
    expect(await deliver(event)).toEqual({ outcome: 'handled' });
    expect(await deliver(event)).toEqual({ outcome: 'duplicate' });
    expect(await deliver(rejected(Number(order.id), 7, 'product 7 has 0 left, 5 asked'))).toEqual({ outcome: 'handled' });
    const seen = await harness.query(`query($id: ID!) { order(id: $id) { status reason } }`, { id: order.id }, asUser(72));
    expect(seen.data?.order).toEqual({ status: 'REJECTED', reason: 'INSUFFICIENT_STOCK: product 7 has 2 left, 5 asked' });
  });

  it('lets no answer move a settled order: a rejection after a confirmation and vice versa', async () => {
    const confirmed = await placed(73, [{ productId: '16', quantity: 1 }]);
    await deliver(reserved(Number(confirmed.id), [{ productId: 16, quantity: 1 }]));
    expect(await deliver(rejected(Number(confirmed.id), 16, 'product 16 has 0 left, 1 asked'))).toEqual({ outcome: 'handled' });
    expect(await statusOf(confirmed.id)).toBe('CONFIRMED');

    const refused = await placed(73, [{ productId: '17', quantity: 1 }]);
    await deliver(rejected(Number(refused.id), 17, 'product 17 is not in the catalogue', 'UNKNOWN_PRODUCT'));
    expect(await deliver(reserved(Number(refused.id), [{ productId: 17, quantity: 1 }]))).toEqual({ outcome: 'handled' });
    const row = await harness.client.order.findUniqueOrThrow({ where: { id: Number(refused.id) } });
    expect([row.status, row.rejectionReason]).toEqual(['REJECTED', 'UNKNOWN_PRODUCT: product 17 is not in the catalogue']);
  });

  it('publishes OrderStatusChanged CONFIRMED with the move on StockReserved, once, and nothing when the answer moves nothing', async () => {
    const order = await placed(86, [{ productId: '25', quantity: 1 }]);
    const event = reserved(Number(order.id), [{ productId: 25, quantity: 1 }]);
    expect(await deliver(event)).toEqual({ outcome: 'handled' });
    const confirmed = { type: 'OrderStatusChanged', aggregate: `order:${order.id}`, payload: { orderId: Number(order.id), userId: 86, status: 'CONFIRMED' } };
    expect(await outbox(`order:${order.id}`)).toEqual([expect.objectContaining({ type: 'OrderPlaced' }), confirmed]);
    // Redelivered, under the same id or a new one, or contradicted by a late rejection: no move, no event.
    await deliver(event);
    await deliver(reserved(Number(order.id), [{ productId: 25, quantity: 1 }]));
    await deliver(rejected(Number(order.id), 25, 'product 25 has 0 left, 1 asked'));
    expect(await outbox(`order:${order.id}`)).toEqual([expect.objectContaining({ type: 'OrderPlaced' }), confirmed]);
  });

  it('publishes OrderStatusChanged REJECTED with the reason orders stores on StockRejected, once', async () => {
    const order = await placed(87, [{ productId: '26', quantity: 9 }]);
    expect(await deliver(rejected(Number(order.id), 26, 'product 26 has 1 left, 9 asked'))).toEqual({ outcome: 'handled' });
    await deliver(rejected(Number(order.id), 26, 'product 26 has 0 left, 9 asked'));
    await deliver(reserved(Number(order.id), [{ productId: 26, quantity: 9 }]));
    expect(await outbox(`order:${order.id}`)).toEqual([
      expect.objectContaining({ type: 'OrderPlaced' }),
      {
        type: 'OrderStatusChanged',
        aggregate: `order:${order.id}`,
        payload: { orderId: Number(order.id), userId: 87, status: 'REJECTED', reason: 'INSUFFICIENT_STOCK: product 26 has 1 left, 9 asked' },
      },
    ]);
  });

  it('publishes nothing for a late StockReserved or StockRejected about a cancelled order', async () => {
    const order = await placed(88, [{ productId: '27', quantity: 1 }]);
    await cancel(order.id, asUser(88));
    const events = (await outbox()).length;
    expect(await deliver(reserved(Number(order.id), [{ productId: 27, quantity: 1 }]))).toEqual({ outcome: 'handled' });
    expect(await deliver(rejected(Number(order.id), 27, 'product 27 has 0 left, 1 asked'))).toEqual({ outcome: 'handled' });
    expect(await statusOf(order.id)).toBe('CANCELLED');
    expect(await outbox()).toHaveLength(events);
    expect((await outbox(`order:${order.id}`)).map((row) => row.type)).toEqual(['OrderPlaced', 'OrderCancelled']);
  });

  it('moves the status and writes OrderStatusChanged in one transaction: neither when the event cannot be written, both once it can', async () => {
    const order = await placed(89, [{ productId: '28', quantity: 1 }]);
    const event = reserved(Number(order.id), [{ productId: 28, quantity: 1 }]);
    // The outbox refuses every insert: the handler fails after its UPDATE, and the UPDATE goes with it.
    await harness.client.$executeRawUnsafe(`CREATE FUNCTION refuse_events() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'outbox unavailable'; END $$`);
    await harness.client.$executeRawUnsafe(`CREATE TRIGGER refuse_events BEFORE INSERT ON outbox_events FOR EACH ROW EXECUTE FUNCTION refuse_events()`);
    try {
      expect(await deliver(event)).toEqual({ outcome: 'retry', error: expect.stringContaining('outbox unavailable') });
      expect(await statusOf(order.id)).toBe('PENDING');
      expect((await outbox(`order:${order.id}`)).map((row) => row.type)).toEqual(['OrderPlaced']);
    } finally {
      await harness.client.$executeRawUnsafe('DROP TRIGGER refuse_events ON outbox_events');
      await harness.client.$executeRawUnsafe('DROP FUNCTION refuse_events()');
    }
    // The retry (same event id: the failed attempt left no inbox row) does both.
    expect(await deliver(event)).toEqual({ outcome: 'handled' });
    expect(await statusOf(order.id)).toBe('CONFIRMED');
    expect((await outbox(`order:${order.id}`)).map((row) => row.type)).toEqual(['OrderPlaced', 'OrderStatusChanged']);
  });

  it('parks an answer about an order orders never placed', async () => {
    const receipt = await deliver(reserved(987_654, [{ productId: 1, quantity: 1 }]));
    expect(receipt).toEqual({ outcome: 'parked', reason: 'rejected by its handler: inventory.StockReserved is about order 987654, which orders never placed' });
  });
});

describe('cancelOrder', () => {
  it('cancels a PENDING order once: one OrderCancelled, a second cancel is a no-op', async () => {
    const order = await placed(74, [{ productId: '18', quantity: 1 }]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const first = await cancel(order.id, asUser(74));
    const row = await harness.client.order.findUniqueOrThrow({ where: { id: Number(order.id) } });
    expect(row.updatedAt.getTime()).toBeGreaterThan(new Date(order.updatedAt).getTime());
    expect(first.errors).toBeUndefined();
    expect(first.data?.cancelOrder.order).toEqual({ id: order.id, status: 'CANCELLED', reason: null });
    const second = await cancel(order.id, asUser(74));
    expect(second.errors).toBeUndefined();
    expect(second.data?.cancelOrder.order).toEqual({ id: order.id, status: 'CANCELLED', reason: null });
    expect(await outbox(`order:${order.id}`)).toEqual([
      expect.objectContaining({ type: 'OrderPlaced' }),
      { type: 'OrderCancelled', aggregate: `order:${order.id}`, payload: { orderId: Number(order.id), userId: 74 } },
    ]);
  });

  it('publishes one OrderCancelled for 10 concurrent cancels', async () => {
    const order = await placed(75, [{ productId: '19', quantity: 1 }]);
    const results = await Promise.all(Array.from({ length: 10 }, () => cancel(order.id, asUser(75))));
    expect(results.flatMap(errorCodes)).toEqual([]);
    expect(results.map((result) => result.data?.cancelOrder.order.status)).toEqual(Array(10).fill('CANCELLED'));
    expect((await outbox(`order:${order.id}`)).map((row) => row.type)).toEqual(['OrderPlaced', 'OrderCancelled']);
  });

  it('cancels a CONFIRMED order, and a StockReserved arriving afterwards leaves it CANCELLED', async () => {
    const order = await placed(76, [{ productId: '21', quantity: 1 }]);
    await deliver(reserved(Number(order.id), [{ productId: 21, quantity: 1 }]));
    expect((await cancel(order.id, asUser(76))).data?.cancelOrder.order.status).toBe('CANCELLED');
    expect(await deliver(reserved(Number(order.id), [{ productId: 21, quantity: 1 }]))).toEqual({ outcome: 'handled' });
    expect(await statusOf(order.id)).toBe('CANCELLED');

    const early = await placed(76, [{ productId: '22', quantity: 1 }]);
    await cancel(early.id, asUser(76));
    await deliver(reserved(Number(early.id), [{ productId: 22, quantity: 1 }]));
    await deliver(rejected(Number(early.id), 22, 'product 22 has 0 left, 1 asked'));
    expect(await statusOf(early.id)).toBe('CANCELLED');
  });

  it('refuses to cancel a rejected order with CONFLICT and changes nothing', async () => {
    const atOnce = await placed(77, [{ productId: '998', quantity: 1 }]);
    const byInventory = await placed(77, [{ productId: '23', quantity: 9 }]);
    await deliver(rejected(Number(byInventory.id), 23, 'product 23 has 1 left, 9 asked'));
    for (const order of [atOnce, byInventory]) {
      const events = (await outbox()).length;
      const result = await cancel(order.id, asUser(77));
      expect(errorCodes(result)).toEqual(['CONFLICT']);
      expect(result.errors?.[0]?.message).toBe(`Order ${order.id} was rejected, and a rejected order cannot be cancelled: nothing was reserved for it`);
      expect(result.data).toBeNull();
      expect(await statusOf(order.id)).toBe('REJECTED');
      expect(await outbox()).toHaveLength(events);
    }
  });

  it('refuses to cancel seeded orders that are paid, shipped or delivered (seeded history is never PENDING)', async () => {
    const seeded = seedOrders();
    expect(seeded.some((o) => o.status === 'PENDING')).toBe(false);
    for (const status of ['PAID', 'SHIPPED', 'DELIVERED'] as const) {
      const order = seeded.find((o) => o.status === status)!;
      const result = await cancel(order.id);
      expect(errorCodes(result)).toEqual(['CONFLICT']);
      expect(result.errors?.[0]?.message).toBe(`Order ${order.id} is ${status} and can no longer be cancelled`);
      expect(await statusOf(order.id)).toBe(status);
    }
  });

  it('lets only the owner or an admin cancel: FORBIDDEN for anyone else, UNAUTHENTICATED when signed out', async () => {
    const order = await placed(78, [{ productId: '24', quantity: 1 }]);
    const stranger = await cancel(order.id, asUser(79));
    expect(errorCodes(stranger)).toEqual(['FORBIDDEN']);
    expect(stranger.data).toBeNull();
    const anonymous = await cancel(order.id, ANONYMOUS_CALLER);
    expect(errorCodes(anonymous)).toEqual(['UNAUTHENTICATED']);
    expect(await statusOf(order.id)).toBe('PENDING');
    expect((await outbox(`order:${order.id}`)).map((row) => row.type)).toEqual(['OrderPlaced']);
    const admin = await cancel(order.id, ADMIN);
    expect(admin.data?.cancelOrder.order.status).toBe('CANCELLED');
  });

  it.each([
    ['an unknown id', '99999', 'NOT_FOUND'],
    ['a malformed id', 'abc', 'BAD_USER_INPUT'],
  ])('answers %s (%s) with %s', async (_name, id, code) => {
    expect(errorCodes(await cancel(id))).toEqual([code]);
  });
});

describe('the catalogue replica', () => {
  it('prices the next order at a price changed in products; earlier orders keep theirs', async () => {
    const before = await placed(80, [{ productId: '30', quantity: 2 }]);
    expect(before.items[0]?.unitPriceCents).toBe(seedProductPriceCents(30));
    const change = productFact('ProductPriceChanged', 30, 12_345, 2, { previousPriceCents: seedProductPriceCents(30) });
    expect(await deliver(change)).toEqual({ outcome: 'handled' });
    const after = await placed(80, [{ productId: '30', quantity: 2 }]);
    expect(after.items[0]?.unitPriceCents).toBe(12_345);
    expect(after.totalCents).toBe(24_690);
    const again = await harness.query(`query($id: ID!) { order(id: $id) { totalCents } }`, { id: before.id }, ADMIN);
    expect(again.data?.order.totalCents).toBe(2 * seedProductPriceCents(30));
  });

  it('never lets an older revision overwrite a newer one (a snapshot or a replay arriving late)', async () => {
    await deliver(productFact('ProductPriceChanged', 31, 500, 3, { previousPriceCents: 400 }));
    expect(await deliver(productFact('ProductPriceChanged', 31, 400, 2, { previousPriceCents: 300 }))).toEqual({ outcome: 'handled' });
    expect(await deliver(productFact('ProductSnapshot', 31, 999, 3))).toEqual({ outcome: 'handled' });
    expect(await deliver(productFact('ProductSnapshot', 31, seedProductPriceCents(31), 1))).toEqual({ outcome: 'handled' });
    expect(await harness.client.catalogProduct.findUniqueOrThrow({ where: { productId: 31 } })).toMatchObject({ priceCents: 500, revision: 3 });
    expect((await placed(81, [{ productId: '31', quantity: 1 }])).items[0]?.unitPriceCents).toBe(500);
  });

  it('makes a product created in products orderable', async () => {
    expect((await placed(82, [{ productId: '700', quantity: 1 }])).status).toBe('REJECTED');
    await deliver(productFact('ProductCreated', 700, 2_500, 1));
    const order = await placed(82, [{ productId: '700', quantity: 1 }]);
    expect([order.status, order.totalCents]).toEqual(['PENDING', 2_500]);
  });

  it('parks a product fact that does not match its contract', async () => {
    const receipt = await deliver(envelope('products', 'ProductCreated', 'product:5', { productId: 5, priceCents: -1, revision: 1 }));
    expect(receipt.outcome).toBe('parked');
    expect(await harness.client.catalogProduct.findUniqueOrThrow({ where: { productId: 5 } })).toMatchObject({ priceCents: seedProductPriceCents(5), revision: 1 });
  });
});

describe('status is queryable', () => {
  it('lists a customer’s new orders with their status and reason, newest first', async () => {
    const a = await placed(83, [{ productId: '40', quantity: 1 }]);
    const b = await placed(83, [{ productId: '41', quantity: 3 }]);
    await deliver(reserved(Number(a.id), [{ productId: 40, quantity: 1 }]));
    await deliver(rejected(Number(b.id), 41, 'product 41 has 2 left, 3 asked'));
    const result = await harness.query(
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { orders { id status reason items { quantity } } } } }`,
      { reps: [{ __typename: 'User', id: '83' }] },
      asUser(83),
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([
      {
        orders: [
          { id: b.id, status: 'REJECTED', reason: 'INSUFFICIENT_STOCK: product 41 has 2 left, 3 asked', items: [{ quantity: 3 }] },
          { id: a.id, status: 'CONFIRMED', reason: null, items: [{ quantity: 1 }] },
        ],
      },
    ]);
  });
});

describe('snapshot', () => {
  it('reports every order with its status, age and items, and the replica', async () => {
    const order = await placed(84, [{ productId: '50', quantity: 2 }]);
    expect(orders.snapshot).toBe(snapshot);
    const { orders: rows, catalog } = await snapshot(harness.client);
    expect(rows).toHaveLength(await orderCount());
    expect(rows.find((row) => row.orderId === Number(order.id))).toEqual({
      orderId: Number(order.id),
      status: 'PENDING',
      ageSeconds: expect.any(Number),
      items: [{ productId: 50, quantity: 2, unitPriceCents: seedProductPriceCents(50) }],
    });
    expect(rows.find((row) => row.orderId === 1)?.ageSeconds).toBeGreaterThan(86_400);
    expect(catalog.find((product) => product.productId === 1)).toEqual({ productId: 1, priceCents: seedProductPriceCents(1), revision: 1 });
  });
});

describe('database', () => {
  it.each([
    ['a REJECTED order without a reason', { status: 'REJECTED' as const }, /orders_rejection_reason_check/],
    ['a reason on an order that is not REJECTED', { status: 'CONFIRMED' as const, rejectionReason: 'INSUFFICIENT_STOCK: no' }, /orders_rejection_reason_check/],
    ['a key without the fingerprint of its request', { idempotencyKey: 'k' }, /orders_idempotency_key_check/],
  ])('refuses %s, whatever code path writes it', async (_name, data, constraint) => {
    await expect(harness.client.order.create({ data: { userId: 85, ...data } })).rejects.toThrow(constraint);
  });

  it('refuses a negative price in the replica', async () => {
    await expect(harness.client.catalogProduct.create({ data: { productId: 5_555, priceCents: -1, revision: 1 } })).rejects.toThrow(/catalog_products_price_cents_check/);
  });
});
