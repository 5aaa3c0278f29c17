// `_entities` with its representations in no particular order: the router maps answers back by
// position, so a loader returning orders, items or lists in any order but the keys' would show
// one customer another's order. Ascending ids (what most tests send) would never show it.
import { ADMIN, keyedReads, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order, PrismaClient } from '../src/generated/prisma/client.ts';
import { orders } from '../src/server.ts';

let harness: SubgraphHarness<PrismaClient>;

beforeAll(async () => {
  harness = await subgraphHarness(orders, { viewer: ADMIN });
});
afterAll(() => harness?.close());

const FIELDS = 'id status reason totalCents createdAt updatedAt user { id } items { quantity unitPriceCents product { id } }';

/** An order as the service's own rows say, read one key at a time (no loader). */
async function shape(order: Order) {
  const items = await harness.client.orderItem.findMany({ where: { orderId: order.id }, orderBy: { id: 'asc' } });
  return {
    id: String(order.id),
    status: order.status,
    reason: order.rejectionReason,
    totalCents: items.reduce((total, item) => total + item.quantity * item.unitPriceCents, 0),
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
    user: { id: String(order.userId) },
    items: items.map((item) => ({ quantity: item.quantity, unitPriceCents: item.unitPriceCents, product: { id: String(item.productId) } })),
  };
}

describe('entities in shuffled key order', () => {
  it('answers Order ids mixed, repeated and unknown, each with its own row and items', async () => {
    const ids = [120, 7, 99999, 64, 7, 150, 2, 33];
    const result = await harness.query(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Order { ${FIELDS} } } }`, {
      reps: ids.map((id) => ({ __typename: 'Order', id: String(id) })),
    });
    expect(result.errors).toBeUndefined();
    const want = await Promise.all(ids.map(async (id) => {
      const row = await harness.client.order.findUnique({ where: { id } });
      return row && (await shape(row));
    }));
    expect(want.filter((o) => o === null)).toHaveLength(1);
    expect(result.data?._entities).toEqual(want);
  });

  it('answers Users with their own newest orders, interleaved and repeated', async () => {
    const users = [33, 4, 9999, 17, 1, 4, 50];
    const result = await harness.query(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id orders(first: 2) { ${FIELDS} } } } }`, {
      reps: users.map((id) => ({ __typename: 'User', id: String(id) })),
    });
    expect(result.errors).toBeUndefined();
    const want = await Promise.all(users.map(async (id) => {
      const rows = await harness.client.order.findMany({ where: { userId: id }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 2 });
      return { id: String(id), orders: await Promise.all(rows.map(shape)) };
    }));
    expect(want.filter((u) => u.orders.length > 0).length).toBeGreaterThanOrEqual(4);
    expect(result.data?._entities).toEqual(want);
  });

  it('binds the order and item statements to exactly the orders asked for', async () => {
    // 4 distinct orders, one unknown: a statement without its key filter would answer the same,
    // reading every order and every item for each batch.
    const ids = [120, 7, 99999, 7, 64];
    const counted = await harness.countStatements(() =>
      harness.query(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Order { id items { quantity } } } }`, {
        reps: ids.map((id) => ({ __typename: 'Order', id: String(id) })),
      }),
    );
    const { result } = counted;
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities.map((order: { id: string } | null) => order?.id ?? null)).toEqual(['120', '7', null, '7', '64']);
    // The items statement asks for the 3 orders found, not the unknown one.
    expect(keyedReads(counted)).toEqual([
      { table: 'orders', column: 'id', keys: [7, 64, 120, 99999] },
      { table: 'order_items', column: 'order_id', keys: [7, 64, 120] },
    ]);
  });

  it("lists an order's items by id, whatever order the rows are stored in", async () => {
    // Stored highest id first: without its ORDER BY the statement returns them as stored.
    await harness.client.order.create({
      data: {
        id: 900_001,
        userId: 5,
        status: 'CONFIRMED',
        items: {
          create: [
            { id: 900_013, productId: 30, quantity: 3, unitPriceCents: 300 },
            { id: 900_012, productId: 20, quantity: 2, unitPriceCents: 200 },
            { id: 900_011, productId: 10, quantity: 1, unitPriceCents: 100 },
          ],
        },
      },
    });
    const result = await harness.query(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Order { id items { quantity unitPriceCents product { id } } } } }`, {
      reps: [{ __typename: 'Order', id: '900001' }, { __typename: 'Order', id: '7' }],
    });
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities[0]).toEqual({
      id: '900001',
      items: [
        { quantity: 1, unitPriceCents: 100, product: { id: '10' } },
        { quantity: 2, unitPriceCents: 200, product: { id: '20' } },
        { quantity: 3, unitPriceCents: 300, product: { id: '30' } },
      ],
    });
  });
});
