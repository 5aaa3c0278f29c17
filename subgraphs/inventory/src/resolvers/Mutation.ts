import { badUserInput, guardWrite, parseId, requireInt } from '@commerce/service-kit';
import type { MutationResolvers } from '../generated/graphql.ts';

export const MAX_RESTOCK_QUANTITY = 100_000;
export const MAX_STOCK = 1_000_000;

export const Mutation: MutationResolvers = {
  async restock(_parent, args, { db }) {
    const productId = parseId(args.productId, 'productId');
    const quantity = requireInt(args.quantity, 'quantity', { min: 1, max: MAX_RESTOCK_QUANTITY });
    // One atomic statement: the row lock taken by ON CONFLICT serialises concurrent restocks of a
    // product, so none loses an update (read-then-write would), and the cap is checked against the
    // locked row. No row back means the cap would be exceeded and nothing changed.
    // Trade-off: inventory never reads the products database, so it cannot check that the product
    // exists; restocking an unknown id creates its row. Checking would couple every restock to
    // products being up; the cost is a row for an id the catalogue does not show.
    const rows = await guardWrite(
      () => db.$queryRaw<{ stock: number }[]>`
        INSERT INTO inventory_items (product_id, stock, updated_at)
        VALUES (${productId}, ${quantity}, now())
        ON CONFLICT (product_id) DO UPDATE
          SET stock = inventory_items.stock + EXCLUDED.stock, updated_at = now()
          WHERE inventory_items.stock + EXCLUDED.stock <= ${MAX_STOCK}
        RETURNING stock`,
    );
    const row = rows[0];
    if (!row) {
      throw badUserInput(`The maximum stock is ${MAX_STOCK}: adding ${quantity} would exceed it`, 'quantity');
    }
    return { product: { id: productId, stock: row.stock } };
  },
};
