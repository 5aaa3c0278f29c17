import { SEED } from '@commerce/service-kit';
import { errorCodes, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { reviews } from '../src/server.ts';
import { REVIEW_FIELDS } from './helpers.ts';

// Writes get their own database so the read-only file can assert seed values exactly.
let harness: SubgraphHarness<PrismaClient>;

beforeAll(async () => {
  harness = await subgraphHarness(reviews);
});
afterAll(() => harness?.close());

const ADD = `mutation($input: AddReviewInput!) { addReview(input: $input) { review { ${REVIEW_FIELDS} } } }`;
const valid = { productId: '12', authorId: '7', rating: 4, body: 'Fine.' };

describe('addReview', () => {
  it('stores a review with a trimmed body and the next id past the seed', async () => {
    const result = await harness.query(ADD, { input: { productId: '12', authorId: '7', rating: 4, body: '  Sturdy and quiet.  ' } });
    expect(result.errors).toBeUndefined();
    const review = result.data?.addReview.review;
    expect(review).toMatchObject({
      id: String(SEED.reviews + 1),
      rating: 4,
      body: 'Sturdy and quiet.',
      author: { id: '7' },
      product: { id: '12' },
    });
    const row = await harness.client.review.findUniqueOrThrow({ where: { id: SEED.reviews + 1 } });
    expect(row).toMatchObject({ productId: 12, authorId: 7, rating: 4, body: 'Sturdy and quiet.' });
    expect(review.createdAt).toBe(row.createdAt.toISOString());
  });

  it('shows the new review first on its product and author, and updates the stats', async () => {
    await harness.query(ADD, { input: { ...valid, productId: '23', authorId: '9', rating: 5, body: 'First!' } });
    const second = await harness.query(ADD, { input: { ...valid, productId: '23', authorId: '9', rating: 2, body: 'Second.' } });
    const newId = second.data?.addReview.review.id;
    const result = await harness.query(
      `query($reps: [_Any!]!) { _entities(representations: $reps) {
        ... on Product { reviews(first: 1) { id } averageRating reviewCount }
        ... on User { reviews(first: 1) { id } }
      } }`,
      { reps: [{ __typename: 'Product', id: '23' }, { __typename: 'User', id: '9' }] },
    );
    expect(result.errors).toBeUndefined();
    // Product 23 has no seeded reviews: the two new ones are all it has.
    expect(result.data?._entities).toEqual([
      { reviews: [{ id: newId }], averageRating: 3.5, reviewCount: 2 },
      { reviews: [{ id: newId }] },
    ]);
  });

  it('accepts a body of exactly 2000 characters and the rating bounds 1 and 5', async () => {
    for (const rating of [1, 5]) {
      const result = await harness.query(ADD, { input: { ...valid, rating, body: 'y'.repeat(2000) } });
      expect(result.errors).toBeUndefined();
      expect(result.data?.addReview.review.rating).toBe(rating);
    }
  });

  it('keeps every one of many concurrent reviews, with an exact (not SQL-rounded) mean', async () => {
    // 11 / 9: SQL AVG gives the NUMERIC 1.2222222222222222, a different double from 11 / 9
    // (1.2222222222222223). The mean must be the correctly rounded quotient.
    const ratings = [1, 1, 1, 1, 1, 1, 1, 2, 2];
    const results = await Promise.all(
      ratings.map((rating, i) => harness.query(ADD, { input: { productId: '176', authorId: String(i + 1), rating, body: `r${i}` } })),
    );
    expect(results.flatMap(errorCodes)).toEqual([]);
    expect(new Set(results.map((r) => r.data?.addReview.review.id)).size).toBe(ratings.length);
    const stats = await harness.query(
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { averageRating reviewCount } } }`,
      { reps: [{ __typename: 'Product', id: '176' }] },
    );
    // Product 176 has no seeded reviews.
    expect(stats.data?._entities).toEqual([{ averageRating: 11 / 9, reviewCount: 9 }]);
    expect(11 / 9).not.toBe(Number('1.2222222222222222'));
  });

  it('stores a review of a product or user it cannot verify (documented trade-off)', async () => {
    const result = await harness.query(ADD, { input: { ...valid, productId: '99999', authorId: '88888' } });
    expect(result.errors).toBeUndefined();
    expect(result.data?.addReview.review).toMatchObject({ author: { id: '88888' }, product: { id: '99999' } });
  });
});

describe('addReview: bad input', () => {
  it.each([
    ['malformed productId', { productId: 'abc' }, 'input.productId'],
    ['zero productId', { productId: '0' }, 'input.productId'],
    ['productId beyond int4', { productId: '2147483648' }, 'input.productId'],
    ['malformed authorId', { authorId: '1.5' }, 'input.authorId'],
    ['negative authorId', { authorId: '-7' }, 'input.authorId'],
    ['rating 0', { rating: 0 }, 'input.rating'],
    ['rating 6', { rating: 6 }, 'input.rating'],
    ['negative rating', { rating: -1 }, 'input.rating'],
    ['empty body', { body: '' }, 'input.body'],
    ['blank body', { body: ' \n\t ' }, 'input.body'],
    ['oversized body', { body: 'x'.repeat(2001) }, 'input.body'],
  ])('%s → BAD_USER_INPUT naming %s, nothing stored', async (_name, override, field) => {
    const before = await harness.client.review.count();
    const result = await harness.query(ADD, { input: { ...valid, ...override } });
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field });
    expect(JSON.stringify(result.errors)).not.toMatch(/stacktrace|prisma|at .*\.ts/i);
    expect(await harness.client.review.count()).toBe(before);
  });

  it('trims before measuring: 2000 characters plus spaces is accepted', async () => {
    const result = await harness.query(ADD, { input: { ...valid, body: `  ${'z'.repeat(2000)}  ` } });
    expect(result.errors).toBeUndefined();
    expect(result.data?.addReview.review.body).toHaveLength(2000);
  });

  it('rejects a rating out of range in the database too (CHECK constraint)', async () => {
    await expect(
      harness.client.review.create({ data: { productId: 1, authorId: 1, rating: 6, body: 'bypass' } }),
    ).rejects.toThrow(/reviews_rating_check|check constraint/i);
    await expect(
      harness.client.review.create({ data: { productId: 1, authorId: 1, rating: 0, body: 'bypass' } }),
    ).rejects.toThrow();
  });
});
