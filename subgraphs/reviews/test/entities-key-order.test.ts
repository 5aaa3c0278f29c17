// `_entities` with its representations in no particular order: the router maps answers back by
// position, so a loader returning rows, lists or stats in any order but the keys' would give one
// product another's reviews or rating. Ascending ids (what most tests send) would never show it.
import { keyedReadsByColumn, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient, Review } from '../src/generated/prisma/client.ts';
import { reviews } from '../src/server.ts';

let harness: SubgraphHarness<PrismaClient>;

beforeAll(async () => {
  harness = await subgraphHarness(reviews);
});
afterAll(() => harness?.close());

const NEWEST_FIRST = [{ createdAt: 'desc' as const }, { id: 'desc' as const }];
const shape = (row: Review) => ({ id: String(row.id), rating: row.rating, body: row.body, createdAt: row.createdAt.toISOString(), author: { id: String(row.authorId) }, product: { id: String(row.productId) } });
const FIELDS = 'id rating body createdAt author { id } product { id }';

describe('entities in shuffled key order', () => {
  it('answers Review ids mixed, repeated and unknown, each with its own row', async () => {
    const ids = [311, 5, 99999, 120, 5, 42, 600, 1];
    const result = await harness.query(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Review { ${FIELDS} } } }`, {
      reps: ids.map((id) => ({ __typename: 'Review', id: String(id) })),
    });
    expect(result.errors).toBeUndefined();
    const want = await Promise.all(ids.map(async (id) => {
      const row = await harness.client.review.findUnique({ where: { id } });
      return row && shape(row);
    }));
    expect(want.filter((r) => r === null)).toHaveLength(1);
    expect(result.data?._entities).toEqual(want);
  });

  it("answers Products with their own newest reviews and exact stats, and Users with their own reviews, interleaved", async () => {
    const reps = [
      { __typename: 'Product', id: '150' },
      { __typename: 'User', id: '44' },
      { __typename: 'Product', id: '3' },
      { __typename: 'Product', id: '9999' },
      { __typename: 'User', id: '2' },
      { __typename: 'Product', id: '77' },
      { __typename: 'User', id: '9999' },
      { __typename: 'Product', id: '1' },
      { __typename: 'User', id: '17' },
    ];
    const result = await harness.query(
      `query($reps: [_Any!]!) { _entities(representations: $reps) {
        ... on Product { id reviews(first: 3) { ${FIELDS} } averageRating reviewCount }
        ... on User { id reviews(first: 2) { ${FIELDS} } }
      } }`,
      { reps },
    );
    expect(result.errors).toBeUndefined();
    // The service's own rows, one key at a time (no loader).
    const want = await Promise.all(
      reps.map(async ({ __typename, id }) => {
        if (__typename === 'User') {
          const rows = await harness.client.review.findMany({ where: { authorId: Number(id) }, orderBy: NEWEST_FIRST, take: 2 });
          return { id, reviews: rows.map(shape) };
        }
        const all = await harness.client.review.findMany({ where: { productId: Number(id) }, orderBy: NEWEST_FIRST });
        const sum = all.reduce((total, row) => total + row.rating, 0);
        return { id, reviews: all.slice(0, 3).map(shape), averageRating: all.length ? sum / all.length : null, reviewCount: all.length };
      }),
    );
    // Not vacuous: the products asked for have different counts and means.
    const stats = want.flatMap((w) => (w.reviewCount ? [`${w.reviewCount}/${w.averageRating}`] : []));
    expect(new Set(stats).size).toBeGreaterThanOrEqual(3);
    expect(result.data?._entities).toEqual(want);
  });

  it('binds the review and rating statements to exactly the keys asked for', async () => {
    // 3 distinct reviews and 3 distinct products, one unknown of each: a statement without its
    // key filter would answer the same, reading (or grouping) every review for each batch.
    const reps = [
      { __typename: 'Review', id: '311' },
      { __typename: 'Product', id: '150' },
      { __typename: 'Review', id: '99999' },
      { __typename: 'Product', id: '9999' },
      { __typename: 'Review', id: '311' },
      { __typename: 'Review', id: '5' },
      { __typename: 'Product', id: '3' },
    ];
    const counted = await harness.countStatements(() =>
      harness.query(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Review { id } ... on Product { id reviewCount } } }`, { reps }),
    );
    const { result } = counted;
    expect(result.errors).toBeUndefined();
    const counts = await Promise.all([150, 3].map((productId) => harness.client.review.count({ where: { productId } })));
    expect(counts.every((count) => count > 0)).toBe(true);
    expect(result.data?._entities).toEqual([
      { id: '311' },
      { id: '150', reviewCount: counts[0] },
      null,
      { id: '9999', reviewCount: 0 },
      { id: '311' },
      { id: '5' },
      { id: '3', reviewCount: counts[1] },
    ]);
    expect(keyedReadsByColumn(counted)).toEqual({
      'reviews.id': [5, 311, 99999],
      'reviews.product_id': [3, 150, 9999],
    });
  });
});
