import { randomUUID } from 'node:crypto';
import { createReceiver, SEED, seedUserEmail } from '@commerce/service-kit';
import { ADMIN, ANONYMOUS_CALLER, asUser, errorCodes, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { GHOST_EMAIL, seedStock, seedWaitlist } from '../src/seed.ts';
import { inventory } from '../src/server.ts';

let harness: SubgraphHarness<PrismaClient>;

beforeAll(async () => {
  // As the admin: these tests are about data and writes; authorization has its own tests below.
  harness = await subgraphHarness(inventory, { viewer: ADMIN });
});
afterAll(() => harness?.close());

const ENTITIES = `query($reps: [_Any!]!) {
  _entities(representations: $reps) { ... on Product { id stock inStock shippingEstimateCents waitlist { email } } }
}`;
const ref = (id: string | number, extra: Record<string, unknown> = {}) => ({ __typename: 'Product', id: String(id), ...extra });

/** Counts the SQL statements the Prisma client sends while `run` executes. */
const countStatements = async (run: () => Promise<unknown>) => (await harness.countStatements(run)).statements;

const stockOf = async (productId: number) => (await harness.client.inventoryItem.findUnique({ where: { productId } }))?.stock;

describe('seed', () => {
  it('stocks every product, with every tenth one out of stock', async () => {
    const rows = await harness.client.inventoryItem.findMany({ orderBy: { productId: 'asc' } });
    expect(rows.map((row) => row.productId)).toEqual(Array.from({ length: SEED.products }, (_, i) => i + 1));
    for (const row of rows) {
      expect(row.stock).toBe(seedStock(row.productId));
      if (row.productId % 10 === 0) expect(row.stock).toBe(0);
      else {
        expect(row.stock).toBeGreaterThanOrEqual(1);
        expect(row.stock).toBeLessThanOrEqual(120);
      }
    }
  });

  it('waitlists three distinct seeded users on every out-of-stock product, plus the ghost on product 10', async () => {
    const rows = await harness.client.waitlistEntry.findMany({ orderBy: { id: 'asc' } });
    expect(rows).toHaveLength(20 * 3 + 1);
    expect(rows.map(({ productId, email, createdAt }) => ({ productId, email, createdAt }))).toEqual(
      Array.from({ length: SEED.products }, (_, i) => seedWaitlist(i + 1).map((entry) => ({ productId: i + 1, ...entry }))).flat(),
    );
    expect(seedWaitlist(10).map((entry) => entry.email)).toEqual([
      seedUserEmail(21),
      seedUserEmail(34),
      seedUserEmail(47),
      GHOST_EMAIL,
    ]);
    expect(new Set(rows.map((row) => row.createdAt.getTime())).size).toBe(rows.length);
  });
});

describe('Product entities', () => {
  it('resolves stock, inStock and waitlist from id alone; no shipping estimate without @requires fields', async () => {
    const result = await harness.query(ENTITIES, { reps: [ref(1), ref(10), ref(20)] });
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([
      { id: '1', stock: seedStock(1), inStock: true, shippingEstimateCents: null, waitlist: [] },
      {
        id: '10',
        stock: 0,
        inStock: false,
        shippingEstimateCents: null,
        waitlist: seedWaitlist(10).map(({ email }) => ({ email })),
      },
      { id: '20', stock: 0, inStock: false, shippingEstimateCents: null, waitlist: seedWaitlist(20).map(({ email }) => ({ email })) },
    ]);
    expect(result.data?._entities[1].waitlist.at(-1)).toEqual({ email: 'ghost@example.com' });
  });

  it('estimates shipping from the priceCents and weightGrams the router sends', async () => {
    const result = await harness.query(
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id shippingEstimateCents } } }`,
      {
        reps: [
          ref(2, { priceCents: 9999, weightGrams: 500 }),
          ref(3, { priceCents: 9999, weightGrams: 501 }),
          ref(4, { priceCents: 10000, weightGrams: 501 }),
          ref(5, { priceCents: 1999 }),
          ref(6, { priceCents: '1999', weightGrams: 300 }),
        ],
      },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([
      { id: '2', shippingEstimateCents: 598 },
      { id: '3', shippingEstimateCents: 697 },
      { id: '4', shippingEstimateCents: 0 },
      // Half a representation, or a non-integer, is no basis for an estimate.
      { id: '5', shippingEstimateCents: null },
      { id: '6', shippingEstimateCents: null },
    ]);
  });

  it('gives stock 0 for a product inventory never stocked, null for a malformed id, in order', async () => {
    const result = await harness.query(ENTITIES, { reps: [ref(99999), ref('abc'), ref(7), ref('-1'), ref('0')] });
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([
      { id: '99999', stock: 0, inStock: false, shippingEstimateCents: null, waitlist: [] },
      null,
      { id: '7', stock: seedStock(7), inStock: true, shippingEstimateCents: null, waitlist: [] },
      null,
      null,
    ]);
  });

  it('batches: one statement for stock and inStock, one for waitlists, however many products', async () => {
    const reps = Array.from({ length: 100 }, (_, i) => ref(i + 1, { priceCents: 5000, weightGrams: 1000 }));
    let result: any;
    const statements = await countStatements(async () => {
      result = await harness.query(ENTITIES, { reps });
    });
    expect(result.errors).toBeUndefined();
    expect(result.data._entities.map((e: { stock: number }) => e.stock)).toEqual(reps.map((_, i) => seedStock(i + 1)));
    expect(result.data._entities.filter((e: { waitlist: unknown[] }) => e.waitlist.length > 0).map((e: { id: string }) => e.id)).toEqual(
      Array.from({ length: 10 }, (_, i) => String(10 * (i + 1))),
    );
    expect(statements).toBe(2);
  });

  it('publishes its SDL with the key and @requires', async () => {
    const result = await harness.query(`{ _service { sdl } }`);
    const sdl: string = result.data?._service.sdl;
    expect(sdl).toContain('type Product @key(fields: "id")');
    expect(sdl).toContain('@requires(fields: "priceCents weightGrams")');
    expect(sdl).toContain('type User @key(fields: "email", resolvable: false)');
  });
});

describe('restock', () => {
  it('adds to the stock in one statement, then writes its StockChanged event, and returns it', async () => {
    const before = seedStock(1);
    let result: any;
    const { sql } = await harness.countStatements(async () => {
      result = await harness.query(`mutation { restock(productId: "1", quantity: 5) { product { id stock inStock } } }`);
    });
    expect(result.errors).toBeUndefined();
    expect(result.data.restock.product).toEqual({ id: '1', stock: before + 5, inStock: true });
    expect(sql).toEqual([expect.stringContaining('INSERT INTO inventory_items'), expect.stringContaining('INSERT INTO outbox_events')]);
    expect(await stockOf(1)).toBe(before + 5);
  });

  it('brings an out-of-stock product back in stock', async () => {
    const result = await harness.query(`mutation { restock(productId: "30", quantity: 3) { product { id stock inStock } } }`);
    expect(result.data?.restock.product).toEqual({ id: '30', stock: 3, inStock: true });
    const entity = await harness.query(ENTITIES, { reps: [ref(30)] });
    expect(entity.data?._entities[0]).toMatchObject({ stock: 3, inStock: true });
  });

  it('refuses a product the catalogue does not have with NOT_FOUND and writes nothing', async () => {
    const result = await harness.query(`mutation { restock(productId: "5000", quantity: 42) { product { id stock } } }`);
    expect(errorCodes(result)).toEqual(['NOT_FOUND']);
    expect(result.errors?.[0]?.extensions).toEqual({ code: 'NOT_FOUND', typename: 'Product', id: '5000' });
    expect(result.data).toBeNull();
    expect(await stockOf(5000)).toBeUndefined();
    expect(await harness.client.stockMovement.count({ where: { productId: 5000 } })).toBe(0);
  });

  it('creates the row for a product the catalogue has and inventory has never stocked', async () => {
    const receive = createReceiver(harness.database.sql, inventory.eventHandlers!);
    const created = { productId: 5001, sku: 'SKU-5001', name: 'New Thing', priceCents: 100, revision: 1 };
    const event = { id: randomUUID(), source: 'products', type: 'ProductCreated', version: 1, aggregate: 'product:5001', sequence: 1, occurredAt: new Date().toISOString(), payload: created };
    expect(await receive(event, { attempt: 1, maxAttempts: 5 })).toEqual({ outcome: 'handled' });
    const result = await harness.query(`mutation { restock(productId: "5001", quantity: 42) { product { id stock } } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data?.restock.product).toEqual({ id: '5001', stock: 42 });
    expect(await stockOf(5001)).toBe(42);
  });

  it('loses no update under 200 concurrent restocks of one product', async () => {
    const before = seedStock(2);
    const results = await Promise.all(
      Array.from({ length: 200 }, () => harness.query(`mutation { restock(productId: "2", quantity: 1) { product { stock } } }`)),
    );
    expect(results.flatMap(errorCodes)).toEqual([]);
    expect(await stockOf(2)).toBe(before + 200);
    // Every call saw a different stock level: each one's increment was applied on top of the last.
    expect(new Set(results.map((r) => r.data?.restock.product.stock)).size).toBe(200);
  });

  it('refuses to go over the cap of 1000000 and changes nothing', async () => {
    await harness.client.inventoryItem.update({ where: { productId: 3 }, data: { stock: 999_990 } });
    const atCap = await harness.query(`mutation { restock(productId: "3", quantity: 10) { product { stock } } }`);
    expect(atCap.data?.restock.product.stock).toBe(1_000_000);

    const over = await harness.query(`mutation { restock(productId: "3", quantity: 1) { product { stock } } }`);
    expect(errorCodes(over)).toEqual(['BAD_USER_INPUT']);
    expect(over.errors?.[0]?.extensions?.field).toBe('quantity');
    expect(over.errors?.[0]?.message).toContain('maximum stock is 1000000');
    expect(await stockOf(3)).toBe(1_000_000);
  });

  it('lets exactly enough concurrent restocks through to reach the cap', async () => {
    await harness.client.inventoryItem.update({ where: { productId: 4 }, data: { stock: 999_900 } });
    const results = await Promise.all(
      Array.from({ length: 150 }, () => harness.query(`mutation { restock(productId: "4", quantity: 1) { product { stock } } }`)),
    );
    expect(results.filter((r) => !r.errors)).toHaveLength(100);
    expect(results.flatMap(errorCodes)).toEqual(Array(50).fill('BAD_USER_INPUT'));
    expect(await stockOf(4)).toBe(1_000_000);
  });

  it.each([
    ['malformed productId', `mutation { restock(productId: "abc", quantity: 1) { product { id } } }`, 'productId'],
    ['negative productId', `mutation { restock(productId: "-3", quantity: 1) { product { id } } }`, 'productId'],
    ['productId beyond int4', `mutation { restock(productId: "99999999999", quantity: 1) { product { id } } }`, 'productId'],
    ['zero quantity', `mutation { restock(productId: "1", quantity: 0) { product { id } } }`, 'quantity'],
    ['negative quantity', `mutation { restock(productId: "1", quantity: -5) { product { id } } }`, 'quantity'],
    ['quantity over the bound', `mutation { restock(productId: "1", quantity: 100001) { product { id } } }`, 'quantity'],
  ])('%s → BAD_USER_INPUT', async (_name, query, field) => {
    const before = await harness.client.inventoryItem.findMany({ orderBy: { productId: 'asc' } });
    const result = await harness.query(query);
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions?.field).toBe(field);
    expect(JSON.stringify(result.errors)).not.toMatch(/stacktrace|prisma|at .*\.ts/i);
    expect(await harness.client.inventoryItem.findMany({ orderBy: { productId: 'asc' } })).toEqual(before);
  });

  it('accepts the largest quantity', async () => {
    const result = await harness.query(`mutation { restock(productId: "50", quantity: 100000) { product { stock } } }`);
    expect(result.data?.restock.product.stock).toBe(100_000);
  });
});

