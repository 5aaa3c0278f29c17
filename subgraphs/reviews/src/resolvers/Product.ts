import { requireInt, tryParseId } from '@commerce/service-kit';
import type { ProductResolvers } from '../generated/graphql.ts';
import { REVIEW_LIST } from '../models.ts';
import { reviewPage } from '../pages.ts';

export const Product: ProductResolvers = {
  // products owns products; any well-formed id is a product here (no reviews → empty list,
  // averageRating null, reviewCount 0). A malformed id resolves to null, never an error.
  __resolveReference(reference) {
    const id = tryParseId(reference.id);
    return id === null ? null : { id };
  },
  id: (product) => String(product.id),
  reviews: (product, args, { loaders }) => {
    const first = requireInt(args.first ?? REVIEW_LIST.defaultSize, 'first', { min: 1, max: REVIEW_LIST.maxSize });
    return loaders.reviewsByProductId.load({ key: product.id, first });
  },
  reviewsConnection: (product, args, { loaders }) => reviewPage(loaders.reviewPagesByProductId, product.id, args),
  // Both fields share one loader, so asking for both costs one groupBy per batch.
  averageRating: async (product, _args, { loaders }) => (await loaders.ratingStatsByProductId.load(product.id)).averageRating,
  reviewCount: async (product, _args, { loaders }) => (await loaders.ratingStatsByProductId.load(product.id)).reviewCount,
};
