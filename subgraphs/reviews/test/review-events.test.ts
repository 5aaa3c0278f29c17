import { SEED } from '@commerce/service-kit';
import { ANONYMOUS_CALLER, asUser, errorCodes, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { reviews } from '../src/server.ts';

/**
 * addReview tells the router's entity cache what changed (the product's reviews and rating, the
 * author's reviews): ReviewAdded, written in the transaction that inserts the review. Its own
 * database: these tests count every event in the outbox.
 */
let harness: SubgraphHarness<PrismaClient>;

beforeAll(async () => {
  harness = await subgraphHarness(reviews);
});
afterAll(() => harness?.close());

const ADD = `mutation($input: AddReviewInput!) { addReview(input: $input) { review { id } } }`;
const add = (input: Record<string, unknown>, caller = asUser(7)) => harness.query(ADD, { input }, caller);
const valid = { productId: '12', rating: 4, body: 'Fine.' };

async function outbox() {
  const rows = await harness.client.outboxEvent.findMany({ orderBy: { seq: 'asc' } });
  return rows.map(({ source, type, version, aggregate, payload }) => ({ source, type, version, aggregate, payload }));
}
const outboxCount = () => harness.client.outboxEvent.count();

describe('addReview publishes ReviewAdded', () => {
  it('once, naming the review, its product, its author and the rating', async () => {
    const result = await add({ productId: '12', rating: 4, body: 'Sturdy.' }, asUser(7));
    expect(result.errors).toBeUndefined();
    expect(result.data?.addReview.review.id).toBe(String(SEED.reviews + 1));
    expect(await outbox()).toEqual([
      { source: 'reviews', type: 'ReviewAdded', version: 1, aggregate: 'product:12', payload: { reviewId: SEED.reviews + 1, productId: 12, authorId: 7, rating: 4 } },
    ]);
  });

  it('one per review under concurrent reviews of one product, each naming its stored review', async () => {
    const before = await outboxCount();
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((author) => add({ ...valid, productId: '40', rating: 1 + (author % 5) }, asUser(author))));
    expect(results.flatMap(errorCodes)).toEqual([]);
    expect(await outboxCount()).toBe(before + 6);
    const stored = await harness.client.review.findMany({ where: { productId: 40, id: { gt: SEED.reviews } }, orderBy: { id: 'asc' } });
    const published = (await outbox()).filter((event) => event.aggregate === 'product:40').map((event) => event.payload);
    expect(published).toHaveLength(6);
    expect(published).toEqual(expect.arrayContaining(stored.map((row) => ({ reviewId: row.id, productId: 40, authorId: row.authorId, rating: row.rating }))));
  });

  it.each([
    ['an anonymous caller', valid, ANONYMOUS_CALLER, 'UNAUTHENTICATED'],
    ['a product the replica does not hold', { ...valid, productId: '99999' }, asUser(7), 'NOT_FOUND'],
    ['a rating out of range', { ...valid, rating: 6 }, asUser(7), 'BAD_USER_INPUT'],
  ])('not for %s (%s)', async (_name, input, caller, code) => {
    const [reviewsBefore, eventsBefore] = [await harness.client.review.count(), await outboxCount()];
    expect(errorCodes(await add(input, caller))).toEqual([code]);
    expect([await harness.client.review.count(), await outboxCount()]).toEqual([reviewsBefore, eventsBefore]);
  });

  it('rolled back with the review when the event cannot be written', async () => {
    await harness.client.$executeRawUnsafe(`CREATE FUNCTION refuse_events() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'outbox unavailable'; END $$`);
    await harness.client.$executeRawUnsafe(`CREATE TRIGGER refuse_events BEFORE INSERT ON outbox_events FOR EACH ROW EXECUTE FUNCTION refuse_events()`);
    const [reviewsBefore, eventsBefore] = [await harness.client.review.count(), await outboxCount()];
    try {
      expect(errorCodes(await add({ ...valid, body: 'Lost with its event.' }))).toEqual(['INTERNAL_SERVER_ERROR']);
      expect([await harness.client.review.count(), await outboxCount()]).toEqual([reviewsBefore, eventsBefore]);
      expect(await harness.client.review.count({ where: { body: 'Lost with its event.' } })).toBe(0);
    } finally {
      await harness.client.$executeRawUnsafe('DROP TRIGGER refuse_events ON outbox_events');
      await harness.client.$executeRawUnsafe('DROP FUNCTION refuse_events()');
    }
  });
});
