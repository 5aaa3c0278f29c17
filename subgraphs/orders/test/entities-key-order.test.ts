// `_entities` with its representations in no particular order: the router maps answers back by
// position, so a loader returning orders, items or lists in any order but the keys' would show
// one customer another's order. Ascending ids (what most tests send) would never show it.
import { ADMIN, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
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
});
