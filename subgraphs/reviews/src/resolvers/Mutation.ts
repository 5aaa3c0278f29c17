import { guardWrite, notFound, parseId, requireInt, requireText, signedInUserId } from '@commerce/service-kit';
import type { MutationResolvers } from '../generated/graphql.ts';

export const Mutation: MutationResolvers = {
  // @signedIn in the SDL: only a signed-in user gets here, and the author is always the caller.
  async addReview(_parent, { input }, { db, viewer }) {
    const authorId = signedInUserId(viewer);
    const productId = parseId(input.productId, 'input.productId');
    const rating = requireInt(input.rating, 'input.rating', { min: 1, max: 5 });
    const body = requireText(input.body, 'input.body', { max: 2000, multiline: true });
    // The product must be in reviews' own replica of the catalogue (fed by products' events), so
    // this write depends on neither products' database nor its uptime. Products are never
    // deleted, so a product found here stays valid for the insert below. A product created a
    // moment ago is NOT_FOUND until its ProductCreated arrives (normally well under a second).
    // The author needs no such check: it is the signed-in caller, whose token the router verified.
    const known = await db.catalogProduct.findUnique({ where: { productId }, select: { productId: true } });
    if (!known) throw notFound('Product', productId);
    const review = await guardWrite(() => db.review.create({ data: { productId, authorId, rating, body } }));
    return { review };
  },
};
