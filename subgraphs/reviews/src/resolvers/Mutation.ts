import { guardWrite, notFound, parseId, publishEvent, requireInt, requireText, signedInUserId } from '@commerce/service-kit';
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
    // ReviewAdded (for the router's entity cache: the product's rating and reviews, the author's
    // reviews) is written in the transaction that inserts the review: both commit or neither does.
    const review = await guardWrite(() =>
      db.$transaction(async (tx) => {
        const created = await tx.review.create({ data: { productId, authorId, rating, body } });
        await publishEvent(tx, {
          source: 'reviews',
          type: 'ReviewAdded',
          aggregate: `product:${productId}`,
          payload: { reviewId: created.id, productId, authorId, rating },
        });
        return created;
      }),
    );
    return { review };
  },
};
