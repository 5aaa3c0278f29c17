import { createRowByKeyLoader, runSql, type RowsByKeyQuery, type SqlClient } from '@commerce/service-kit';
import type { Product } from './generated/prisma/client.ts';

/** Every Product field, so the raw rows have the Prisma model's shape. */
const PRODUCTS: Omit<RowsByKeyQuery<Product>, 'keyColumn' | 'keyType'> = {
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

/** One SQL statement per batch; results in key order; null for keys that match nothing. */
export function createLoaders(sql: SqlClient) {
  const run = runSql(sql);
  return {
    productById: createRowByKeyLoader<number, Product>(run, { ...PRODUCTS, keyColumn: 'id', keyType: 'int' }, (product) => product.id),
    productBySku: createRowByKeyLoader<string, Product>(run, { ...PRODUCTS, keyColumn: 'sku', keyType: 'text' }, (product) => product.sku),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
