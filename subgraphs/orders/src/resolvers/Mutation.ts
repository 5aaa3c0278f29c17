import { signedInUserId } from '@commerce/service-kit';
import type { MutationResolvers } from '../generated/graphql.ts';
import { cancelOrder, parsePlaceOrderInput, placeOrder } from '../ordering.ts';

export const Mutation: MutationResolvers = {
  // @signedIn has let only signed-in users through; the order is theirs, whoever they say in input.
  placeOrder: (_parent, { input }, { db, viewer }) => placeOrder(db, signedInUserId(viewer), parsePlaceOrderInput(input)),
  cancelOrder: (_parent, { id }, { db, viewer }) => cancelOrder(db, viewer, id),
};
