import type { RequestInfo, SqlTransactionClient, Viewer } from '@commerce/service-kit';
import type { PrismaClient } from './generated/prisma/client.ts';
import { createLoaders, type Loaders } from './loaders.ts';

export interface Context {
  db: PrismaClient;
  /** Raw SQL and transactions without Prisma's client: restock's write (see resolvers/Mutation.ts). */
  sql: SqlTransactionClient;
  loaders: Loaders;
  /** Who is calling, as the router verified it (see the kit's identity.ts). */
  viewer: Viewer;
}

/** One per request: loaders cache and batch within a request only, never across users. */
export function createContext(db: PrismaClient, request: RequestInfo, sql: SqlTransactionClient): Context {
  return { db, sql, loaders: createLoaders(sql), viewer: request.viewer };
}
