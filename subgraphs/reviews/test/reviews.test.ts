import { SEED } from '@commerce/service-kit';
import { errorCodes, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { seedCatalog, seedReviews } from '../src/seed.ts';
import { reviews } from '../src/server.ts';
import { asGraphQL, countStatements, newestFirst, REVIEW_FIELDS } from './helpers.ts';

// Read-only: this file never writes, so every expectation can come straight from the seed rules.
let harness: SubgraphHarness<PrismaClient>;
const seeded = seedReviews();
const seededById = (id: number) => seeded.find((review) => review.id === id)!;

beforeAll(async () => {
  harness = await subgraphHarness(reviews);
});
afterAll(() => harness?.close());


function entities(reps: unknown[], selection: string, variables: Record<string, unknown> = {}) {
  const params = Object.keys(variables).map((name) => `, $${name}: Int`).join('');
  return harness.query(
    `query($reps: [_Any!]!${params}) { _entities(representations: $reps) { ${selection} } }`,
    { reps, ...variables },
  );
}

describe('seed', () => {
  it('stores exactly the rows the seed rules describe', async () => {
    const rows = await harness.client.review.findMany({ orderBy: { id: 'asc' } });
    expect(rows).toEqual(seeded);
    expect(rows).toHaveLength(SEED.reviews);
  });

  it('pins the first reviews and product 1, so a change to the rules is noticed', () => {
    expect(seeded[0]).toEqual({
      id: 1,
      productId: 193,
      authorId: 8,
      rating: 5,
      body: 'Excellent, exactly as described!',
      createdAt: new Date('2026-01-31T00:01:00.000Z'),
    });
    const product1 = seeded.filter((review) => review.productId === 1);
    expect(product1.map((review) => review.id)).toEqual([69, 191, 315, 461, 472, 474]);
    expect(product1.reduce((sum, review) => sum + review.rating, 0) / product1.length).toBe(3.5);
  });

  it('keeps references in range, covers every rating skewed to 4–5, and gives distinct minutes', () => {
    expect(seeded.every((r) => r.productId >= 1 && r.productId <= SEED.products)).toBe(true);
    expect(seeded.every((r) => r.authorId >= 1 && r.authorId <= SEED.users)).toBe(true);
    const perRating = [1, 2, 3, 4, 5].map((rating) => seeded.filter((r) => r.rating === rating).length);
    expect(perRating).toEqual([30, 57, 83, 177, 253]);
    expect(new Set(seeded.map((r) => r.createdAt.getTime())).size).toBe(SEED.reviews);
  });

  it('seeds the catalogue replica with every seeded product at revision 1, so every seeded review lines up', async () => {
    const replica = await harness.client.catalogProduct.findMany({ orderBy: { productId: 'asc' } });
    expect(replica.map(({ productId, revision }) => ({ productId, revision }))).toEqual(
      Array.from({ length: SEED.products }, (_, i) => ({ productId: i + 1, revision: 1 })),
    );
    expect(replica.map((row) => row.updatedAt)).toEqual(seedCatalog().map((row) => row.updatedAt));
    const known = new Set(replica.map((row) => row.productId));
    expect(seeded.filter((review) => !known.has(review.productId))).toEqual([]);
  });
});

describe('review(id)', () => {
  it('returns a seeded review with its author and product stubs', async () => {
    const result = await harness.query(`{ review(id: "1") { ${REVIEW_FIELDS} } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data?.review).toEqual({
      id: '1',
      rating: 5,
      body: 'Excellent, exactly as described!',
      createdAt: '2026-01-31T00:01:00.000Z',
      author: { id: '8' },
      product: { id: '193' },
    });
  });

  it('returns the last seeded review', async () => {
    const result = await harness.query(`{ review(id: "600") { ${REVIEW_FIELDS} } }`);
    expect(result.data?.review).toEqual(asGraphQL(seededById(600)));
  });

  it('gives NOT_FOUND with the typename and id for an unknown id', async () => {
    const result = await harness.query(`{ review(id: "601") { id } }`);
    expect(result.data?.review).toBeNull();
    expect(result.errors?.[0]?.extensions).toEqual({ code: 'NOT_FOUND', typename: 'Review', id: '601' });
  });

  it.each([
    ['malformed id', `{ review(id: "abc") { id } }`],
    ['zero id', `{ review(id: "0") { id } }`],
    ['negative id', `{ review(id: "-3") { id } }`],
    ['id beyond int4', `{ review(id: "2147483648") { id } }`],
  ])('%s → BAD_USER_INPUT naming id', async (_name, query) => {
    const result = await harness.query(query);
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions?.field).toBe('id');
  });
});

describe('_entities: Review', () => {
  it('resolves reviews by id in order, with null for unknown and malformed keys', async () => {
    const { result, statements } = await countStatements(harness, () =>
      entities(
        [
          { __typename: 'Review', id: '5' },
          { __typename: 'Review', id: '9999' },
          { __typename: 'Review', id: '1' },
          { __typename: 'Review', id: 'not-an-id' },
          { __typename: 'Review', id: '-1' },
          { __typename: 'Review', id: '300' },
        ],
        `... on Review { ${REVIEW_FIELDS} }`,
      ),
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([
      asGraphQL(seededById(5)),
      null,
      asGraphQL(seededById(1)),
      null,
      null,
      asGraphQL(seededById(300)),
    ]);
    expect(statements).toBe(1);
  });
});

describe('_entities: User', () => {
  const byAuthor = (authorId: number) => newestFirst(seeded.filter((r) => r.authorId === authorId));

  it('lists each user’s reviews newest first, in representation order, in one statement', async () => {
    const userIds = Array.from({ length: SEED.users }, (_, i) => i + 1).reverse();
    const { result, statements } = await countStatements(harness, () =>
      entities(
        userIds.map((id) => ({ __typename: 'User', id: String(id) })),
        `... on User { id reviews(first: 5) { ${REVIEW_FIELDS} } }`,
      ),
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual(
      userIds.map((id) => ({ id: String(id), reviews: byAuthor(id).slice(0, 5).map(asGraphQL) })),
    );
    expect(statements).toBe(1);
  });

  it('pins user 1’s newest reviews', async () => {
    const result = await entities([{ __typename: 'User', id: '1' }], `... on User { reviews(first: 5) { id } }`);
    expect(result.data?._entities).toEqual([{ reviews: ['576', '571', '471', '350', '340'].map((id) => ({ id })) }]);
  });

  it('defaults to 20 reviews (user 34 has 22)', async () => {
    expect(byAuthor(34)).toHaveLength(22);
    const result = await entities([{ __typename: 'User', id: '34' }], `... on User { reviews { id } }`);
    expect(result.data?._entities).toEqual([
      { reviews: byAuthor(34).slice(0, 20).map((r) => ({ id: String(r.id) })) },
    ]);
  });

  it('serves different page sizes in one batch from one statement', async () => {
    const { result, statements } = await countStatements(harness, () =>
      entities(
        [{ __typename: 'User', id: '34' }, { __typename: 'User', id: '1' }],
        `... on User { one: reviews(first: 1) { id } all: reviews(first: 100) { id } }`,
      ),
    );
    const ids = (authorId: number, n: number) => byAuthor(authorId).slice(0, n).map((r) => ({ id: String(r.id) }));
    expect(result.data?._entities).toEqual([
      { one: ids(34, 1), all: ids(34, 22) },
      { one: ids(1, 1), all: ids(1, 15) },
    ]);
    expect(statements).toBe(1);
  });

  it('gives a user with no reviews an empty list, and null for a malformed key', async () => {
    const result = await entities(
      [
        { __typename: 'User', id: '51' },
        { __typename: 'User', id: 'abc' },
        { __typename: 'User', id: '0' },
        { __typename: 'User', id: '2' },
      ],
      `... on User { id reviews { id } }`,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([
      { id: '51', reviews: [] },
      null,
      null,
      { id: '2', reviews: byAuthor(2).slice(0, 20).map((r) => ({ id: String(r.id) })) },
    ]);
  });

  it.each([0, 101, -1])('rejects reviews(first: %i) with BAD_USER_INPUT naming first', async (first) => {
    const result = await entities([{ __typename: 'User', id: '1' }], `... on User { reviews(first: $first) { id } }`, { first });
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions?.field).toBe('first');
  });
});

describe('_entities: Product', () => {
  it('matches the database exactly for every product, with 2 statements for the whole request', async () => {
    const productIds = Array.from({ length: SEED.products }, (_, i) => SEED.products - i);
    const { result, statements } = await countStatements(harness, () =>
      entities(
        productIds.map((id) => ({ __typename: 'Product', id: String(id) })),
        `... on Product { id reviews(first: 100) { ${REVIEW_FIELDS} } averageRating reviewCount }`,
      ),
    );
    expect(result.errors).toBeUndefined();
    // One top-per-key statement for the lists, one groupBy for both stats fields.
    expect(statements).toBe(2);

    const rows = await harness.client.review.findMany();
    const expected = productIds.map((id) => {
      const own = rows.filter((row) => row.productId === id);
      return {
        id: String(id),
        reviews: newestFirst(own).map(asGraphQL),
        averageRating: own.length === 0 ? null : own.reduce((sum, row) => sum + row.rating, 0) / own.length,
        reviewCount: own.length,
      };
    });
    expect(result.data?._entities).toEqual(expected);
    // Sanity: the check above covers products with and without reviews.
    expect(expected.filter((p) => p.reviewCount === 0).map((p) => p.id)).toEqual(['194', '176', '172', '146', '131', '118', '23', '12']);
  });

  it('pins product 1: 6 reviews averaging 3.5, newest first', async () => {
    const result = await entities(
      [{ __typename: 'Product', id: '1' }],
      `... on Product { averageRating reviewCount reviews(first: 3) { id rating } }`,
    );
    expect(result.data?._entities).toEqual([
      {
        averageRating: 3.5,
        reviewCount: 6,
        reviews: [474, 472, 461].map((id) => ({ id: String(id), rating: seededById(id).rating })),
      },
    ]);
  });

  it('gives a product with no reviews null, 0 and [], and null for malformed keys, in order', async () => {
    const result = await entities(
      [
        { __typename: 'Product', id: '12' },
        { __typename: 'Product', id: 'x1' },
        { __typename: 'Product', id: '1' },
        { __typename: 'Product', id: '99999' },
        { __typename: 'Product', id: '' },
      ],
      `... on Product { id reviews { id } averageRating reviewCount }`,
    );
    expect(result.errors).toBeUndefined();
    const entitiesResult = result.data?._entities as unknown[];
    expect(entitiesResult[0]).toEqual({ id: '12', reviews: [], averageRating: null, reviewCount: 0 });
    expect(entitiesResult[1]).toBeNull();
    expect(entitiesResult[2]).toMatchObject({ id: '1', averageRating: 3.5, reviewCount: 6 });
    expect(entitiesResult[3]).toEqual({ id: '99999', reviews: [], averageRating: null, reviewCount: 0 });
    expect(entitiesResult[4]).toBeNull();
  });

  it('fetches averageRating and reviewCount alone with one groupBy', async () => {
    const { result, statements } = await countStatements(harness, () =>
      entities(
        [1, 2, 3].map((id) => ({ __typename: 'Product', id: String(id) })),
        `... on Product { averageRating reviewCount }`,
      ),
    );
    expect(result.errors).toBeUndefined();
    expect(statements).toBe(1);
  });

  it.each([0, 101])('rejects reviews(first: %i) with BAD_USER_INPUT naming first', async (first) => {
    const result = await entities([{ __typename: 'Product', id: '1' }], `... on Product { reviews(first: $first) { id } }`, { first });
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions?.field).toBe('first');
  });
});

describe('mixed requests', () => {
  it('batches a review’s product stats across reviews: 1 + 1 statements', async () => {
    const { result, statements } = await countStatements(harness, () =>
      entities(
        [1, 2, 3, 4].map((id) => ({ __typename: 'Review', id: String(id) })),
        `... on Review { id product { id reviewCount } }`,
      ),
    );
    expect(result.data?._entities).toEqual(
      [1, 2, 3, 4].map((id) => {
        const productId = seededById(id).productId;
        return {
          id: String(id),
          product: { id: String(productId), reviewCount: seeded.filter((r) => r.productId === productId).length },
        };
      }),
    );
    expect(statements).toBe(2);
  });
});

describe('_service', () => {
  it('publishes its SDL with the keys of Review, User and Product', async () => {
    const result = await harness.query(`{ _service { sdl } }`);
    const sdl = String(result.data?._service.sdl);
    expect(sdl).toMatch(/type Review @key\(fields: "id"\)/);
    expect(sdl).toMatch(/type User @key\(fields: "id"\)/);
    expect(sdl).toMatch(/type Product @key\(fields: "id"\)/);
    expect(sdl).toContain('averageRating: Float');
  });
});
