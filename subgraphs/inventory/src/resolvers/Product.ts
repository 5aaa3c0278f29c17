import { tryParseId } from '@commerce/service-kit';
import type { ProductResolvers } from '../generated/graphql.ts';
import { shippingEstimateCents } from '../shipping.ts';

/** Representations are client-shaped JSON (_Any): keep a required field only if it is an integer. */
function integerOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) ? value : null;
}

export const Product: ProductResolvers = {
  // Inventory cannot tell whether products knows this id (it never reads that database): any
  // well-formed id resolves, and one inventory has never stocked simply has stock 0.
  // A malformed id resolves to null, never an error.
  __resolveReference(reference) {
    const id = tryParseId(reference.id);
    if (id === null) return null;
    const required = reference as { priceCents?: unknown; weightGrams?: unknown };
    return { id, priceCents: integerOrNull(required.priceCents), weightGrams: integerOrNull(required.weightGrams) };
  },
  id: (product) => String(product.id),
  stock: (product, _args, { loaders }) => product.stock ?? loaders.stockByProductId.load(product.id),
  // Same loader (and cache) as stock: asking for both costs one statement, not two.
  inStock: async (product, _args, { loaders }) => (product.stock ?? (await loaders.stockByProductId.load(product.id))) > 0,
  shippingEstimateCents: ({ priceCents, weightGrams }) =>
    // Only the router's @requires supplies these; without them there is nothing to estimate.
    priceCents === null || priceCents === undefined || weightGrams === null || weightGrams === undefined
      ? null
      : shippingEstimateCents(priceCents, weightGrams),
  waitlist: async (product, _args, { loaders }) =>
    (await loaders.waitlistByProductId.load(product.id)).map(({ email }) => ({ email })),
};
