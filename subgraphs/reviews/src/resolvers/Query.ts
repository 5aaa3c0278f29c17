import { notFound, parseId } from '@commerce/service-kit';
import type { QueryResolvers } from '../generated/graphql.ts';

export const Query: QueryResolvers = {
  async review(_parent, args, { loaders }) {
    const id = parseId(args.id, 'id');
    const review = await loaders.reviewById.load(id);
    if (!review) throw notFound('Review', id);
    return review;
  },
};
