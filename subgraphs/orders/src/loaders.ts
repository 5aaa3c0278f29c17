import { byKeys, createLoader, createTopPerKeyLoader, groupByKeys } from '@commerce/service-kit';
import type { Order, OrderItem, PrismaClient } from './generated/prisma/client.ts';

/** One SQL statement per batch; results in key order; null (or []) for keys that match nothing. */
export function createLoaders(db: PrismaClient) {
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
    ordersByUserId: createTopPerKeyLoader<Order>((text, ...values) => db.$queryRawUnsafe(text, ...values), {
      table: 'orders',
      keyColumn: 'user_id',
      // Every column of the model: an order from this list is the same Order as one from orderById.
      columns: {
        id: 'id',
        userId: 'user_id',
        status: 'status',
        createdAt: 'created_at',
        updatedAt: 'updated_at',
        idempotencyKey: 'idempotency_key',
        requestFingerprint: 'request_fingerprint',
        rejectionReason: 'rejection_reason',
      },
      orderBy: 'created_at DESC, id DESC',
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
