import { PoisonEvent, type EventEnvelope, type EventHandlers, type EventPayload, type EventSource, type EventType, type SqlClient } from '@commerce/service-kit';

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
    const changed = await tx.$executeRawUnsafe(
      `UPDATE orders SET status = 'CONFIRMED', updated_at = now() WHERE id = $1 AND status = 'PENDING'`,
      orderId,
    );
    if (changed === 0) await requireOrder(tx, orderId, event);
  },

  'inventory.StockRejected': async (tx, event) => {
    const { orderId, reason, message } = v1(event, 'inventory', 'StockRejected');
    const changed = await tx.$executeRawUnsafe(
      `UPDATE orders SET status = 'REJECTED', rejection_reason = $2, updated_at = now() WHERE id = $1 AND status = 'PENDING'`,
      orderId,
      `${reason}: ${message}`,
    );
    if (changed === 0) await requireOrder(tx, orderId, event);
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
