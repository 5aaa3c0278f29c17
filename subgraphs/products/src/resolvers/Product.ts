import { tryParseId } from '@commerce/service-kit';
import type { ProductResolvers } from '../generated/graphql.ts';

export const Product: ProductResolvers = {
  // The router sends either key; an unknown or malformed key resolves to null, never an error.
  async __resolveReference(reference, { loaders }) {
    if ('id' in reference && reference.id !== undefined) {
      const id = tryParseId(reference.id);
      return id === null ? null : loaders.productById.load(id);
    }
    if ('sku' in reference && typeof reference.sku === 'string') {
      // Stored SKUs are upper case; trimming matches what createProduct stores.
      return loaders.productBySku.load(reference.sku.trim().toUpperCase());
    }
    return null;
  },
  id: (product) => String(product.id),
};