describe('authorization', () => {
  it.each([
    ['anonymous', ANONYMOUS_CALLER, 'UNAUTHENTICATED'],
    ['a customer', asUser(2), 'FORBIDDEN'],
  ])('refuses restock by %s with %s and leaves the stock alone', async (_who, caller, code) => {
    const before = (await harness.client.inventoryItem.findUniqueOrThrow({ where: { productId: 9 } })).stock;
    const result = await harness.query(`mutation { restock(productId: "9", quantity: 100000) { product { stock } } }`, undefined, caller);
    expect(errorCodes(result)).toEqual([code]);
    expect((await harness.client.inventoryItem.findUniqueOrThrow({ where: { productId: 9 } })).stock).toBe(before);
  });

  it('shows waitlists (people’s emails) to admins only; stock to anyone', async () => {
    const query = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { stock waitlist { email } } } }`;
    const reps = { reps: [{ __typename: 'Product', id: '10' }] };
    const customer = await harness.query(query, reps, asUser(2));
    expect(customer.data?._entities).toEqual([{ stock: 0, waitlist: null }]);
    expect(errorCodes(customer)).toEqual(['FORBIDDEN']);
    const anonymous = await harness.query(query, reps, ANONYMOUS_CALLER);
    expect(errorCodes(anonymous)).toEqual(['UNAUTHENTICATED']);
    const admin = await harness.query(query, reps, ADMIN);
    expect(admin.errors).toBeUndefined();
    expect(admin.data?._entities[0].waitlist).toHaveLength(seedWaitlist(10).length);
  });
});
