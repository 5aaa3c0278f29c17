import { PoisonEvent, publishEvent, type EventEnvelope, type EventHandlers, type EventPayload, type EventSource, type EventType, type SqlClient } from '@commerce/service-kit';

/**
 * What orders does with the events it subscribes to. Each handler runs in the inbox's transaction
 * (`tx`, and only `tx`), so a redelivered event has no second effect; on top of that every handler
 * is idempotent by itself: a status moves only from PENDING, and a replica row only to a newer
 * revision.
 */
export const eventHandlers: EventHandlers = {
  // Inventory reserved every item. An order that is no longer PENDING (cancelled meanwhile, or
  // settled by an earlier delivery) stays as it is: inventory releases a cancelled order's stock
  // when OrderCancelled reaches it, which is always after the OrderPlaced it answers here.
  'inventory.StockReserved': async (tx, event) => {
    const { orderId } = v1(event, 'inventory', 'StockReserved');
    const moved = await tx.$queryRawUnsafe<Settled[]>(
      `UPDATE orders SET status = 'CONFIRMED', updated_at = now() WHERE id = $1 AND status = 'PENDING' RETURNING user_id AS "userId"`,
      orderId,
    );
    await settled(tx, orderId, moved, 'CONFIRMED', event);
  },

  'inventory.StockRejected': async (tx, event) => {
    const { orderId, reason, message } = v1(event, 'inventory', 'StockRejected');
    const moved = await tx.$queryRawUnsafe<Settled[]>(
      `UPDATE orders SET status = 'REJECTED', rejection_reason = $2, updated_at = now() WHERE id = $1 AND status = 'PENDING'
       RETURNING user_id AS "userId", rejection_reason AS reason`,
      orderId,
      `${reason}: ${message}`,
    );
    await settled(tx, orderId, moved, 'REJECTED', event);
  },

  'products.ProductCreated': async (tx, event) => replicate(tx, v1(event, 'products', 'ProductCreated')),
  'products.ProductPriceChanged': async (tx, event) => replicate(tx, v1(event, 'products', 'ProductPriceChanged')),
  'products.ProductSnapshot': async (tx, event) => replicate(tx, v1(event, 'products', 'ProductSnapshot')),
};

/**
 * Applies a product fact to the replica only if it is newer than what the replica holds: events
 * of one product arrive in order, but a snapshot (backfill) or a replay may bring an older one.
 */
async function replicate(tx: SqlClient, product: { productId: number; priceCents: number; revision: number }): Promise<void> {
  await tx.$executeRawUnsafe(
    `INSERT INTO catalog_products (product_id, price_cents, revision, updated_at) VALUES ($1, $2, $3, now())
     ON CONFLICT (product_id) DO UPDATE
       SET price_cents = EXCLUDED.price_cents, revision = EXCLUDED.revision, updated_at = now()
       WHERE catalog_products.revision < EXCLUDED.revision`,
    product.productId,
    product.priceCents,
    product.revision,
  );
}

/** What a status UPDATE ... RETURNING gives back when it moved the order (no row: it did not). */
type Settled = { userId: number; reason?: string };

/**
 * After inventory's answer: when it moved the order, OrderStatusChanged in the same transaction
 * (the router's entity cache drops the order and its customer's list of orders); when it did not
 * (settled or cancelled already), nothing is published, and an order orders never had is parked.
 */
async function settled(tx: SqlClient, orderId: number, moved: Settled[], status: 'CONFIRMED' | 'REJECTED', event: EventEnvelope): Promise<void> {
  const [row] = moved;
  if (!row) return requireOrder(tx, orderId, event);
  await publishEvent(tx, {
    source: 'orders',
    type: 'OrderStatusChanged',
    aggregate: `order:${orderId}`,
    payload: { orderId, userId: row.userId, status, ...(row.reason ? { reason: row.reason } : {}) },
  });
}

/** Inventory only answers orders that orders placed: one it never had means a bug, for an operator. */
async function requireOrder(tx: SqlClient, orderId: number, event: EventEnvelope): Promise<void> {
  const rows = await tx.$queryRawUnsafe<unknown[]>(`SELECT 1 FROM orders WHERE id = $1`, orderId);
  if (rows.length === 0) throw new PoisonEvent(`${event.source}.${event.type} is about order ${orderId}, which orders never placed`);
}

/**
 * The payload of a version-1 event, typed from the catalogue. The receiver has already checked it
 * against the schema of its version; a version these handlers were not written for is parked.
 */
function v1<Source extends EventSource, Type extends EventType<Source>>(event: EventEnvelope, source: Source, type: Type): EventPayload<Source, Type> {
  if (event.version !== 1) throw new PoisonEvent(`orders understands ${source}.${type} version 1, not ${event.version}`);
  return event.payload as EventPayload<Source, Type>;
}
