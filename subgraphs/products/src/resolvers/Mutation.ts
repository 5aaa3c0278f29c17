import { guardWrite, notFound, parseId, publishEvent, requireText } from '@commerce/service-kit';
import { productAggregate, productFacts } from '../events.ts';
import type { MutationResolvers } from '../generated/graphql.ts';
import { requireDescription, requirePriceCents, requireSku, requireWeightGrams } from '../input.ts';

// Every change of a product publishes its event in the same transaction, after the write: both
// commit or neither does, and the write's row lock orders concurrent events of one product.
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
    // The unique index decides under concurrency; a duplicate SKU becomes a CONFLICT error (and
    // rolls back, so no event is left behind).
    const product = await guardWrite(() =>
      db.$transaction(async (tx) => {
        const created = await tx.product.create({ data });
        await publishEvent(tx, { source: 'products', type: 'ProductCreated', aggregate: productAggregate(created.id), payload: productFacts(created) });
        return created;
      }),
    );
    return { product };
  },

  async updateProductPrice(_parent, args, { db }) {
    const id = parseId(args.id, 'id');
    const priceCents = requirePriceCents(args.priceCents, 'priceCents');
    const product = await guardWrite(() =>
      db.$transaction(async (tx) => {
        // Lock first: concurrent changes of one product queue here, so each one reads the price
        // the one before it set (previousPriceCents) and their events enter the outbox in
        // revision order. A miss returns no row instead of throwing, so the NOT_FOUND is ours.
        const [current] = await tx.$queryRaw<{ price_cents: number }[]>`SELECT price_cents FROM products WHERE id = ${id} FOR UPDATE`;
        if (!current) return null;
        // The same price again changes no fact: no new revision, no event (a retried mutation
        // publishes nothing twice). The product is returned as it is.
        if (current.price_cents === priceCents) return tx.product.findUniqueOrThrow({ where: { id } });
        const updated = await tx.product.update({ where: { id }, data: { priceCents, revision: { increment: 1 } } });
        await publishEvent(tx, {
          source: 'products',
          type: 'ProductPriceChanged',
          aggregate: productAggregate(id),
          payload: { ...productFacts(updated), previousPriceCents: current.price_cents },
        });
        return updated;
      }),
    );
    if (!product) throw notFound('Product', id);
    return { product };
  },
};
