import { tryParseId } from '@commerce/service-kit';
import type { UserResolvers } from '../generated/graphql.ts';

export const User: UserResolvers = {
  // The router sends either key; an unknown or malformed key resolves to null, never an error.
  async __resolveReference(reference, { loaders }) {
    if ('id' in reference && reference.id !== undefined) {
      const id = tryParseId(reference.id);
      return id === null ? null : loaders.userById.load(id);
    }
    if ('email' in reference && typeof reference.email === 'string') {
      return loaders.userByEmail.load(reference.email.toLowerCase());
    }
    return null;
  },
  id: (user) => String(user.id),
};
