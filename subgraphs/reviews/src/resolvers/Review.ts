import { tryParseId } from '@commerce/service-kit';
import type { ReviewResolvers } from '../generated/graphql.ts';

export const Review: ReviewResolvers = {
  // An unknown or malformed key resolves to null, never an error.
  async __resolveReference(reference, { loaders }) {
    const id = tryParseId(reference.id);
    return id === null ? null : loaders.reviewById.load(id);
  },
  id: (review) => String(review.id),
  // Stubs for entities owned by accounts and products: the router fetches their fields there.
  // The parent is the id-only ref; User.id / Product.id turn it into the `ID` string.
  author: (review) => ({ id: review.authorId }),
  product: (review) => ({ id: review.productId }),
};
