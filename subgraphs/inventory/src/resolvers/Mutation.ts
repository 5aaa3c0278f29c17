import { badUserInput, notFound, parseId, publishEvent, requireInt } from '@commerce/service-kit';
import type { MutationResolvers } from '../generated/graphql.ts';

export const MAX_RESTOCK_QUANTITY = 100_000;
export const MAX_STOCK = 1_000_000;
/**
 * A restock waits for a pooled connection as long as a plain statement would (the pool's connect
 * timeout): under a burst of orders the inbox's transactions hold them.
 */
const RESTOCK_TRANSACTION = { timeout: 10_000 };

export const Mutation: MutationResolvers = {
  async restock(_parent, args, { sql }) {
    const productId = parseId(args.productId, 'productId');
    const quantity = requireInt(args.quantity, 'quantity', { min: 1, max: MAX_RESTOCK_QUANTITY });
    // One atomic statement: the product must be in inventory's replica of the catalogue (fed by
    // products' events; inventory never reads the products database), the stock goes up, and the
    // ledger records it, or nothing happens. The row lock taken by ON CONFLICT serialises concurrent
    // restocks of a product, so none loses an update (read-then-write would), and the cap is
    // checked against the locked row. `stocked` is empty when the product is unknown or the cap
    // would be exceeded; `known` tells which. StockChanged (for the router's entity cache) is
    // written in the same transaction, after the change: both commit or neither does, and the row
    // lock, held until commit, puts a product's StockChanged events in the order of its stock levels.
    // Raw SQL through the database's own client, not Prisma's: its interactive transaction cost
    // several times this write's own CPU (DESIGN, "Raw SQL without Prisma's client").
    const row = await sql.$transaction(async (tx) => {
      const [changed] = await tx.$queryRawUnsafe<{ known: boolean; stock: number | null }[]>(
        `WITH known AS (
           SELECT product_id FROM catalog_products WHERE product_id = $1
         ), stocked AS (
           INSERT INTO inventory_items (product_id, stock, updated_at)
           SELECT product_id, $2::int, now() FROM known
           ON CONFLICT (product_id) DO UPDATE
             SET stock = inventory_items.stock + EXCLUDED.stock, updated_at = now()
             WHERE inventory_items.stock + EXCLUDED.stock <= $3
           RETURNING product_id, stock
         ), recorded AS (
           INSERT INTO stock_movements (product_id, delta, reason)
           SELECT product_id, $2::int, 'RESTOCK'::stock_movement_reason FROM stocked
         )
         SELECT EXISTS (SELECT 1 FROM known) AS known, (SELECT stock FROM stocked) AS stock`,
        productId,
        quantity,
        MAX_STOCK,
      );
      if (changed?.stock != null) {
        await publishEvent(tx, { source: 'inventory', type: 'StockChanged', aggregate: `product:${productId}`, payload: { productId, stock: changed.stock } });
      }
      return changed;
    }, RESTOCK_TRANSACTION);
    if (!row?.known) throw notFound('Product', productId);
    if (row.stock === null) {
      throw badUserInput(`The maximum stock is ${MAX_STOCK}: adding ${quantity} would exceed it`, 'quantity');
    }
    return { product: { id: productId, stock: row.stock } };
  },
};
