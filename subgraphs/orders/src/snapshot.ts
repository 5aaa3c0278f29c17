import type { OrdersSnapshot } from '@commerce/service-kit';
import type { PrismaClient } from './generated/prisma/client.ts';

/**
 * What orders reports to the consistency check: every order with its status, age and items, and
 * its replica of the catalogue. Three statements, read in one transaction so they agree.
 */
export async function snapshot(db: PrismaClient): Promise<OrdersSnapshot> {
  const [orders, items, catalog, [clock]] = await db.$transaction([
    db.order.findMany({ select: { id: true, status: true, createdAt: true }, orderBy: { id: 'asc' } }),
    db.orderItem.findMany({ select: { orderId: true, productId: true, quantity: true, unitPriceCents: true }, orderBy: { id: 'asc' } }),
    db.catalogProduct.findMany({ select: { productId: true, priceCents: true, revision: true }, orderBy: { productId: 'asc' } }),
    db.$queryRaw<{ now: Date }[]>`SELECT now() AS now`,
  ]);
  const now = clock?.now.getTime() ?? Date.now();
  const itemsOf = Map.groupBy(items, (item) => item.orderId);
  return {
    orders: orders.map((order) => ({
      orderId: order.id,
      status: order.status,
      ageSeconds: Math.max(0, Math.round((now - order.createdAt.getTime()) / 100) / 10),
      items: (itemsOf.get(order.id) ?? []).map(({ productId, quantity, unitPriceCents }) => ({ productId, quantity, unitPriceCents })),
    })),
    catalog,
  };
}
