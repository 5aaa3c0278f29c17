import { SEED } from '@commerce/service-kit';
import { asUser, errorCodes, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
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
const valid = { productId: '12', rating: 4, body: 'Fine.' };
/** Adds a review as user `authorId` (the author is always the caller). */
const add = (input: Record<string, unknown>, authorId = 7) => harness.query(ADD, { input }, asUser(authorId));

describe('addReview', () => {
  it('stores a review with a trimmed body and the next id past the seed', async () => {
    const result = await add({ productId: '12', rating: 4, body: '  Sturdy and quiet.  ' });
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
    await add({ ...valid, productId: '23', rating: 5, body: 'First!' }, 9);
    const second = await add({ ...valid, productId: '23', rating: 2, body: 'Second.' }, 9);
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
      const result = await add({ ...valid, rating, body: 'y'.repeat(2000) });
      expect(result.errors).toBeUndefined();
      expect(result.data?.addReview.review.rating).toBe(rating);
    }
  });

  it('keeps every one of many concurrent reviews, with an exact (not SQL-rounded) mean', async () => {
    // 11 / 9: SQL AVG gives the NUMERIC 1.2222222222222222, a different double from 11 / 9
    // (1.2222222222222223). The mean must be the correctly rounded quotient.
    const ratings = [1, 1, 1, 1, 1, 1, 1, 2, 2];
    const results = await Promise.all(
      ratings.map((rating, i) => add({ productId: '176', rating, body: `r${i}` }, i + 1)),
    );
    expect(results.flatMap(errorCodes)).toEqual([]);
    expect(new Set(results.map((r) => r.data?.addReview.review.id)).size).toBe(ratings.length);
    const stats = await harness.query(
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { averageRating reviewCount } } }`,
      { reps: [{ __typename: 'Product', id: '176' }] },
    );
    // Product 176 has no seeded reviews.
    expect(stats.data?._entities).toEqual([{ averageRating: 11 / 9, reviewCount: 9 }]);
    // What SQL's AVG makes of the same rows, through the service's own database: a different
    // number, so the answer above really is the exact quotient and not the database's mean.
    const [sql] = await harness.client.$queryRawUnsafe<{ avg: string }[]>('SELECT AVG(rating)::text AS avg FROM reviews WHERE product_id = 176');
    const prismaAvg = await harness.client.review.aggregate({ where: { productId: 176 }, _avg: { rating: true } });
    expect(sql?.avg).toBe('1.2222222222222222');
    expect(stats.data?._entities[0].averageRating).not.toBe(Number(sql?.avg));
    expect(stats.data?._entities[0].averageRating).not.toBe(prismaAvg._avg.rating);
  });

  it('refuses a product its catalogue replica does not hold with NOT_FOUND, and stores nothing', async () => {
    const before = await harness.client.review.count();
    for (const productId of [String(SEED.products + 1), '99999']) {
      const result = await add({ ...valid, productId });
      expect(errorCodes(result)).toEqual(['NOT_FOUND']);
      expect(result.errors?.[0]?.extensions).toEqual({ code: 'NOT_FOUND', typename: 'Product', id: productId });
      expect(result.errors?.[0]?.message).toBe(`Product ${productId} was not found`);
      expect(result.data).toBeNull();
    }
    expect(await harness.client.review.count()).toBe(before);
  });

  it('checks the replica after the input: a malformed review of an unknown product is BAD_USER_INPUT', async () => {
    const result = await add({ productId: '99999', rating: 9, body: 'x' });
    expect(result.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'input.rating' });
  });
});

describe('addReview: who may', () => {
  it('refuses an anonymous caller with UNAUTHENTICATED and stores nothing', async () => {
    const before = await harness.client.review.count();
    const result = await harness.query(ADD, { input: valid });
    expect(errorCodes(result)).toEqual(['UNAUTHENTICATED']);
    expect(result.data).toBeNull();
    expect(await harness.client.review.count()).toBe(before);
  });

  it('takes the author from the caller, never from the input', async () => {
    const smuggled = await harness.query(ADD, { input: { ...valid, authorId: '3' } }, asUser(5));
    expect(errorCodes(smuggled)).toEqual(['BAD_USER_INPUT']);
    const result = await add({ ...valid, body: 'Mine.' }, 5);
    expect(result.data?.addReview.review.author).toEqual({ id: '5' });
  });

  it('stores SQL-looking text verbatim (parameterised statements)', async () => {
    const body = "'); DROP TABLE reviews; -- \" OR 1=1";
    const result = await add({ ...valid, body });
    expect(result.data?.addReview.review.body).toBe(body);
    expect(await harness.client.review.count()).toBeGreaterThan(SEED.reviews);
  });
});

describe('addReview: bad input', () => {
  it.each([
    ['malformed productId', { productId: 'abc' }, 'input.productId'],
    ['zero productId', { productId: '0' }, 'input.productId'],
    ['productId beyond int4', { productId: '2147483648' }, 'input.productId'],
    ['a NUL byte in the body', { body: 'before\u0000after' }, 'input.body'],
    ['a lone surrogate in the body', { body: 'broken \ud800 text' }, 'input.body'],
    ['a right-to-left override in the body', { body: 'evil \u202Etxt.exe' }, 'input.body'],
    ['rating 0', { rating: 0 }, 'input.rating'],
    ['rating 6', { rating: 6 }, 'input.rating'],
    ['negative rating', { rating: -1 }, 'input.rating'],
    ['empty body', { body: '' }, 'input.body'],
    ['blank body', { body: ' \n\t ' }, 'input.body'],
    ['oversized body', { body: 'x'.repeat(2001) }, 'input.body'],
  ])('%s → BAD_USER_INPUT naming %s, nothing stored', async (_name, override, field) => {
    const before = await harness.client.review.count();
    const result = await add({ ...valid, ...override });
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field });
    expect(JSON.stringify(result.errors)).not.toMatch(/stacktrace|prisma|at .*\.ts/i);
    expect(await harness.client.review.count()).toBe(before);
  });

  it('trims before measuring: 2000 characters plus spaces is accepted', async () => {
    const result = await add({ ...valid, body: `  ${'z'.repeat(2000)}  ` });
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
