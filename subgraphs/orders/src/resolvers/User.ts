import { encodeKeysetCursor, parseKeysetPage, requireInt, toConnection, tryParseId } from '@commerce/service-kit';
import type { UserResolvers } from '../generated/graphql.ts';

export const USER_ORDERS_PAGE = { defaultSize: 20, maxSize: 100 } as const;
/** Prefix of the cursors of `ordersConnection`: a (createdAt, id) position, newest first. */
export const ORDER_CURSOR = 'order';

export const User: UserResolvers = {
  // accounts owns users; any well-formed id is a user as far as orders is concerned (one with no
  // orders simply has none). A malformed id resolves to null, never an error.
  __resolveReference(reference) {
    const id = tryParseId(reference.id);
    return id === null ? null : { id };
  },
  id: (user) => String(user.id),
  orders(user, args, { loaders }) {
    const first = requireInt(args.first ?? USER_ORDERS_PAGE.defaultSize, 'first', { min: 1, max: USER_ORDERS_PAGE.maxSize });
    return loaders.ordersByUserId.load({ key: user.id, first });
  },
  // @ownerOrScope in the SDL, as orders: the kit checks the owner before this runs.
  async ordersConnection(user, args, { loaders }) {
    const page = parseKeysetPage(args, USER_ORDERS_PAGE, ORDER_CURSOR);
    const rows = await loaders.orderPagesByUserId.load({ key: user.id, limit: page.take + 1, after: page.after });
    return toConnection(rows, page, (order) => encodeKeysetCursor(ORDER_CURSOR, order));
  },
};
