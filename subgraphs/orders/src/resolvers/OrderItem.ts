import type { OrderItemResolvers } from '../generated/graphql.ts';

export const OrderItem: OrderItemResolvers = {
  // products owns products (Product is resolvable: false here): only the key goes out.
  product: (item) => ({ __typename: 'Product', id: String(item.productId) }),
};
