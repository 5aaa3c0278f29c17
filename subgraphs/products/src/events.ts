import { publishEvent, type EventPayload, type ProductsSnapshot } from '@commerce/service-kit';
import type { PrismaClient, Product } from './generated/prisma/client.ts';

/**
 * What products tells other services about a product (the catalogue's `productFacts`): that it
 * exists, its SKU, name and current price, at a revision. The revision starts at 1 and grows by
 * one with every change, so a replica applies a fact only if it is newer than the one it holds,
 * whatever order or how many times facts reach it.
 */
export type ProductFacts = EventPayload<'products', 'ProductCreated'>;

type FactColumns = Pick<Product, 'id' | 'sku' | 'name' | 'priceCents' | 'revision'>;

export function productFacts(product: FactColumns): ProductFacts {
  return { productId: product.id, sku: product.sku, name: product.name, priceCents: product.priceCents, revision: product.revision };
}

/** The ordering key of every event about one product: the relay delivers them in outbox order. */
export function productAggregate(productId: number): string {
  return `product:${productId}`;
}

/** Products per backfill transaction: short transactions, and a failure repeats one batch at most. */
export const BACKFILL_BATCH_SIZE = 500;

/**
 * Publishes one `ProductSnapshot` per product, its current facts and revision, for a new
 * subscriber's replica (the kit's signed `POST /internal/events/backfill` calls this). Batches in
 * id order, each read and published in one transaction. The rows are read `FOR SHARE`: a price
 * change of the same product waits for the batch or the batch waits for it, so per product the
 * revisions in outbox order never go down (a snapshot can repeat the latest revision, never
 * precede an older one). Running it twice is harmless: replicas ignore facts that are not newer.
 * Returns how many snapshots it published.
 */
export async function backfill(db: PrismaClient, batchSize = BACKFILL_BATCH_SIZE): Promise<number> {
  let afterId = 0;
  let published = 0;
  for (;;) {
    const rows = await db.$transaction(
      async (tx) => {
        const batch = await tx.$queryRaw<{ id: number; sku: string; name: string; price_cents: number; revision: number }[]>`
          SELECT id, sku, name, price_cents, revision FROM products WHERE id > ${afterId} ORDER BY id LIMIT ${batchSize} FOR SHARE`;
        for (const row of batch) {
          await publishEvent(tx, {
            source: 'products',
            type: 'ProductSnapshot',
            aggregate: productAggregate(row.id),
            payload: productFacts({ id: row.id, sku: row.sku, name: row.name, priceCents: row.price_cents, revision: row.revision }),
          });
        }
        return batch;
      },
      // A batch is one read and `batchSize` small inserts; the default 5 s would be tight on a busy machine.
      { timeout: 30_000 },
    );
    published += rows.length;
    const last = rows.at(-1);
    if (!last || rows.length < batchSize) return published;
    afterId = last.id;
  }
}

/** Every product's price and revision, for `npm run consistency` to compare replicas with. */
export async function snapshot(db: PrismaClient): Promise<ProductsSnapshot> {
  const rows = await db.product.findMany({ orderBy: { id: 'asc' }, select: { id: true, priceCents: true, revision: true } });
  return { products: rows.map((row) => ({ productId: row.id, priceCents: row.priceCents, revision: row.revision })) };
}
