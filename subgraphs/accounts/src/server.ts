import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, type SubgraphDefinition, type SubgraphFactory } from '@commerce/service-kit';
import type { JSONWebKeySet } from 'jose';
import { accountsConfigFromEnv, type AccountsConfig } from './auth/config.ts';
import { pruneSessions } from './auth/sessions.ts';
import { createContext, type Context } from './context.ts';
import { isProduction, loadAccountsEnv } from './env.ts';
import { PrismaClient, type User } from './generated/prisma/client.ts';
import { resolvers } from './resolvers/index.ts';
import { seed } from './seed.ts';

export { testAccountsConfig, type AccountsConfig, type TestConfigOptions } from './auth/config.ts';
export { generatePrivateKey, publicJwkOf } from './auth/keys.ts';
export { issueAccessToken, type AccessToken, type AccessTokenSubject, type IssueOptions } from './auth/tokens.ts';
export { DEVELOPMENT_PASSWORD, SEED_ADMIN_ID } from './seed.ts';

/** Where accounts publishes the public keys its access tokens verify against. */
export const JWKS_PATH = '/.well-known/jwks.json';

/** What does not depend on the configuration: the database, its client. */
const base = {
  name: 'accounts',
  defaultPort: 4001,
  migrations: new URL('../prisma/migrations/', import.meta.url),
  createClient: (adapter: Parameters<SubgraphDefinition<PrismaClient, Context>['createClient']>[0]) => new PrismaClient({ adapter }),
};

/** accounts as a subgraph, signing tokens with the keys and settings in `config`. */
export function createAccounts(config: AccountsConfig): SubgraphDefinition<PrismaClient, Context> {
  return {
    ...base,
    schema: new URL('../schema.graphql', import.meta.url),
    resolvers,
    createContext: (db, request, sql) => createContext(db, request, sql, config),
    // `@ownerOrScope` on User.email: a user owns their own row.
    owners: { User: (user: User) => user.id },
    // accounts publishes UserCreated (for the router's cached pages of users) and subscribes to nothing.
    routes: { [JWKS_PATH]: jwksRoute(config.publicJwks) },
    seed: (db) => seed(db, { developmentPasswords: config.seedDevelopmentPasswords }),
    housekeeping: [{ name: 'session prune', everyMs: 3600_000, run: (db) => pruneSessions(db, config) }],
  };
}

/**
 * What `npm start` / `node src/main.ts` runs (the configuration is read once the process has its
 * env and Redis), and what `npm run db:migrate -- --seed` seeds with.
 */
export const accountsService: SubgraphFactory<PrismaClient, Context> = {
  ...base,
  seed: (db) => seed(db, { developmentPasswords: !isProduction() }),
  async create(runtime) {
    return createAccounts(await accountsConfigFromEnv(loadAccountsEnv(), runtime));
  },
};

/** Under the service's own name, as tools look services up (`npm run db:migrate -- --seed`). */
export const accounts = accountsService;

/**
 * The JWKS document. Verifiers may cache it for five minutes; they refetch early when a token names
 * a key id they have not seen, which is how a newly current key becomes known.
 */
function jwksRoute(jwks: JSONWebKeySet) {
  const body = { keys: jwks.keys };
  return (_request: IncomingMessage, response: ServerResponse) => {
    response.setHeader('cache-control', 'public, max-age=300');
    sendJson(response, 200, body);
  };
}
