import { PoisonEvent, type EventHandler, type EventHandlers, type EventPayload, type ReviewsSnapshot } from '@commerce/service-kit';
import type { PrismaClient } from './generated/prisma/client.ts';

/**
 * reviews' replica of the catalogue (`catalog_products`): which products exist, at the revision
 * products last told us about. It is fed only by products' events and read only by reviews; it
 * is never a copy of products' database, and reviews never reads that database.
 */
type ProductFacts = EventPayload<'products', 'ProductCreated'>;

/**
 * Records a product's facts if they are newer than the ones held. One statement, so concurrent
 * deliveries cannot interleave a read and a write: an older or equal revision (a late event, a
 * snapshot of a product the stream already brought) changes nothing. Runs in the receiver's
 * transaction, through `tx` only.
 */
const applyProductFacts: EventHandler = async (tx, event) => {
  // The receiver has checked the payload against the catalogue's schema of its version; this code
  // reads version 1. A later version must be taught here before products publishes it.
  if (event.version !== 1) throw new PoisonEvent(`reviews reads version 1 of ${event.source}.${event.type}, not ${event.version}`);
  const { productId, revision } = event.payload as ProductFacts;
  await tx.$executeRawUnsafe(
    `INSERT INTO catalog_products (product_id, revision, updated_at) VALUES ($1, $2, now())
     ON CONFLICT (product_id) DO UPDATE SET revision = EXCLUDED.revision, updated_at = EXCLUDED.updated_at
      WHERE catalog_products.revision < EXCLUDED.revision`,
    productId,
    revision,
  );
};

/** What reviews subscribes to (the kit's catalogue says which; checked at start). */
export const eventHandlers: EventHandlers = {
  'products.ProductCreated': applyProductFacts,
  'products.ProductSnapshot': applyProductFacts,
};

/** The replica, for `npm run consistency` to compare with products' own snapshot. */
export async function snapshot(db: PrismaClient): Promise<ReviewsSnapshot> {
  const rows = await db.catalogProduct.findMany({ orderBy: { productId: 'asc' }, select: { productId: true, revision: true } });
  return { catalog: rows };
}
