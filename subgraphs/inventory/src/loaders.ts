import { byKeys, createLoader, createRowListsByKeyLoader, runSql, type SqlClient } from '@commerce/service-kit';
import type { WaitlistEntry } from './generated/prisma/client.ts';

/** One SQL statement per batch; results in key order; 0 or [] for keys that match nothing. */
export function createLoaders(sql: SqlClient) {
  const run = runSql(sql);
  return {
    /** A product inventory has never stocked has no row: its stock is 0. */
    stockByProductId: createLoader<number, number>(async (productIds) => {
      const rows = (await run(`SELECT product_id AS "productId", stock FROM inventory_items WHERE product_id = ANY($1::int[])`, [...productIds])) as {
        productId: number;
        stock: number;
      }[];
      return byKeys(productIds, rows, (row) => row.productId).map((row) => row?.stock ?? 0);
    }),
    waitlistByProductId: createRowListsByKeyLoader<number, WaitlistEntry>(
      run,
      {
        table: 'waitlist_entries',
        keyColumn: 'product_id',
        keyType: 'int',
        columns: { id: 'id', productId: 'product_id', email: 'email', createdAt: 'created_at' },
        orderBy: 'created_at, id',
      },
      (entry) => entry.productId,
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
