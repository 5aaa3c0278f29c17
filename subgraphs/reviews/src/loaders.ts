import {
  byKeys,
  createKeysetPerKeyLoader,
  createLoader,
  createRowByKeyLoader,
  createTopPerKeyLoader,
  runSql,
  type KeysetPerKeyQuery,
  type SqlClient,
  type TopPerKeyQuery,
} from '@commerce/service-kit';
import type { Review } from './generated/prisma/client.ts';

export interface RatingStats {
  /** Exact mean of the ratings; null when the product has no reviews. */
  averageRating: number | null;
  reviewCount: number;
}

/** Every Review field, so rows from the raw top-per-key statement have the Prisma model's shape. */
const REVIEW_COLUMNS = {
  id: 'id',
  productId: 'product_id',
  authorId: 'author_id',
  rating: 'rating',
  body: 'body',
  createdAt: 'created_at',
} as const satisfies Record<keyof Review, string>;

// Newest first with id as the tie-break, matching the (key, created_at DESC, id DESC) indexes.
const NEWEST_FIRST = '"created_at" DESC, "id" DESC';

const reviewsByProduct: TopPerKeyQuery = {
  table: 'reviews',
  keyColumn: 'product_id',
  columns: REVIEW_COLUMNS,
  orderBy: NEWEST_FIRST,
};
const reviewsByAuthor: TopPerKeyQuery = { ...reviewsByProduct, keyColumn: 'author_id' };

// The same lists by cursor: a page after a (created_at, id) position, served by the same indexes.
const reviewPagesByProduct: KeysetPerKeyQuery = { table: 'reviews', keyColumn: 'product_id', columns: REVIEW_COLUMNS, createdAtColumn: 'created_at' };
const reviewPagesByAuthor: KeysetPerKeyQuery = { ...reviewPagesByProduct, keyColumn: 'author_id' };

/** One SQL statement per batch; results in key order; null (or [] / zero stats) for misses. */
export function createLoaders(sql: SqlClient) {
  const run = runSql(sql);
  return {
    reviewById: createRowByKeyLoader<number, Review>(run, { table: 'reviews', keyColumn: 'id', keyType: 'int', columns: REVIEW_COLUMNS }, (review) => review.id),
    /** Keyed by { key: productId, first }. */
    reviewsByProductId: createTopPerKeyLoader<Review>(run, reviewsByProduct),
    /** Keyed by { key: authorId, first }. */
    reviewsByAuthorId: createTopPerKeyLoader<Review>(run, reviewsByAuthor),
    /** reviewsConnection: keyed by { key: productId, limit, after }. */
    reviewPagesByProductId: createKeysetPerKeyLoader<Review>(run, reviewPagesByProduct),
    /** reviewsConnection: keyed by { key: authorId, limit, after }. */
    reviewPagesByAuthorId: createKeysetPerKeyLoader<Review>(run, reviewPagesByAuthor),
    ratingStatsByProductId: createLoader<number, RatingStats>(async (productIds) => {
      // COUNT and SUM of int are bigint in PostgreSQL: cast back to int (a product's ratings sum far below 2^31).
      const groups = (await run(
        `SELECT product_id AS "productId", SUM(rating)::int AS "sum", COUNT(*)::int AS "count" FROM reviews WHERE product_id = ANY($1::int[]) GROUP BY product_id`,
        [...productIds],
      )) as { productId: number; sum: number; count: number }[];
      return byKeys(productIds, groups, (group) => group.productId).map((group) => {
        if (!group || group.count === 0) return { averageRating: null, reviewCount: 0 };
        // Integer sum / integer count in JS is the correctly rounded mean; SQL AVG would go
        // through a rounded NUMERIC string first and can differ in the last digit.
        return { averageRating: group.sum / group.count, reviewCount: group.count };
      });
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
