import { randomInt, SEED, seedDate, seededRandom } from '@commerce/service-kit';
import type { PrismaClient } from './generated/prisma/client.ts';

/** The seed of the one random stream all seeded reviews are drawn from, in id order. */
export const REVIEW_SEED = 0x5eed0004;

/** Cumulative chances of ratings 1..5 (5%, 10%, 15%, 30%, 40%): skewed to 4–5 like real shops. */
const RATING_THRESHOLDS = [0.05, 0.15, 0.3, 0.6, 1] as const;

/** Two fixed bodies per rating (index rating - 1); review i takes body (i - 1) % 2. */
export const REVIEW_BODIES = [
  ['Broke within a week. Would not buy again.', 'Nothing like the description.'],
  ['Disappointing quality for the price.', 'Works, barely. Expected more.'],
  ['Does the job, nothing special.', 'Average: some good points, some bad.'],
  ['Good value, would recommend.', 'Solid and well made, minor quibbles.'],
  ['Excellent, exactly as described!', 'Love it. Five stars.'],
] as const;

export interface SeedReview {
  id: number;
  productId: number;
  authorId: number;
  rating: number;
  body: string;
  createdAt: Date;
}

/**
 * All SEED.reviews reviews. Review i (1..600) draws, in this order from one stream
 * seededRandom(REVIEW_SEED): productId = randomInt(1, 200), authorId = randomInt(1, 50), then one
 * draw u for the rating (the first threshold above u). createdAt = seedDate(30, i): day 30 plus
 * i minutes, so every review has its own minute and newest-first order is total.
 */
export function seedReviews(): SeedReview[] {
  const random = seededRandom(REVIEW_SEED);
  return Array.from({ length: SEED.reviews }, (_, index) => {
    const id = index + 1;
    const productId = randomInt(random, 1, SEED.products);
    const authorId = randomInt(random, 1, SEED.users);
    const u = random();
    const rating = RATING_THRESHOLDS.findIndex((threshold) => u < threshold) + 1;
    const body = REVIEW_BODIES[rating - 1]?.[(id - 1) % 2] ?? '';
    return { id, productId, authorId, rating, body, createdAt: seedDate(30, id) };
  });
}

/**
 * The replica of the seeded catalogue: products 1..SEED.products at revision 1, as products seeds
 * them, each known since the minute products creates it. Seeded reviews only review these.
 */
export function seedCatalog() {
  return Array.from({ length: SEED.products }, (_, index) => ({ productId: index + 1, revision: 1, updatedAt: seedDate(0, index + 1) }));
}

export async function seed(db: PrismaClient): Promise<void> {
  await db.catalogProduct.createMany({ data: seedCatalog() });
  await db.review.createMany({ data: seedReviews() });
  // Explicit ids bypass the sequence; move it past them so addReview does not collide.
  await db.$executeRawUnsafe(`SELECT setval(pg_get_serial_sequence('reviews', 'id'), (SELECT max(id) FROM reviews))`);
}
