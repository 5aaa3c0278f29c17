import { seedProductPriceCents, SEED } from '@commerce/service-kit';
import { ADMIN, ANONYMOUS_CALLER, asUser, errorCodes, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { seedOrders } from '../src/seed.ts';
import { orders } from '../src/server.ts';

let harness: SubgraphHarness<PrismaClient>;

beforeAll(async () => {
  // As the admin: these tests are about data and writes; authorization has its own tests below.
  harness = await subgraphHarness(orders, { viewer: ADMIN });
});
afterAll(() => harness?.close());

/** Runs an operation and reports how many SQL statements it took. */
async function counted(query: string, variables?: Record<string, unknown>) {
  const { result, statements } = await harness.countStatements(() => harness.query(query, variables));
  return { result, statements };
}

const total = (items: { quantity: number; unitPriceCents: number }[]) =>
  items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0);

/** What the API should say about an order, computed from its database rows. */
function expectedOrder(order: { id: number; userId: number; status: string; createdAt: Date; items: { productId: number; quantity: number; unitPriceCents: number }[] }) {
  return {
    id: String(order.id),
    user: { id: String(order.userId) },
    status: order.status,
    createdAt: order.createdAt.toISOString(),
    totalCents: total(order.items),
    items: order.items.map((item) => ({
      product: { id: String(item.productId) },
      quantity: item.quantity,
      unitPriceCents: item.unitPriceCents,
    })),
  };
}

const ORDER_FIELDS = `id user { id } status createdAt totalCents items { product { id } quantity unitPriceCents }`;

const ENTITIES = `query($reps: [_Any!]!) { _entities(representations: $reps) {
  ... on Order { ${ORDER_FIELDS} }
  ... on User { id orders { id createdAt } }
} }`;

describe('seed', () => {
  it('stores exactly the rows seedOrders() describes', async () => {
    const seeded = seedOrders();
    const rows = await harness.client.order.findMany({ orderBy: { id: 'asc' }, include: { items: { orderBy: { id: 'asc' } } } });
    expect(rows).toEqual(seeded);
    expect(rows).toHaveLength(SEED.orders);
    expect(await harness.client.orderItem.count()).toBe(359);
  });

  it('keeps references in range, products distinct per order and prices from the catalogue', () => {
    const seeded = seedOrders();
    for (const order of seeded) {
      expect(order.userId).toBeGreaterThanOrEqual(1);
      expect(order.userId).toBeLessThanOrEqual(SEED.users);
      expect(order.items.length).toBeGreaterThanOrEqual(1);
      expect(order.items.length).toBeLessThanOrEqual(4);
      expect(new Set(order.items.map((item) => item.productId)).size).toBe(order.items.length);
      for (const item of order.items) {
        expect(item.productId).toBeGreaterThanOrEqual(1);
        expect(item.productId).toBeLessThanOrEqual(SEED.products);
        expect([1, 2, 3]).toContain(item.quantity);
        expect(item.unitPriceCents).toBe(seedProductPriceCents(item.productId));
      }
    }
    expect(new Set(seeded.map((order) => order.createdAt.getTime())).size).toBe(SEED.orders);
  });

  it('gives user 1 orders 1, 2 and 101 (cross-service tests rely on these values)', () => {
    const mine = seedOrders().filter((order) => order.userId === 1);
    expect(mine.map((order) => ({ id: order.id, status: order.status, total: total(order.items) }))).toEqual([
      { id: 1, status: 'DELIVERED', total: 84197 },
      { id: 2, status: 'DELIVERED', total: 173393 },
      { id: 101, status: 'PAID', total: 83998 },
    ]);
  });
});

