import { randomInt, SEED, seedDate, seededRandom, seedProductPriceCents } from '@commerce/service-kit';
import type { OrderStatus, PrismaClient } from './generated/prisma/client.ts';

/** The one generator stream every seeded order is drawn from ("ords" in ASCII). */
export const ORDER_SEED = 0x6f726473;

/**
 * Status by a roll of 1..20: history from before the order flow, so every order is settled (paid,
 * shipped, delivered or cancelled). None is PENDING: a pending order is one inventory is deciding
 * on, and the consistency check rightly calls one that never reached inventory stuck.
 */
const STATUS_BY_ROLL: readonly [maxRoll: number, status: OrderStatus][] = [
  [9, 'DELIVERED'], // 45%
  [14, 'SHIPPED'], // 25%
  [19, 'PAID'], // 25%
  [20, 'CANCELLED'], // 5%
];

export interface SeedOrderItem {
  id: number;
  orderId: number;
  productId: number;
  quantity: number;
  unitPriceCents: number;
}

export interface SeedOrder {
  id: number;
  userId: number;
  status: OrderStatus;
  createdAt: Date;
  /** Seeded orders were last changed when they were placed. */
  updatedAt: Date;
  /** Seeded orders were not placed through placeOrder: no key, no fingerprint, never rejected. */
  idempotencyKey: null;
  requestFingerprint: null;
  rejectionReason: null;
  items: SeedOrderItem[];
}

/**
 * Orders 1..SEED.orders, each drawn in this order from one stream: userId (1..users), status roll
 * (1..20), item count (1..4), then per item a productId (1..products, redrawn until distinct
 * within the order) and a quantity (1..3). Orders 1 and 2 belong to user 1 whatever the draw, so
 * cross-service tests always have a user with several orders. Prices are the seeded catalogue's
 * list prices; order i was placed at minute i of day 60, so ordering by createdAt is total.
 */
export function seedOrders(): SeedOrder[] {
  const random = seededRandom(ORDER_SEED);
  const orders: SeedOrder[] = [];
  let itemId = 0;
  for (let id = 1; id <= SEED.orders; id++) {
    const drawnUser = randomInt(random, 1, SEED.users);
    const roll = randomInt(random, 1, 20);
    const status = STATUS_BY_ROLL.find(([maxRoll]) => roll <= maxRoll)?.[1] ?? 'DELIVERED';
    const itemCount = randomInt(random, 1, 4);
    const productIds = new Set<number>();
    const items: SeedOrderItem[] = [];
    while (items.length < itemCount) {
      const productId = randomInt(random, 1, SEED.products);
      if (productIds.has(productId)) continue;
      productIds.add(productId);
      const quantity = randomInt(random, 1, 3);
      items.push({ id: ++itemId, orderId: id, productId, quantity, unitPriceCents: seedProductPriceCents(productId) });
    }
    const createdAt = seedDate(60, id);
    orders.push({
      id,
      userId: id <= 2 ? 1 : drawnUser,
      status,
      createdAt,
      updatedAt: createdAt,
      idempotencyKey: null,
      requestFingerprint: null,
      rejectionReason: null,
      items,
    });
  }
  return orders;
}

/**
 * orders' replica of the seeded catalogue, as products' events would have made it: products
 * 1..SEED.products at revision 1 with their list prices. Only price and revision: orders needs
 * nothing else of a product (names and SKUs are products' to show).
 */
export function seedCatalog(): { productId: number; priceCents: number; revision: number; updatedAt: Date }[] {
  return Array.from({ length: SEED.products }, (_, i) => ({
    productId: i + 1,
    priceCents: seedProductPriceCents(i + 1),
    revision: 1,
    updatedAt: seedDate(0, i + 1),
  }));
}

export async function seed(db: PrismaClient): Promise<void> {
  await db.catalogProduct.createMany({ data: seedCatalog() });
  const orders = seedOrders();
  await db.order.createMany({ data: orders.map(({ items: _items, ...order }) => order) });
  await db.orderItem.createMany({ data: orders.flatMap((order) => order.items) });
  // Explicit ids bypass the sequences; move them past the seed so later inserts do not collide.
  await db.$executeRawUnsafe(`SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT max(id) FROM orders))`);
  await db.$executeRawUnsafe(`SELECT setval(pg_get_serial_sequence('order_items', 'id'), (SELECT max(id) FROM order_items))`);
}
