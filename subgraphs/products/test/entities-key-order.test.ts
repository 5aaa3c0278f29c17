// `_entities` with its representations in no particular order, by either key: the router maps
// answers back by position, so a loader returning rows in any order but the keys' would give one
// product another's name and price. Ascending ids (what most tests send) would never show it.
import { keyedReadsByColumn, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient, Product } from '../src/generated/prisma/client.ts';
import { products } from '../src/server.ts';

let harness: SubgraphHarness<PrismaClient>;

beforeAll(async () => {
  harness = await subgraphHarness(products);
});
afterAll(() => harness?.close());

const FIELDS = 'id sku name description priceCents weightGrams category';
const shape = (row: Product | null) =>
  row && { id: String(row.id), sku: row.sku, name: row.name, description: row.description, priceCents: row.priceCents, weightGrams: row.weightGrams, category: row.category };

describe('Product entities in shuffled key order', () => {
  it('answers ids and SKUs mixed, repeated and unknown, each with its own row, in the order asked', async () => {
    const reps = [
      { id: '150' },
      { sku: 'SKU-0003' },
      { id: '2' },
      { id: '99999' },
      { sku: 'sku-0120' },
      { id: '150' },
      { sku: 'SKU-9999' },
      { id: '77' },
      { sku: 'SKU-0001' },
      { id: '40' },
    ];
    const result = await harness.query(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { ${FIELDS} } } }`, {
      reps: reps.map((rep) => ({ __typename: 'Product', ...rep })),
    });
    expect(result.errors).toBeUndefined();
    // The service's own rows, one key at a time (no loader).
    const want = await Promise.all(
      reps.map(async (rep) =>
        shape('id' in rep ? await harness.client.product.findUnique({ where: { id: Number(rep.id) } }) : await harness.client.product.findUnique({ where: { sku: rep.sku!.toUpperCase() } })),
      ),
    );
    expect(want.filter((p) => p === null)).toHaveLength(2);
    expect(result.data?._entities).toEqual(want);
  });

  it('reads a batch with one statement per key kind, each bound to exactly the keys asked for', async () => {
    // 3 distinct ids and 3 distinct SKUs (one unknown of each): a statement without its key
    // filter would answer the same, reading the whole catalogue for each batch.
    const reps = [{ id: '150' }, { sku: 'SKU-0003' }, { id: '99999' }, { sku: 'sku-0120' }, { id: '150' }, { id: '2' }, { sku: 'SKU-9999' }];
    const counted = await harness.countStatements(() =>
      harness.query(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id sku } } }`, {
        reps: reps.map((rep) => ({ __typename: 'Product', ...rep })),
      }),
    );
    const { result } = counted;
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([
      { id: '150', sku: 'SKU-0150' },
      { id: '3', sku: 'SKU-0003' },
      null,
      { id: '120', sku: 'SKU-0120' },
      { id: '150', sku: 'SKU-0150' },
      { id: '2', sku: 'SKU-0002' },
      null,
    ]);
    expect(keyedReadsByColumn(counted)).toEqual({
      'products.id': [2, 150, 99999],
      'products.sku': ['SKU-0003', 'SKU-0120', 'SKU-9999'],
    });
  });
});
