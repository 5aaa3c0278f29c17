import { notFound, parseId, parsePage, toConnection } from '@commerce/service-kit';
import type { QueryResolvers } from '../generated/graphql.ts';

export const PRODUCT_PAGE = { defaultSize: 20, maxSize: 100 } as const;
export const PRODUCT_CURSOR = 'product';

export const Query: QueryResolvers = {
  async product(_parent, args, { loaders }) {
    const id = parseId(args.id, 'id');
    const product = await loaders.productById.load(id);
    if (!product) throw notFound('Product', id);
    return product;
  },

  async products(_parent, args, { loaders }) {
    const page = parsePage(args, PRODUCT_PAGE, PRODUCT_CURSOR);
    // The (category, id) index serves the filtered page; the primary key serves the unfiltered one.
    const rows = await loaders.productsAfter(args.category ?? null, page.afterId, page.take + 1);
    return toConnection(rows, page, PRODUCT_CURSOR);
  },
};
