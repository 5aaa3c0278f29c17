import { encodeKeysetCursor } from '@commerce/service-kit';
import { subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { seedReviews } from '../src/seed.ts';
import { reviews } from '../src/server.ts';
import { newestFirst } from './helpers.ts';

/**
 * The design notes' reason for paging reviews and orders by a (createdAt, id) position rather than
 * an offset: rows added meanwhile never shift a page. A client holding the cursor of page 1 gets
 * the same page 2 after new reviews arrive, with nothing repeated and nothing skipped. This file's
 * own database: it adds reviews.
 */
let harness: SubgraphHarness<PrismaClient>;

beforeAll(async () => {
  harness = await subgraphHarness(reviews);
});
afterAll(() => harness?.close());

const PAGE = `query($reps: [_Any!]!, $after: String) {
  _entities(representations: $reps) { ... on Product { reviewsConnection(first: 3, after: $after) { nodes { id } pageInfo { endCursor } } } }
}`;

async function page(after: string | null): Promise<{ ids: string[]; endCursor: string }> {
  const result: any = await harness.query(PAGE, { reps: [{ __typename: 'Product', id: '1' }], after });
  expect(result.errors).toBeUndefined();
  const connection = result.data._entities[0].reviewsConnection;
  return { ids: connection.nodes.map((node: { id: string }) => node.id), endCursor: connection.pageInfo.endCursor };
}

describe('paging by position', () => {
  it('gives the same next page after new reviews arrive: nothing repeated, nothing skipped', async () => {
    const all = newestFirst(seedReviews().filter((r) => r.productId === 1)).map((r) => String(r.id));
    const first = await page(null);
    expect(first.ids).toEqual(all.slice(0, 3));
    expect(first.endCursor).toBe(encodeKeysetCursor('review', newestFirst(seedReviews().filter((r) => r.productId === 1))[2]!));

    // Two new reviews of product 1 land between the two page requests (an offset would shift by two).
    await harness.client.review.createMany({
      data: [
        { productId: 1, authorId: 2, rating: 5, body: 'Arrived meanwhile' },
        { productId: 1, authorId: 3, rating: 4, body: 'Also meanwhile' },
      ],
    });

    const second = await page(first.endCursor);
    expect(second.ids).toEqual(all.slice(3, 6));
    // And a fresh first page shows the new ones first.
    expect((await page(null)).ids.slice(0, 2)).not.toContain(all[0]);
  });
});
