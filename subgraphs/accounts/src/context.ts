import type { RequestInfo, SqlClient, Viewer } from '@commerce/service-kit';
import type { AccountsConfig } from './auth/config.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import { createLoaders, type Loaders } from './loaders.ts';

export interface Context {
  db: PrismaClient;
  loaders: Loaders;
  /**
   * Who is calling, as the router verified it (see the kit's identity.ts). A successful signUp,
   * signIn or refreshSession replaces it with the user who just proved who they are, so the rest of
   * that answer (`user { email }`) shows what their new access token would.
   */
  viewer: Viewer;
  /** The client's address as the router saw it; keys the sign-in throttle. */
  clientIp: string | null;
  auth: AccountsConfig;
}

/** One per request: loaders cache and batch within a request only, never across users. */
export function createContext(db: PrismaClient, request: RequestInfo, sql: SqlClient, auth: AccountsConfig): Context {
  return { db, loaders: createLoaders(sql), viewer: request.viewer, clientIp: request.clientIp, auth };
}