describe('order', () => {
  it('returns a seeded order with its items, total and user', async () => {
    const result = await harness.query(`{ order(id: "1") { ${ORDER_FIELDS} } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data?.order).toEqual({
      id: '1',
      user: { id: '1' },
      status: 'DELIVERED',
      createdAt: '2026-03-02T00:01:00.000Z',
      totalCents: 84197,
      items: [
        { product: { id: '189' }, quantity: 2, unitPriceCents: 26799 },
        { product: { id: '110' }, quantity: 1, unitPriceCents: 30599 },
      ],
    });
  });

  it('matches the database for every order, in two statements for all of them', async () => {
    const rows = await harness.client.order.findMany({ orderBy: { id: 'asc' }, include: { items: { orderBy: { id: 'asc' } } } });
    const { result, statements: count } = await counted(ENTITIES, {
      reps: rows.map((row) => ({ __typename: 'Order', id: String(row.id) })),
    });
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual(rows.map(expectedOrder));
    // One for the orders, one for all their items (items and totalCents share it).
    expect(count).toBe(2);
  });
});

describe('User.orders', () => {
  it('lists every user’s orders newest first, for all users in one statement', async () => {
    const rows = await harness.client.order.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
    const userIds = Array.from({ length: SEED.users }, (_, i) => i + 1);
    const { result, statements: count } = await counted(ENTITIES, {
      reps: userIds.map((id) => ({ __typename: 'User', id: String(id) })),
    });
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual(
      userIds.map((id) => ({
        id: String(id),
        orders: rows.filter((row) => row.userId === id).map((row) => ({ id: String(row.id), createdAt: row.createdAt.toISOString() })),
      })),
    );
    expect(count).toBe(1);
  });

  it('gives user 1 orders 101, 2, 1 with their statuses', async () => {
    const result = await harness.query(
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { orders { id status totalCents } } } }`,
      { reps: [{ __typename: 'User', id: '1' }] },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([
      {
        orders: [
          { id: '101', status: 'PAID', totalCents: 83998 },
          { id: '2', status: 'DELIVERED', totalCents: 173393 },
          { id: '1', status: 'DELIVERED', totalCents: 84197 },
        ],
      },
    ]);
  });

  it('bounds the list by first, per user, in one statement for the batch', async () => {
    const newest = await harness.client.order.findMany({ where: { userId: 46 }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
    expect(newest).toHaveLength(7);
    const { result, statements: count } = await counted(
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id three: orders(first: 3) { id } one: orders(first: 1) { id } all: orders { id } } } }`,
      { reps: [{ __typename: 'User', id: '46' }, { __typename: 'User', id: '1' }] },
    );
    expect(result.errors).toBeUndefined();
    const ids = (n: number) => newest.slice(0, n).map((row) => ({ id: String(row.id) }));
    expect(result.data?._entities).toEqual([
      { id: '46', three: ids(3), one: ids(1), all: ids(7) },
      { id: '1', three: [{ id: '101' }, { id: '2' }, { id: '1' }], one: [{ id: '101' }], all: [{ id: '101' }, { id: '2' }, { id: '1' }] },
    ]);
    expect(count).toBe(1);
  });

  it('loads nested items and totals with one more statement, not one per order', async () => {
    const { result, statements: count } = await counted(
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { orders { totalCents items { quantity } } } } }`,
      { reps: Array.from({ length: SEED.users }, (_, i) => ({ __typename: 'User', id: String(i + 1) })) },
    );
    expect(result.errors).toBeUndefined();
    expect(count).toBe(2);
  });

  it.each([
    ['zero', 0],
    ['over the bound', 101],
    ['negative', -1],
  ])('rejects a page size of %s with BAD_USER_INPUT on first', async (_name, first) => {
    const result = await harness.query(
      `query($reps: [_Any!]!, $first: Int) { _entities(representations: $reps) { ... on User { id orders(first: $first) { id } } } }`,
      { reps: [{ __typename: 'User', id: '1' }], first },
    );
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions?.field).toBe('first');
    expect(result.data?._entities).toEqual([{ id: '1', orders: null }]);
  });

  it('accepts the bounds 1 and 100', async () => {
    const result = await harness.query(
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { a: orders(first: 1) { id } b: orders(first: 100) { id } } } }`,
      { reps: [{ __typename: 'User', id: '1' }] },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([{ a: [{ id: '101' }], b: [{ id: '101' }, { id: '2' }, { id: '1' }] }]);
  });
});

describe('bad input', () => {
  it.each([
    ['malformed id', `{ order(id: "abc") { id } }`, 'BAD_USER_INPUT'],
    ['zero id', `{ order(id: "0") { id } }`, 'BAD_USER_INPUT'],
    ['negative id', `{ order(id: "-3") { id } }`, 'BAD_USER_INPUT'],
    ['id beyond int4', `{ order(id: "99999999999") { id } }`, 'BAD_USER_INPUT'],
    ['unknown id', `{ order(id: "9999") { id } }`, 'NOT_FOUND'],
  ])('%s → %s', async (_name, query, code) => {
    const result = await harness.query(query);
    expect(errorCodes(result)).toEqual([code]);
    expect(result.data?.order).toBeNull();
    expect(JSON.stringify(result.errors)).not.toMatch(/stacktrace|prisma|at .*\.ts/i);
  });

  it('names the offending argument', async () => {
    const result = await harness.query(`{ order(id: "abc") { id } }`);
    expect(result.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'id' });
  });

  it('says which order was not found', async () => {
    const result = await harness.query(`{ order(id: "9999") { id } }`);
    expect(result.errors?.[0]?.extensions).toEqual({ code: 'NOT_FOUND', typename: 'Order', id: '9999' });
  });
});

describe('federation', () => {
  it('resolves Order entities by id, in order, with null for misses', async () => {
    const rows = await harness.client.order.findMany({ where: { id: { in: [1, 3] } }, include: { items: { orderBy: { id: 'asc' } } } });
    const byId = (id: number) => expectedOrder(rows.find((row) => row.id === id)!);
    const result = await harness.query(ENTITIES, {
      reps: [
        { __typename: 'Order', id: '3' },
        { __typename: 'Order', id: '404' },
        { __typename: 'Order', id: 'not-an-id' },
        { __typename: 'Order', id: '1' },
        { __typename: 'Order', id: '0' },
        { __typename: 'Order', id: '3' },
      ],
    });
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([byId(3), null, null, byId(1), null, byId(3)]);
  });

  it('resolves User entities by id: no orders gives [], a malformed id gives null', async () => {
    const result = await harness.query(ENTITIES, {
      reps: [
        { __typename: 'User', id: '8' }, // a seeded user without orders
        { __typename: 'User', id: 'x1' },
        { __typename: 'User', id: '9999' }, // unknown to orders, which does not own users
        { __typename: 'User', id: '1' },
        { __typename: 'User', id: '-1' },
      ],
    });
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([
      { id: '8', orders: [] },
      null,
      { id: '9999', orders: [] },
      {
        id: '1',
        orders: [
          { id: '101', createdAt: '2026-03-02T01:41:00.000Z' },
          { id: '2', createdAt: '2026-03-02T00:02:00.000Z' },
          { id: '1', createdAt: '2026-03-02T00:01:00.000Z' },
        ],
      },
      null,
    ]);
  });

  it('publishes its SDL with its keys and the unresolvable Product stub', async () => {
    const result = await harness.query(`{ _service { sdl } }`);
    const sdl: string = result.data?._service.sdl;
    expect(sdl).toMatch(/type Order @key\(fields: "id"\)/);
    expect(sdl).toMatch(/type User @key\(fields: "id"\)/);
    expect(sdl).toMatch(/type Product @key\(fields: "id", resolvable: false\)/);
  });
});

// Last: these write rows (for a user outside the seed range, so nothing above could see them).
describe('database', () => {
  it('continues the id sequences past the seed', async () => {
    const order = await harness.client.order.create({
      data: { userId: 77, status: 'PENDING', items: { create: [{ productId: 5, quantity: 1, unitPriceCents: 99 }] } },
      include: { items: true },
    });
    expect(order.id).toBe(SEED.orders + 1);
    expect(order.items.map((item) => item.id)).toEqual([360]);
  });

  it.each([
    ['a quantity of zero', { quantity: 0, unitPriceCents: 100 }, /order_items_quantity_check/],
    ['a negative price', { quantity: 1, unitPriceCents: -1 }, /order_items_unit_price_cents_check/],
  ])('refuses an item with %s', async (_name, values, constraint) => {
    await expect(harness.client.orderItem.create({ data: { orderId: 1, productId: 7, ...values } })).rejects.toThrow(constraint);
  });

  it('refuses an item of an order that does not exist', async () => {
    await expect(
      harness.client.orderItem.create({ data: { orderId: 99_999, productId: 7, quantity: 1, unitPriceCents: 100 } }),
    ).rejects.toThrow(/order_items_order_id_fkey|Foreign key/i);
  });
});

describe('authorization', () => {
  it('shows an order to the user who placed it and to admins', async () => {
    const own = await harness.query(`{ order(id: "1") { id status user { id } } }`, undefined, asUser(1));
    expect(own.errors).toBeUndefined();
    expect(own.data?.order).toEqual({ id: '1', status: 'DELIVERED', user: { id: '1' } });
  });

  it.each([
    ['anonymous', ANONYMOUS_CALLER, 'UNAUTHENTICATED'],
    ['another user', asUser(2), 'FORBIDDEN'],
  ])('refuses another’s order to %s with %s: null, never the data', async (_who, caller, code) => {
    const result = await harness.query(`{ order(id: "1") { id status totalCents items { quantity } } }`, undefined, caller);
    expect(result.data?.order).toBeNull();
    expect(new Set(errorCodes(result))).toEqual(new Set([code]));
    expect(JSON.stringify(result)).not.toMatch(/DELIVERED|84197/);
  });

  it('lists a user’s orders to that user only: one error for the field, not one per order', async () => {
    const query = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id orders { id } } } }`;
    const reps = { reps: [{ __typename: 'User', id: '1' }, { __typename: 'User', id: '2' }] };
    const result = await harness.query(query, reps, asUser(2));
    expect(result.data?._entities[0]).toEqual({ id: '1', orders: null });
    expect(result.data?._entities[1].orders.length).toBe(seedOrders().filter((o) => o.userId === 2).length);
    expect(errorCodes(result)).toEqual(['FORBIDDEN']);
  });
});
