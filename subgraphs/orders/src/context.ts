import type { PrismaClient } from './generated/prisma/client.ts';
import { createLoaders, type Loaders } from './loaders.ts';

export interface Context {
  db: PrismaClient;
  loaders: Loaders;
}

/** One per request: loaders cache and batch within a request only, never across users. */
export function createContext(db: PrismaClient): Context {
  return { db, loaders: createLoaders(db) };
}
