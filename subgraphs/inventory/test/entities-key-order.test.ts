// `_entities` with its representations in no particular order: the router batches whatever keys
// a plan step collects, in whatever order it meets them, and maps the answers back by position.
// A loader that returned its rows in any order but the keys' (sorted, by row order, deduplicated)
// would hand one product another's stock or waitlist; ascending keys would never show it.
import { ADMIN, keyedReadsByColumn, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { inventory } from '../src/server.ts';

let harness: SubgraphHarness<PrismaClient>;

beforeAll(async () => {
  harness = await subgraphHarness(inventory, { viewer: ADMIN });
});
afterAll(() => harness?.close());

// Descending, interleaved, repeated, a product inventory never stocked (4242) and one in stock
// between products with waitlists (every tenth product is out of stock and has one).
const KEYS = [30, 10, 200, 7, 20, 4242, 150, 10, 1, 60];

/** What the service's own rows say about a product, read one key at a time (no loader). */
async function expected(productId: number) {
  const item = await harness.client.inventoryItem.findUnique({ where: { productId } });
  const waitlist = await harness.client.waitlistEntry.findMany({ where: { productId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  const stock = item?.stock ?? 0;
  return { id: String(productId), stock, inStock: stock > 0, waitlist: waitlist.map(({ email }) => ({ email })) };
}

describe('Product entities in shuffled key order', () => {
  it('answers each representation with its own stock and waitlist, in the order asked', async () => {
    const result = await harness.query(
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id stock inStock waitlist { email } } } }`,
      { reps: KEYS.map((id) => ({ __typename: 'Product', id: String(id) })) },
    );
    expect(result.errors).toBeUndefined();
    const want = await Promise.all(KEYS.map(expected));
    expect(result.data?._entities).toEqual(want);
    // The check is not vacuous: several products in the batch have waitlists, and they differ.
    expect(new Set(want.filter((p) => p.waitlist.length > 0).map((p) => JSON.stringify(p.waitlist))).size).toBeGreaterThanOrEqual(4);
  });

  it('reads each batch with one statement per loader, whatever the order', async () => {
    const { result, statements } = await harness.countStatements(() =>
      harness.query(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { stock waitlist { email } } } }`, {
        reps: KEYS.map((id) => ({ __typename: 'Product', id: String(id) })),
      }),
    );
    expect(result.errors).toBeUndefined();
    expect(statements).toBe(2);
  });

  it('binds each statement to exactly the products asked for', async () => {
    // 9 distinct products: a statement without its key filter would answer the same, reading
    // every stock row and every waitlist for each batch.
    const counted = await harness.countStatements(() =>
      harness.query(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { stock waitlist { email } } } }`, {
        reps: KEYS.map((id) => ({ __typename: 'Product', id: String(id) })),
      }),
    );
    expect(counted.result.errors).toBeUndefined();
    const keys = [...new Set(KEYS)].sort((a, b) => a - b);
    expect(keyedReadsByColumn(counted)).toEqual({ 'inventory_items.product_id': keys, 'waitlist_entries.product_id': keys });
  });

  it('lists a waitlist in the order people joined, ties by id, whatever order the rows are stored in', async () => {
    // Product 33 is in stock with no seeded waitlist. Stored (and numbered) out of order: the
    // newest entries first, a tie in created_at stored higher id first, the earliest with the
    // highest id.
    const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 12, minute));
    await harness.client.waitlistEntry.createMany({
      data: [
        { id: 900_004, productId: 33, email: 'fourth@example.com', createdAt: at(30) },
        { id: 900_003, productId: 33, email: 'third@example.com', createdAt: at(30) },
        { id: 900_005, productId: 33, email: 'first@example.com', createdAt: at(10) },
        { id: 900_002, productId: 33, email: 'second@example.com', createdAt: at(20) },
      ],
    });
    const result = await harness.query(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id waitlist { email } } } }`, {
      reps: [{ __typename: 'Product', id: '33' }, { __typename: 'Product', id: '30' }],
    });
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities[0]).toEqual({
      id: '33',
      waitlist: [{ email: 'first@example.com' }, { email: 'second@example.com' }, { email: 'third@example.com' }, { email: 'fourth@example.com' }],
    });
  });
});
