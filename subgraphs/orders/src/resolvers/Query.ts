import { notFound, parseId } from '@commerce/service-kit';
import type { QueryResolvers } from '../generated/graphql.ts';

export const Query: QueryResolvers = {
  async order(_parent, args, { loaders }) {
    const id = parseId(args.id, 'id');
    const order = await loaders.orderById.load(id);
    if (!order) throw notFound('Order', id);
    return order;
  },
};
