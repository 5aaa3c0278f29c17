import { requireInt, tryParseId } from '@commerce/service-kit';
import type { UserResolvers } from '../generated/graphql.ts';
import { REVIEW_LIST } from '../models.ts';
import { reviewPage } from '../pages.ts';

export const User: UserResolvers = {
  // accounts owns users; any well-formed id is a user as far as reviews is concerned (one with no
  // reviews simply has an empty list). A malformed id resolves to null, never an error.
  __resolveReference(reference) {
    const id = tryParseId(reference.id);
    return id === null ? null : { id };
  },
  id: (user) => String(user.id),
  reviews: (user, args, { loaders }) => {
    const first = requireInt(args.first ?? REVIEW_LIST.defaultSize, 'first', { min: 1, max: REVIEW_LIST.maxSize });
    return loaders.reviewsByAuthorId.load({ key: user.id, first });
  },
  reviewsConnection: (user, args, { loaders }) => reviewPage(loaders.reviewPagesByAuthorId, user.id, args),
};
