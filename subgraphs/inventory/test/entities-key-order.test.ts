// `_entities` with its representations in no particular order: the router batches whatever keys
// a plan step collects, in whatever order it meets them, and maps the answers back by position.
// A loader that returned its rows in any order but the keys' (sorted, by row order, deduplicated)
// would hand one product another's stock or waitlist; ascending keys would never show it.
import { ADMIN, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
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
});
