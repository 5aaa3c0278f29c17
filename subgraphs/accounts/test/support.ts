import { buildSubgraphApolloServer, createLogger, viewer, type Logger, type Viewer } from '@commerce/service-kit';
import { execute, subgraphHarness, type Result, type SubgraphHarness } from '@commerce/service-kit/testing';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import type { Database } from '@commerce/db';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { createAccounts, testAccountsConfig, type AccountsConfig } from '../src/server.ts';

export const ANONYMOUS_CALLER: Viewer = viewer(null);
export const ADMIN: Viewer = viewer(1, ['admin']);
export const asUser = (id: number): Viewer => viewer(id);

export interface Caller {
  viewer?: Viewer;
  /** The client address the router forwards (default 127.0.0.1, like the kit's harness). */
  ip?: string | null;
}

export type Query = <Data = Record<string, any>>(query: string, variables?: Record<string, unknown>, caller?: Caller) => Promise<Result<Data>>;

/**
 * accounts built from `config`, queried in-process against `client`'s database. Several configs can
 * share one database: each has its own keys and throttle, like separately started replicas.
 */
export async function serve(config: AccountsConfig, { client, database }: { client: PrismaClient; database: Database }): Promise<Query> {
  const definition = createAccounts(config);
  const server = buildSubgraphApolloServer(definition, createLogger('accounts', 'silent'));
  await server.start();
  return (query, variables, caller = {}) =>
    execute(
      server,
      definition.createContext(client, { viewer: caller.viewer ?? ANONYMOUS_CALLER, requestId: 'test', clientIp: caller.ip === undefined ? '127.0.0.1' : caller.ip }, database.sql),
      query,
      variables,
    );
}

/** A fresh seeded database with accounts on a fresh test configuration. */
export async function accountsHarness(config?: AccountsConfig): Promise<{ harness: SubgraphHarness<PrismaClient>; config: AccountsConfig; query: Query }> {
  const resolved = config ?? (await testAccountsConfig());
  const harness = await subgraphHarness(createAccounts(resolved));
  return { harness, config: resolved, query: await serve(resolved, harness) };
}

/** Verifies an access token the way the router does: against the published JWKS. */
export async function verifyAccessToken(token: string, jwks: JSONWebKeySet, config: Pick<AccountsConfig, 'issuer' | 'audience'>) {
  return jwtVerify(token, createLocalJWKSet(jwks), { issuer: config.issuer, audience: config.audience, algorithms: ['EdDSA'], typ: 'at+jwt' });
}

/** A logger that keeps what it is told, for asserting warnings. */
export function recordingLogger(): Logger & { lines: { level: string; message: string; fields?: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, ...(fields ? { fields } : {}) });
  const logger = { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}
