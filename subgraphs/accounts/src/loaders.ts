import { createRowByKeyLoader, rowsAfterId, runSql, type IdPageQuery, type SqlClient } from '@commerce/service-kit';
import type { User } from './generated/prisma/client.ts';

/** Every User field, so the raw rows have the Prisma model's shape. */
const USERS: IdPageQuery<User> = {
  table: 'users',
  columns: { id: 'id', email: 'email', name: 'name', createdAt: 'created_at', role: 'role', passwordHash: 'password_hash' },
};

/** One SQL statement per batch; results in key order; null for keys that match nothing. Pages: one statement each. */
export function createLoaders(sql: SqlClient) {
  const run = runSql(sql);
  return {
    userById: createRowByKeyLoader<number, User>(run, { ...USERS, keyColumn: 'id', keyType: 'int' }, (user) => user.id),
    userByEmail: createRowByKeyLoader<string, User>(run, { ...USERS, keyColumn: 'email', keyType: 'text' }, (user) => user.email),
    /** A page of users in id order (read once per request: no loader). */
    usersAfter: (afterId: number | null, limit: number) => rowsAfterId<User>(run, USERS, afterId, limit),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
