import type { InventorySnapshot } from '@commerce/service-kit';
import type { PrismaClient } from './generated/prisma/client.ts';

/**
 * What inventory reports to the consistency check: each product's stock beside the sum of its
 * ledger (they must agree), the reservations still held, every decision, and its replica of the
 * catalogue. Read in one transaction so the parts agree with each other.
 */
export async function snapshot(db: PrismaClient): Promise<InventorySnapshot> {
  const [stock, reservations, decisions, catalog] = await db.$transaction([
    db.$queryRaw<{ productId: number; stock: number; ledger: number }[]>`
      SELECT i.product_id AS "productId", i.stock, COALESCE(SUM(m.delta), 0)::int AS ledger
        FROM inventory_items i LEFT JOIN stock_movements m ON m.product_id = i.product_id
       GROUP BY i.product_id, i.stock
       ORDER BY i.product_id`,
    db.reservation.findMany({
      where: { releasedAt: null },
      select: { orderId: true, productId: true, quantity: true },
      orderBy: [{ orderId: 'asc' }, { productId: 'asc' }],
    }),
    db.orderDecision.findMany({ select: { orderId: true, outcome: true }, orderBy: { orderId: 'asc' } }),
    db.catalogProduct.findMany({ select: { productId: true, revision: true }, orderBy: { productId: 'asc' } }),
  ]);
  return { stock, reservations, decisions, catalog };
}
