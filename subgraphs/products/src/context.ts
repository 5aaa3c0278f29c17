import type { RequestInfo, SqlClient, Viewer } from '@commerce/service-kit';
import type { PrismaClient } from './generated/prisma/client.ts';
import { createLoaders, type Loaders } from './loaders.ts';

export interface Context {
  db: PrismaClient;
  loaders: Loaders;
  /** Who is calling, as the router verified it (see the kit's identity.ts). */
  viewer: Viewer;
}

/** One per request: loaders cache and batch within a request only, never across users. */
export function createContext(db: PrismaClient, request: RequestInfo, sql: SqlClient): Context {
  return { db, loaders: createLoaders(sql), viewer: request.viewer };
}
