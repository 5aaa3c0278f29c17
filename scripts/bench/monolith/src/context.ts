import type { SqlClient } from '@commerce/service-kit';
import type { PrismaClient } from './generated/prisma/client.ts';
import { createLoaders, type Loaders } from './loaders.ts';

export interface Context {
  db: PrismaClient;
  loaders: Loaders;
}

/** One per request, as in the services: loaders batch and cache within one request only. */
export function createContext(db: PrismaClient, sql: SqlClient): Context {
  return { db, loaders: createLoaders(sql) };
}
