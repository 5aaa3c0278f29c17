import { byKeys, createLoader, createRowByKeyLoader, createTopPerKeyLoader, groupByKeys, runSql, type DataLoader, type SqlClient } from '@commerce/service-kit';
import type { Order, OrderItem, Product, Review, User } from './generated/prisma/client.ts';

/**
 * The monolith's per-request loaders. Same contract as the services' (one SQL statement per batch,
 * results in key order, null or [] for misses), but with everything in one database a loader can
 * join what the supergraph fetches from another service, and prime the other loaders with it:
 * a page of reviews comes back with its authors, an order's items with their products. Reads run
 * on the database's raw SQL client, as the services' do (DESIGN, "Reads without Prisma's client").
 */

/** A product with its stock joined in (0 when inventory has no row, as in the inventory service). */
export type ProductRow = Product & { stock: number };

// Related rows are attached with correlated scalar subqueries (one primary-key lookup per output
// row) rather than plain joins: with a plain join PostgreSQL estimates the rows of a top-N window
// or a keyset page badly and, at 100k products, picks a merge or hash join that reads a whole
// table (7 ms instead of 0.1 ms a page). The monolith should be a competent baseline, not a strawman.
const STOCK = `COALESCE((SELECT i.stock FROM inventory_items i WHERE i.product_id = p.id), 0)::int`;
const PRODUCT_COLUMNS = `p.id, p.sku, p.name, p.description, p.price_cents AS "priceCents", p.weight_grams AS "weightGrams",
  p.category::text AS category, p.created_at AS "createdAt", ${STOCK} AS stock`;
/** One product (with stock) as JSON, for the product whose id is `idColumn`. */
const productJson = (idColumn: string) =>
  `(SELECT json_build_object('id', p.id, 'sku', p.sku, 'name', p.name, 'description', p.description, ` +
  `'priceCents', p.price_cents, 'weightGrams', p.weight_grams, 'category', p.category, 'createdAt', p.created_at, ` +
  `'stock', ${STOCK}) FROM products p WHERE p.id = ${idColumn})`;

export interface RatingStats {
  averageRating: number | null;
  reviewCount: number;
}

/** A review row with its author (or product) attached by the same statement. */
type ReviewWithAuthor = Review & { __key: number; author: { email: string; name: string; createdAt: string } };
type ReviewWithProduct = Review & { __key: number; product: ProductRow };
type ItemWithProduct = OrderItem & { product: ProductRow };

/**
 * "The newest N reviews of each key" plus a related row, in the services' ROW_NUMBER shape, so
 * the difference measured is the architecture, not a cleverer query.
 */
function topReviewsStatement(keyColumn: 'product_id' | 'author_id', related: string): string {
  return (
    `SELECT r.id, r.product_id AS "productId", r.author_id AS "authorId", r.rating, r.body, r.created_at AS "createdAt", ` +
    `r.${keyColumn} AS "__key", ${related} FROM (` +
    `SELECT *, ROW_NUMBER() OVER (PARTITION BY ${keyColumn} ORDER BY created_at DESC, id DESC) AS "__rank" ` +
    `FROM reviews WHERE ${keyColumn} = ANY($1::int[])) r ` +
    `WHERE r."__rank" <= $2 ORDER BY r.${keyColumn}, r."__rank"`
  );
}

function pageOfLists<Row extends { __key: number }, Out>(
  requests: readonly { key: number; first: number }[],
  rows: readonly Row[],
  map: (row: Row) => Out,
): Out[][] {
  const keys = [...new Set(requests.map((request) => request.key))];
  const groups = groupByKeys(keys, rows, (row) => Number(row.__key));
  const byKey = new Map(keys.map((key, i) => [key, groups[i] ?? []]));
  return requests.map((request) => (byKey.get(request.key) ?? []).slice(0, request.first).map(map));
}

