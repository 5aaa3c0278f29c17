import { byKeys, createLoader, createRowListsByKeyLoader, rowsOfKeys, runSql, type RowsByKeyQuery, type SqlClient } from '@commerce/service-kit';
import type { InventoryItem, WaitlistEntry } from './generated/prisma/client.ts';

type Stock = Pick<InventoryItem, 'productId' | 'stock'>;
const STOCK: RowsByKeyQuery<Stock> = { table: 'inventory_items', keyColumn: 'product_id', keyType: 'int', columns: { productId: 'product_id', stock: 'stock' } };

/** One SQL statement per batch; results in key order; 0 or [] for keys that match nothing. */
export function createLoaders(sql: SqlClient) {
  const run = runSql(sql);
  return {
    /** A product inventory has never stocked has no row: its stock is 0. */
    stockByProductId: createLoader<number, number>(async (productIds) => {
      const rows = await rowsOfKeys<Stock>(run, STOCK, productIds);
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
