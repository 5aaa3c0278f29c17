import { createRowByKeyLoader, rowsAfterId, runSql, type IdPageQuery, type SqlClient } from '@commerce/service-kit';
import type { Category, Product } from './generated/prisma/client.ts';

/** Every Product field, so the raw rows have the Prisma model's shape. */
const PRODUCTS: IdPageQuery<Product> = {
  table: 'products',
  columns: {
    id: 'id',
    sku: 'sku',
    name: 'name',
    description: 'description',
    priceCents: 'price_cents',
    weightGrams: 'weight_grams',
    category: 'category',
    createdAt: 'created_at',
    revision: 'revision',
  },
};

/** One SQL statement per batch; results in key order; null for keys that match nothing. Pages: one statement each. */
export function createLoaders(sql: SqlClient) {
  const run = runSql(sql);
  return {
    productById: createRowByKeyLoader<number, Product>(run, { ...PRODUCTS, keyColumn: 'id', keyType: 'int' }, (product) => product.id),
    productBySku: createRowByKeyLoader<string, Product>(run, { ...PRODUCTS, keyColumn: 'sku', keyType: 'text' }, (product) => product.sku),
    /** A page of the catalogue in id order, one category or all (read once per request: no loader). */
    productsAfter: (category: Category | null, afterId: number | null, limit: number) =>
      rowsAfterId<Product>(run, { ...PRODUCTS, filters: { category } }, afterId, limit),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
