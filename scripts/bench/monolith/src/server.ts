import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { Database } from '@commerce/db';
import { createHttpHandler, createLogger, describeError, listen, maskError, type Logger, type RunningServer } from '@commerce/service-kit';
import { createContext, type Context } from './context.ts';
import { PrismaClient } from './generated/prisma/client.ts';
import { resolvers } from './resolvers.ts';

/** The monolith's committed migrations (Prisma's folder format), applied by @commerce/db's migrator. */
export const MONOLITH_MIGRATIONS = new URL('../prisma/migrations/', import.meta.url);
export const MONOLITH_SCHEMA = new URL('../schema.graphql', import.meta.url);

export function createMonolithClient(database: Database): PrismaClient {
  return new PrismaClient({ adapter: database.adapter });
}

export interface RunningMonolith extends RunningServer {
  graphqlUrl: string;
  stop(): Promise<void>;
}

/**
 * The monolith on the same HTTP layer as the subgraphs and the router (the kit's createHttpHandler
 * and listen), with Apollo Server configured like a subgraph: masked errors, no landing page.
 */
export async function startMonolith(options: { database: Database; host?: string; port?: number; logger?: Logger }): Promise<RunningMonolith> {
  const logger = options.logger ?? createLogger('monolith', 'warn');
  const client = createMonolithClient(options.database);
  const apollo = new ApolloServer<Context>({
    typeDefs: readFileSync(MONOLITH_SCHEMA, 'utf8'),
    resolvers,
    includeStacktraceInErrorResponses: false,
    stopOnTerminationSignals: false,
    plugins: [ApolloServerPluginLandingPageDisabled()],
    formatError: (formatted, original) =>
      maskError(formatted, (masked, error) => logger.error('unexpected error', { path: masked.path, ...describeError(error) }), original),
  });
  await apollo.start();
  const handler = createHttpHandler({ apollo, logger, context: async () => createContext(client, options.database.sql) });
  const running = await listen(handler, { host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  return {
    ...running,
    graphqlUrl: `${running.url}/graphql`,
    async stop() {
      await running.close();
      await apollo.stop();
      await client.$disconnect();
    },
  };
}
