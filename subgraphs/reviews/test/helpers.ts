import type { SubgraphHarness } from '@commerce/service-kit/testing';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import type { SeedReview } from '../src/seed.ts';

/** Runs `fn` and counts the SQL statements the service's Prisma client sends meanwhile. */
export async function countStatements<T>(harness: SubgraphHarness<PrismaClient>, fn: () => Promise<T>) {
  const { result, statements } = await harness.countStatements(fn);
  return { result, statements };
}

/** A review as the GraphQL API shows it (all scalar fields plus the stub ids). */
export function asGraphQL(review: SeedReview) {
  return {
    id: String(review.id),
    rating: review.rating,
    body: review.body,
    createdAt: review.createdAt.toISOString(),
    author: { id: String(review.authorId) },
    product: { id: String(review.productId) },
  };
}

export const REVIEW_FIELDS = 'id rating body createdAt author { id } product { id }';

/** Newest first, id as the tie-break: the order every review list promises. */
export function newestFirst<Row extends { id: number; createdAt: Date }>(rows: readonly Row[]): Row[] {
  return [...rows].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id);
}
