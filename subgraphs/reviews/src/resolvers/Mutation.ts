import { guardWrite, parseId, requireInt, requireText, signedInUserId } from '@commerce/service-kit';
import type { MutationResolvers } from '../generated/graphql.ts';

export const Mutation: MutationResolvers = {
  // @signedIn in the SDL: only a signed-in user gets here, and the author is always the caller.
  async addReview(_parent, { input }, { db, viewer }) {
    const authorId = signedInUserId(viewer);
    const productId = parseId(input.productId, 'input.productId');
    const rating = requireInt(input.rating, 'input.rating', { min: 1, max: 5 });
    const body = requireText(input.body, 'input.body', { max: 2000, multiline: true });
    // Trade-off: reviews owns only its own database, so it cannot check that the product or the
    // user exists (that would mean reading products' and accounts' databases, or a synchronous
    // call that couples this write to their uptime). A well-formed but unknown id is stored; the
    // router then resolves `product`/`author` to null. Existence checks belong upstream (the
    // router or a client that has just read the product), not in this service.
    const review = await guardWrite(() => db.review.create({ data: { productId, authorId, rating, body } }));
    return { review };
  },
};
