import { guardWrite, notFound, parseId, requireText } from '@commerce/service-kit';
import type { MutationResolvers } from '../generated/graphql.ts';
import { requireDescription, requirePriceCents, requireSku, requireWeightGrams } from '../input.ts';

export const Mutation: MutationResolvers = {
  async createProduct(_parent, { input }, { db }) {
    const data = {
      sku: requireSku(input.sku, 'input.sku'),
      name: requireText(input.name, 'input.name', { max: 200 }),
      description: requireDescription(input.description, 'input.description'),
      priceCents: requirePriceCents(input.priceCents, 'input.priceCents'),
      weightGrams: requireWeightGrams(input.weightGrams, 'input.weightGrams'),
      category: input.category,
    };
    // The unique index decides under concurrency; a duplicate SKU becomes a CONFLICT error.
    const product = await guardWrite(() => db.product.create({ data }));
    return { product };
  },

  async updateProductPrice(_parent, args, { db }) {
    const id = parseId(args.id, 'id');
    const priceCents = requirePriceCents(args.priceCents, 'priceCents');
    // One UPDATE … RETURNING; a miss returns no row instead of throwing, so the NOT_FOUND is
    // ours (with typename and id) and no Prisma message can leak.
    const [product] = await guardWrite(() => db.product.updateManyAndReturn({ where: { id }, data: { priceCents } }));
    if (!product) throw notFound('Product', id);
    return { product };
  },
};