export function createLoaders(sql: SqlClient) {
  const raw = <Row>(text: string, ...values: unknown[]) => sql.$queryRawUnsafe<Row[]>(text, ...values);
  const run = runSql(sql);

  const userById: DataLoader<number, User | null> = createRowByKeyLoader<number, User>(
    run,
    { table: 'users', keyColumn: 'id', keyType: 'int', columns: { id: 'id', email: 'email', name: 'name', createdAt: 'created_at' } },
    (user) => user.id,
  );
  const productById: DataLoader<number, ProductRow | null> = createLoader(async (ids) =>
    byKeys(ids, await raw<ProductRow>(`SELECT ${PRODUCT_COLUMNS} FROM products p WHERE p.id = ANY($1::int[])`, [...ids]), (p) => p.id),
  );
  const primeProduct = (product: ProductRow) => productById.prime(product.id, product);
  const primeUser = (user: User) => userById.prime(user.id, user);

  return {
    userById,
    productById,
    primeProduct,
    primeUser,
    /** A page of products with stock joined in; primes productById. */
    async productPage(where: { category?: string | null; afterId: number | null }, take: number): Promise<ProductRow[]> {
      const conditions: string[] = [];
      const values: unknown[] = [];
      if (where.category) {
        values.push(where.category);
        conditions.push(`p.category = $${values.length}::category`);
      }
      if (where.afterId !== null) {
        values.push(where.afterId);
        conditions.push(`p.id > $${values.length}`);
      }
      values.push(take);
      const rows = await raw<ProductRow>(
        `SELECT ${PRODUCT_COLUMNS} FROM products p ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''} ` +
          `ORDER BY p.id LIMIT $${values.length}`,
        ...values,
      );
      rows.forEach(primeProduct);
      return rows;
    },
    reviewById: createRowByKeyLoader<number, Review>(
      run,
      {
        table: 'reviews',
        keyColumn: 'id',
        keyType: 'int',
        columns: { id: 'id', productId: 'product_id', authorId: 'author_id', rating: 'rating', body: 'body', createdAt: 'created_at' },
      },
      (review) => review.id,
    ),
    orderById: createRowByKeyLoader<number, Order>(
      run,
      { table: 'orders', keyColumn: 'id', keyType: 'int', columns: { id: 'id', userId: 'user_id', status: 'status', createdAt: 'created_at' } },
      (order) => order.id,
    ),
    /** A product's newest reviews with their authors (one statement); primes userById. */
    reviewsByProductId: createLoader<{ key: number; first: number }, Review[], string>(
      async (requests) => {
        const keys = [...new Set(requests.map((request) => request.key))];
        const limit = Math.max(...requests.map((request) => request.first));
        const rows = await raw<ReviewWithAuthor>(
          topReviewsStatement(
            'product_id',
            `(SELECT json_build_object('email', u.email, 'name', u.name, 'createdAt', u.created_at) FROM users u WHERE u.id = r.author_id) AS author`,
          ),
          keys,
          limit,
        );
        return pageOfLists(requests, rows, ({ __key: _key, author, ...review }) => {
          // Reviews has a foreign key to users: every review has its author.
          primeUser({ id: review.authorId, email: author.email, name: author.name, createdAt: new Date(author.createdAt) });
          return review;
        });
      },
      { cacheKey: (request) => `${request.key}:${request.first}` },
    ),
    /** A user's newest reviews with their products (one statement); primes productById. */
    reviewsByAuthorId: createLoader<{ key: number; first: number }, Review[], string>(
      async (requests) => {
        const keys = [...new Set(requests.map((request) => request.key))];
        const limit = Math.max(...requests.map((request) => request.first));
        const rows = await raw<ReviewWithProduct>(topReviewsStatement('author_id', `${productJson('r.product_id')} AS product`), keys, limit);
        return pageOfLists(requests, rows, ({ __key: _key, product, ...review }) => {
          primeProduct({ ...product, createdAt: new Date(product.createdAt) });
          return review;
        });
      },
      { cacheKey: (request) => `${request.key}:${request.first}` },
    ),
    ratingStatsByProductId: createLoader<number, RatingStats>(async (productIds) => {
      const groups = await raw<{ productId: number; sum: number; count: number }>(
        `SELECT product_id AS "productId", SUM(rating)::int AS "sum", COUNT(*)::int AS "count" FROM reviews WHERE product_id = ANY($1::int[]) GROUP BY product_id`,
        [...productIds],
      );
      return byKeys(productIds, groups, (group) => group.productId).map((group) =>
        !group || group.count === 0 ? { averageRating: null, reviewCount: 0 } : { averageRating: group.sum / group.count, reviewCount: group.count },
      );
    }),
    ordersByUserId: createTopPerKeyLoader<Order>(run, {
      table: 'orders',
      keyColumn: 'user_id',
      columns: { id: 'id', userId: 'user_id', status: 'status', createdAt: 'created_at' },
      orderBy: 'created_at DESC, id DESC',
    }),
    /** An order's items with their products (one statement); primes productById. */
    itemsByOrderId: createLoader<number, OrderItem[]>(async (orderIds) => {
      const rows = await raw<ItemWithProduct & { __key: number }>(
        `SELECT oi.id, oi.order_id AS "orderId", oi.product_id AS "productId", oi.quantity, oi.unit_price_cents AS "unitPriceCents", ` +
          `oi.order_id AS "__key", ${productJson('oi.product_id')} AS product ` +
          `FROM order_items oi WHERE oi.order_id = ANY($1::int[]) ORDER BY oi.id`,
        [...orderIds],
      );
      return groupByKeys(orderIds, rows, (row) => Number(row.__key)).map((items) =>
        items.map(({ __key: _key, product, ...item }) => {
          primeProduct({ ...product, createdAt: new Date(product.createdAt) });
          return item;
        }),
      );
    }),
    /** A product's waitlist in (createdAt, id) order, each email resolved to its user (null without an account). */
    waitlistByProductId: createLoader<number, (User | null)[]>(async (productIds) => {
      const rows = await raw<{ productId: number; id: number | null; email: string | null; name: string | null; createdAt: Date | null }>(
        `SELECT w.product_id AS "productId", u.id, u.email, u.name, u.created_at AS "createdAt" ` +
          `FROM waitlist_entries w LEFT JOIN LATERAL (SELECT * FROM users WHERE email = lower(w.email)) u ON true ` +
          `WHERE w.product_id = ANY($1::int[]) ORDER BY w.product_id, w.created_at, w.id`,
        [...productIds],
      );
      return groupByKeys(productIds, rows, (row) => row.productId).map((entries) =>
        entries.map(({ id, email, name, createdAt }) => {
          if (id === null || email === null || name === null || createdAt === null) return null;
          const user = { id, email, name, createdAt };
          primeUser(user);
          return user;
        }),
      );
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
