import { guardWrite, requireEmail, requireText } from '@commerce/service-kit';
import type { MutationResolvers } from '../generated/graphql.ts';

export const Mutation: MutationResolvers = {
  async createUser(_parent, { input }, { db }) {
    const email = requireEmail(input.email, 'input.email');
    const name = requireText(input.name, 'input.name', { max: 100 });
    // The unique index decides under concurrency; a duplicate becomes a CONFLICT error.
    const user = await guardWrite(() => db.user.create({ data: { email, name } }));
    return { user };
  },
};
