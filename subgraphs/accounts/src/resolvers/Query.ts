import { notFound, parseId, parsePage, toConnection } from '@commerce/service-kit';
import type { QueryResolvers } from '../generated/graphql.ts';

export const USER_PAGE = { defaultSize: 20, maxSize: 100 } as const;
export const USER_CURSOR = 'user';

export const Query: QueryResolvers = {
  // Signed out is not an error here: the answer is simply nobody.
  me(_parent, _args, { viewer, loaders }) {
    return viewer.userId === null ? null : loaders.userById.load(viewer.userId);
  },

  async user(_parent, args, { loaders }) {
    const id = parseId(args.id, 'id');
    const user = await loaders.userById.load(id);
    if (!user) throw notFound('User', id);
    return user;
  },

  async users(_parent, args, { loaders }) {
    const page = parsePage(args, USER_PAGE, USER_CURSOR);
    const rows = await loaders.usersAfter(page.afterId, page.take + 1);
    return toConnection(rows, page, USER_CURSOR);
  },
};
