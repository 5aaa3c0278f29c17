import { byKeys, createLoader } from '@commerce/service-kit';
import type { PrismaClient, Product } from './generated/prisma/client.ts';

/** One SQL statement per batch; results in key order; null for keys that match nothing. */
export function createLoaders(db: PrismaClient) {
  return {
    productById: createLoader<number, Product | null>(async (ids) =>
      byKeys(ids, await db.product.findMany({ where: { id: { in: [...ids] } } }), (product) => product.id),
    ),
    productBySku: createLoader<string, Product | null>(async (skus) =>
      byKeys(skus, await db.product.findMany({ where: { sku: { in: [...skus] } } }), (product) => product.sku),
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
