import { byKeys, createLoader, groupByKeys } from '@commerce/service-kit';
import type { PrismaClient, WaitlistEntry } from './generated/prisma/client.ts';

/** One SQL statement per batch; results in key order; 0 or [] for keys that match nothing. */
export function createLoaders(db: PrismaClient) {
  return {
    /** A product inventory has never stocked has no row: its stock is 0. */
    stockByProductId: createLoader<number, number>(async (productIds) => {
      const rows = await db.inventoryItem.findMany({
        where: { productId: { in: [...productIds] } },
        select: { productId: true, stock: true },
      });
      return byKeys(productIds, rows, (row) => row.productId).map((row) => row?.stock ?? 0);
    }),
    waitlistByProductId: createLoader<number, WaitlistEntry[]>(async (productIds) => {
      const rows = await db.waitlistEntry.findMany({
        where: { productId: { in: [...productIds] } },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      });
      return groupByKeys(productIds, rows, (row) => row.productId);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
