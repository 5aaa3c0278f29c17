import { PoisonEvent, type EventEnvelope, type EventHandlers, type EventPayload, type EventSource, type EventType, type SqlClient } from '@commerce/service-kit';
import { release, reserve } from './reservations.ts';

/**
 * What inventory does with the events it subscribes to. Each handler runs in the inbox's
 * transaction (`tx`, and only `tx`), so a redelivered event has no second effect; the order flow's
 * handlers are also idempotent by themselves (one decision per order, see reservations.ts), and a
 * replica row only moves to a newer revision.
 */
export const eventHandlers: EventHandlers = {
  'orders.OrderPlaced': async (tx, event) => reserve(tx, v1(event, 'orders', 'OrderPlaced')),
  'orders.OrderCancelled': async (tx, event) => release(tx, v1(event, 'orders', 'OrderCancelled')),
  'products.ProductCreated': async (tx, event) => replicate(tx, v1(event, 'products', 'ProductCreated')),
  'products.ProductSnapshot': async (tx, event) => replicate(tx, v1(event, 'products', 'ProductSnapshot')),
};

/** Existence is all inventory keeps of a product; the revision only guards against an older fact arriving late. */
async function replicate(tx: SqlClient, product: { productId: number; revision: number }): Promise<void> {
  await tx.$executeRawUnsafe(
    `INSERT INTO catalog_products (product_id, revision, updated_at) VALUES ($1, $2, now())
     ON CONFLICT (product_id) DO UPDATE SET revision = EXCLUDED.revision, updated_at = now()
       WHERE catalog_products.revision < EXCLUDED.revision`,
    product.productId,
    product.revision,
  );
}

/**
 * The payload of a version-1 event, typed from the catalogue. The receiver has already checked it
 * against the schema of its version; a version these handlers were not written for is parked.
 */
function v1<Source extends EventSource, Type extends EventType<Source>>(event: EventEnvelope, source: Source, type: Type): EventPayload<Source, Type> {
  if (event.version !== 1) throw new PoisonEvent(`inventory understands ${source}.${type} version 1, not ${event.version}`);
  return event.payload as EventPayload<Source, Type>;
}
