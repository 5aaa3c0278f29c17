import { tryParseId } from '@commerce/service-kit';
import type { OrderResolvers } from '../generated/graphql.ts';

export const Order: OrderResolvers = {
  // An unknown or malformed key resolves to null, never an error.
  async __resolveReference(reference, { loaders }) {
    const id = tryParseId(reference.id);
    return id === null ? null : loaders.orderById.load(id);
  },
  id: (order) => String(order.id),
  // accounts owns users: hand the router the key, it fetches the rest from there.
  user: (order) => ({ id: order.userId }),
  reason: (order) => order.rejectionReason,
  items: (order, _args, { loaders }) => loaders.itemsByOrderId.load(order.id),
  // Same loader (and cache) as `items`: the total never costs a statement of its own.
  async totalCents(order, _args, { loaders }) {
    const items = await loaders.itemsByOrderId.load(order.id);
    return items.reduce((total, item) => total + item.quantity * item.unitPriceCents, 0);
  },
};
