import { byKeys, createLoader } from '@commerce/service-kit';
import type { PrismaClient, User } from './generated/prisma/client.ts';

/** One SQL statement per batch; results in key order; null for keys that match nothing. */
export function createLoaders(db: PrismaClient) {
  return {
    userById: createLoader<number, User | null>(async (ids) =>
      byKeys(ids, await db.user.findMany({ where: { id: { in: [...ids] } } }), (user) => user.id),
    ),
    userByEmail: createLoader<string, User | null>(async (emails) =>
      byKeys(emails, await db.user.findMany({ where: { email: { in: [...emails] } } }), (user) => user.email),
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
