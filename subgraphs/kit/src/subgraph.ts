import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ApolloServer, type BaseContext } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import { databaseOptionsFromEnv, migrate, openDatabase, pendingMigrations, type Database } from '@commerce/db';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { parse } from 'graphql';
import { ConfigError, loadSubgraphEnv } from './env.ts';
import { runProcess } from './lifecycle.ts';
import { maskError } from './errors.ts';
import { createHttpHandler, listen, type RunningServer } from './http.ts';
import { createLogger, describeError, type Logger } from './logger.ts';

/** What makes a service a service. Each subgraph exports one of these from `src/server.ts`. */
export interface SubgraphDefinition<Client extends PrismaLikeClient, Context extends BaseContext> {
  /** Subgraph name = folder = env prefix (upper-cased) = data directory. */
  name: string;
  defaultPort: number;
  /** `new URL('../schema.graphql', import.meta.url)`: resolved from the module, never the cwd. */
  schema: URL;
  migrations: URL;
  /** The resolvers generated types describe; checked against the SDL by codegen + tsc. */
  resolvers: object;
  createClient(adapter: SqlDriverAdapterFactory): Client;
  /** A fresh context per request: the client and this request's loaders. */
  createContext(client: Client): Context;
  /** Deterministic seed data, run once on a freshly created embedded database. */
  seed?(client: Client): Promise<void>;
}

export interface PrismaLikeClient {
  $disconnect(): Promise<void>;
}

export function buildSubgraphApolloServer<Client extends PrismaLikeClient, Context extends BaseContext>(
  definition: SubgraphDefinition<Client, Context>,
  logger: Logger,
): ApolloServer<Context> {
  const typeDefs = parse(readFileSync(fileURLToPath(definition.schema), 'utf8'));
  return new ApolloServer<Context>({
    // Codegen's resolver types are stricter than (and compatible with) Apollo's loose map type.
    schema: buildSubgraphSchema([{ typeDefs, resolvers: definition.resolvers as GraphQLResolverMap<Context> }]),
    includeStacktraceInErrorResponses: false,
    // runSubgraph owns the process life cycle; Apollo's own signal handlers would race it.
    stopOnTerminationSignals: false,
    // Only the router talks to a subgraph: no IDE, no inline traces (no trace consumer exists).
    plugins: [ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginLandingPageDisabled()],
    formatError: (formatted, original) =>
      maskError(formatted, (masked, error) => logger.error('unexpected error', { path: masked.path, ...describeError(error) }), original),
  });
}

export interface RunningSubgraph<Client> extends RunningServer {
  name: string;
  client: Client;
  /** Stops serving and disconnects the client; the database itself stays open (its owner closes it). */
  stop(): Promise<void>;
}

export async function startSubgraph<Client extends PrismaLikeClient, Context extends BaseContext>(
  definition: SubgraphDefinition<Client, Context>,
  options: { database: Database; host?: string; port?: number; logger?: Logger },
): Promise<RunningSubgraph<Client>> {
  const logger = options.logger ?? createLogger(definition.name, 'warn');
  const client = definition.createClient(options.database.adapter);
  const apollo = buildSubgraphApolloServer(definition, logger);
  await apollo.start();
  const handler = createHttpHandler({
    apollo,
    logger,
    context: async () => definition.createContext(client),
    readiness: async () => {
      try {
        await options.database.withSession((session) => session.query('SELECT 1'));
        return { ready: true, database: options.database.kind };
      } catch (error) {
        return { ready: false, database: options.database.kind, error: describeError(error).error };
      }
    },
  });
  const running = await listen(handler, { host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  return {
    ...running,
    url: `${running.url}/graphql`,
    name: definition.name,
    client,
    async stop() {
      await running.close();
      await apollo.stop();
      await client.$disconnect();
    },
  };
}

/**
 * Brings a database up to date for serving. Embedded PGlite: apply migrations, and seed when
 * this run created the schema. PostgreSQL: migrations are deployed separately (by the migrator
 * role), so refuse to start on a database with pending migrations rather than serve a stale schema.
 */
export async function prepareDatabase<Client extends PrismaLikeClient, Context extends BaseContext>(
  definition: SubgraphDefinition<Client, Context>,
  database: Database,
  logger: Logger,
): Promise<void> {
  const migrationsDir = fileURLToPath(definition.migrations);
  if (database.kind === 'postgres') {
    const pending = await pendingMigrations(database, migrationsDir);
    if (pending.length > 0) {
      throw new ConfigError(
        `${definition.name}: the database has ${pending.length} pending migration(s) (${pending.join(', ')}). ` +
          'Apply them with `npm run db:migrate` before starting the service.',
      );
    }
    return;
  }
  const report = await migrate(database, migrationsDir);
  if (report.applied.length > 0) logger.info('applied migrations', { migrations: report.applied });
  if (report.fresh && definition.seed) {
    await seedDatabase(definition, database);
    logger.info('seeded a fresh database');
  }
}

/** Loads a service's seed data into a database through its own client, then lets the client go. */
export async function seedDatabase<Client extends PrismaLikeClient, Context extends BaseContext>(
  definition: SubgraphDefinition<Client, Context>,
  database: Database,
): Promise<void> {
  if (!definition.seed) throw new Error(`${definition.name} has no seed`);
  const client = definition.createClient(database.adapter);
  try {
    await definition.seed(client);
  } finally {
    await client.$disconnect();
  }
}

/** The whole life of a service process: env → database → migrate/seed → server → listen → graceful shutdown. */
export async function runSubgraph<Client extends PrismaLikeClient, Context extends BaseContext>(
  definition: SubgraphDefinition<Client, Context>,
): Promise<void> {
  await runProcess(createLogger(definition.name), async () => {
    const env = loadSubgraphEnv(definition.name.toUpperCase(), definition.defaultPort);
    const logger = createLogger(definition.name, env.logLevel);
    const database = await openDatabase(
      databaseOptionsFromEnv(definition.name, {
        databaseUrl: env.databaseUrl,
        dataDir: env.dataDir,
        pool: { ...env.pool, applicationName: definition.name },
      }),
    );
    await prepareDatabase(definition, database, logger);
    const running = await startSubgraph(definition, { database, host: env.host, port: env.port, logger });
    logger.info(`${definition.name} subgraph ready at ${running.url}`, { database: database.kind });
    return {
      logger,
      async stop() {
        await running.stop();
        await database.close();
      },
    };
  });
}
