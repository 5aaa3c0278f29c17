import { createKeysetPerKeyLoader, createRowByKeyLoader, createRowListsByKeyLoader, createTopPerKeyLoader, runSql, type SqlClient } from '@commerce/service-kit';
import type { Order, OrderItem } from './generated/prisma/client.ts';

/** Every column of the model: an order from a list is the same Order as one from orderById. */
const ORDER_COLUMNS = {
  id: 'id',
  userId: 'user_id',
  status: 'status',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  idempotencyKey: 'idempotency_key',
  requestFingerprint: 'request_fingerprint',
  rejectionReason: 'rejection_reason',
} as const satisfies Record<keyof Order, string>;

const ITEM_COLUMNS = {
  id: 'id',
  orderId: 'order_id',
  productId: 'product_id',
  quantity: 'quantity',
  unitPriceCents: 'unit_price_cents',
} as const satisfies Record<keyof OrderItem, string>;

/** One SQL statement per batch; results in key order; null (or []) for keys that match nothing. */
export function createLoaders(sql: SqlClient) {
  const run = runSql(sql);
  return {
    orderById: createRowByKeyLoader<number, Order>(run, { table: 'orders', keyColumn: 'id', keyType: 'int', columns: ORDER_COLUMNS }, (order) => order.id),
    // Order.items and Order.totalCents both read this, so a total costs no extra statement.
    itemsByOrderId: createRowListsByKeyLoader<number, OrderItem>(
      run,
      { table: 'order_items', keyColumn: 'order_id', keyType: 'int', columns: ITEM_COLUMNS, orderBy: 'id' },
      (item) => item.orderId,
    ),
    // User.orders: each user's newest `first` orders, for every user of the batch in one statement.
    ordersByUserId: createTopPerKeyLoader<Order>(run, {
      table: 'orders',
      keyColumn: 'user_id',
      columns: ORDER_COLUMNS,
      orderBy: 'created_at DESC, id DESC',
    }),
    // User.ordersConnection: a page after a (created_at, id) position for every user of the batch, in one statement.
    orderPagesByUserId: createKeysetPerKeyLoader<Order>(run, { table: 'orders', keyColumn: 'user_id', columns: ORDER_COLUMNS, createdAtColumn: 'created_at' }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
