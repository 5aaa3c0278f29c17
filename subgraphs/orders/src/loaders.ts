import { byKeys, createKeysetPerKeyLoader, createLoader, createTopPerKeyLoader, groupByKeys } from '@commerce/service-kit';
import type { Order, OrderItem, PrismaClient } from './generated/prisma/client.ts';

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

/** One SQL statement per batch; results in key order; null (or []) for keys that match nothing. */
export function createLoaders(db: PrismaClient) {
  const run = (text: string, ...values: unknown[]) => db.$queryRawUnsafe<unknown[]>(text, ...values);
  return {
    orderById: createLoader<number, Order | null>(async (ids) =>
      byKeys(ids, await db.order.findMany({ where: { id: { in: [...ids] } } }), (order) => order.id),
    ),
    // Order.items and Order.totalCents both read this, so a total costs no extra statement.
    itemsByOrderId: createLoader<number, OrderItem[]>(async (orderIds) =>
      groupByKeys(
        orderIds,
        await db.orderItem.findMany({ where: { orderId: { in: [...orderIds] } }, orderBy: { id: 'asc' } }),
        (item) => item.orderId,
      ),
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
