import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { ApolloServer, type BaseContext } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import { databaseOptionsFromEnv, migrate, openDatabase, pendingMigrations, type Database, type SqlTransactionClient } from '@commerce/db';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { parse } from 'graphql';
import { enforceAuthorization, type Owners } from './authorization.ts';
import { ConfigError, loadEventEndpoints, loadSubgraphEnv, type SubgraphEnv } from './env.ts';
import { ErrorCode, maskError } from './errors.ts';
import { createHttpHandler, HttpError, listen, type RunningServer } from './http.ts';
import { requestInfoFromHeaders, type RequestInfo, type Viewer } from './identity.ts';
import { runProcess } from './lifecycle.ts';
import { createLogger, describeError, type Logger } from './logger.ts';
import { startPeriodic, type PeriodicTask } from './periodic.ts';
import type { Redis } from 'ioredis';
import { connectRedis, redisNonceStore, redisReady, warnAtMostEvery } from './redis.ts';
import {
  EVENT_CATALOG,
  eventMetrics,
  httpTransport,
  jetStreamTransport,
  startServiceEvents,
  subscriptionsOf,
  type EventHandlers,
  type EventsOptions,
  type ServiceEvents,
} from './events/index.ts';
import { createSignatureVerifier, memoryNonceStore, type NonceStore } from './signing.ts';

/** What makes a service a service. Each subgraph exports one of these from `src/server.ts`. */
/** Every subgraph context carries the caller, so the authorization directives can be enforced. */
export interface SubgraphContext extends BaseContext {
  viewer: Viewer;
}

export interface SubgraphDefinition<Client extends PrismaLikeClient, Context extends SubgraphContext> {
  /** Subgraph name = folder = env prefix (upper-cased) = data directory. */
  name: string;
  defaultPort: number;
  /** `new URL('../schema.graphql', import.meta.url)`: resolved from the module, never the cwd. */
  schema: URL;
  migrations: URL;
  /** The resolvers generated types describe; checked against the SDL by codegen + tsc. */
  resolvers: object;
  createClient(adapter: SqlDriverAdapterFactory): Client;
  /**
   * A fresh context per request: the client, this request's loaders and the caller. `sql` is the
   * database's raw client (`Database.sql`), for a write that is raw SQL in a transaction.
   */
  createContext(client: Client, request: RequestInfo, sql: SqlTransactionClient): Context;
  /** Who owns an object of each type guarded by `@ownerOrScope` (see authorization.ts). */
  owners?: Owners;
  /** Extra public GET routes served beside /graphql (e.g. accounts' JWKS). */
  routes?: Readonly<Record<string, (request: IncomingMessage, response: ServerResponse) => Promise<void> | void>>;
  /** Deterministic seed data, run once on a freshly created embedded database. */
  seed?(client: Client): Promise<void>;
  /** Handlers of the events this service subscribes to (the catalogue says which), by `source.Type`. */
  eventHandlers?: EventHandlers;
  /** This service's own rows that `npm run consistency` compares with other services' (never another's). */
  snapshot?(client: Client): Promise<unknown>;
  /** Publishes snapshot events of everything it owns, for a new subscriber's replica (`npm run events -- backfill`). */
  backfill?(client: Client): Promise<number>;
  /** Work every replica repeats on the service's own database while it runs (accounts: pruning dead sessions). */
  housekeeping?: readonly PeriodicTask<Client>[];
}

export interface PrismaLikeClient {
  $disconnect(): Promise<void>;
}

export function buildSubgraphApolloServer<Client extends PrismaLikeClient, Context extends SubgraphContext>(
  definition: SubgraphDefinition<Client, Context>,
  logger: Logger,
): ApolloServer<Context> {
  const typeDefs = parse(readFileSync(fileURLToPath(definition.schema), 'utf8'));
  // Codegen's resolver types are stricter than (and compatible with) Apollo's loose map type.
  const schema = buildSubgraphSchema([{ typeDefs, resolvers: definition.resolvers as GraphQLResolverMap<Context> }]);
  enforceAuthorization(schema, definition.owners);
  return new ApolloServer<Context>({
    schema,
    includeStacktraceInErrorResponses: false,
    // runSubgraph owns the process life cycle; Apollo's own signal handlers would race it.
    stopOnTerminationSignals: false,
    // Only the router talks to a subgraph: no IDE, no inline traces (no trace consumer exists), and
    // no cache-control hints: no schema declares @cacheControl, so Apollo's plugin only ran a hook
    // per resolved field to compute "not cacheable" (the router's entity cache reads @cacheable).
    plugins: [ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginLandingPageDisabled(), ApolloServerPluginCacheControlDisabled()],
    formatError: (formatted, original) =>
      maskError(formatted, (masked, error) => logger.error('unexpected error', { path: masked.path, ...describeError(error) }), original),
  });
}

/** Matches the router's default node limit: a query it accepts never needs more in one fetch. */
export const DEFAULT_MAX_REPRESENTATIONS = 10_000;

export interface RunningSubgraph<Client> extends RunningServer {
  name: string;
  client: Client;
  /** Its part of the event backbone, when started with one. */
  events: ServiceEvents | null;
  /** Stops serving and disconnects the client; the database itself stays open (its owner closes it). */
  stop(): Promise<void>;
}

export interface StartSubgraphOptions {
  database: Database;
  /** The secret shared with the router: every GraphQL request must be signed with it. */
  signingSecret: string;
  /** Where seen nonces are kept (default: this process's memory; Redis when replicas share the load). */
  nonces?: NonceStore;
  /** Most entity representations one `_entities` request may carry. */
  maxRepresentations?: number;
  host?: string;
  port?: number;
  logger?: Logger;
  /** The event backbone: a relay if the service publishes, its receiver if it subscribes. Off when unset. */
  events?: EventsOptions;
}

export async function startSubgraph<Client extends PrismaLikeClient, Context extends SubgraphContext>(
  definition: SubgraphDefinition<Client, Context>,
  options: StartSubgraphOptions,
): Promise<RunningSubgraph<Client>> {
  const logger = options.logger ?? createLogger(definition.name, 'warn');
  const client = definition.createClient(options.database.adapter);
  const apollo = buildSubgraphApolloServer(definition, logger);
  await apollo.start();
  const ownNonces = options.nonces ? null : memoryNonceStore();
  const verify = createSignatureVerifier({ secret: options.signingSecret, nonces: options.nonces ?? ownNonces! });
  const maxRepresentations = options.maxRepresentations ?? DEFAULT_MAX_REPRESENTATIONS;
  const warnRefused = warnAtMostEvery(10_000, logger);
  const { snapshot, backfill } = definition;
  const events = options.events
    ? await startServiceEvents(
        definition.name,
        options.database.sql,
        definition.eventHandlers ?? {},
        options.events,
        logger,
        {
          ...(snapshot ? { snapshot: () => snapshot(client) } : {}),
          ...(backfill ? { backfill: () => backfill(client) } : {}),
        },
      )
    : null;
  const handler = createHttpHandler({
    apollo,
    logger,
    routes: {
      ...definition.routes,
      ...(events ? { '/metrics': async (_request, response) => void response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(eventMetrics(definition.name, await events.status())) } : {}),
    },
    ...(events ? { internalRoutes: events.internalRoutes } : {}),
    // Only the router may call a subgraph: `_entities` and `_service` included.
    prepare: async (request) => {
      const check = await verify({
        method: request.method,
        path: `${request.url.pathname}${request.url.search}`,
        headers: request.raw.headers,
        body: request.rawBody,
      });
      if (!check.ok) {
        warnRefused('refused a request that is not signed by the router', { reason: check.reason, requestId: request.requestId });
        throw new HttpError(401, ErrorCode.UNAUTHENTICATED, 'Only the router may call this service');
      }
      // The router sends representations as a variable (under any name a client of the subgraph
      // picks); no other argument here takes a list, so every list variable is held to the cap.
      const variables = (request.body as { variables?: unknown } | undefined)?.variables;
      if (variables && typeof variables === 'object' && Object.values(variables).some((v) => Array.isArray(v) && v.length > maxRepresentations)) {
        throw new HttpError(400, ErrorCode.BAD_USER_INPUT, `At most ${maxRepresentations} entity representations per request`);
      }
      return requestInfoFromHeaders(request.raw.headers, request.requestId);
    },
    context: async (info) => definition.createContext(client, info, options.database.sql),
    readiness: async () => {
      try {
        await options.database.withSession((session) => session.query('SELECT 1'));
        // The backlog is reported, never a reason to be unready: delivery catches up by itself.
        return { ready: true, database: options.database.kind, ...(events ? { events: await events.status() } : {}) };
      } catch (error) {
        return { ready: false, database: options.database.kind, error: describeError(error).error };
      }
    },
  });
  const running = await listen(handler, { host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const housekeeping = (definition.housekeeping ?? []).map((task) => startPeriodic(task, client, logger));
  return {
    ...running,
    url: `${running.url}/graphql`,
    name: definition.name,
    client,
    events,
    async stop() {
      await running.close();
      await Promise.all(housekeeping.map((task) => task.stop()));
      await events?.stop();
      await apollo.stop();
      await client.$disconnect();
      ownNonces?.close();
    },
  };
}

/**
 * Brings a database up to date for serving. Embedded PGlite: apply migrations, and seed when
 * this run created the schema. PostgreSQL: migrations are deployed separately (by the migrator
 * role), so refuse to start on a database with pending migrations rather than serve a stale schema.
 */
export async function prepareDatabase<Client extends PrismaLikeClient, Context extends SubgraphContext>(
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
export async function seedDatabase<Client extends PrismaLikeClient>(definition: SeedableSubgraph<Client>, database: Database): Promise<void> {
  if (!definition.seed) throw new Error(`${definition.name} has no seed`);
  const client = definition.createClient(database.adapter);
  try {
    await definition.seed(client);
  } finally {
    await client.$disconnect();
  }
}

/** What a service's process offers the code that builds its definition at start. */
export interface SubgraphRuntime {
  env: SubgraphEnv;
  /** The shared Redis, when REDIS_URL is set. */
  redis: Redis | null;
  logger: Logger;
}

/**
 * A service whose definition depends on its configuration (keys, limits): built once the env is
 * read. What does not depend on it (its database, client and seed) is here already, so migration
 * and seeding tools treat it like any other service.
 */
export interface SubgraphFactory<Client extends PrismaLikeClient, Context extends SubgraphContext>
  extends Pick<SubgraphDefinition<Client, Context>, 'name' | 'defaultPort' | 'migrations' | 'createClient' | 'seed'> {
  create(runtime: SubgraphRuntime): SubgraphDefinition<Client, Context> | Promise<SubgraphDefinition<Client, Context>>;
}

/** What seeding needs of a service: its own client and seed. */
export type SeedableSubgraph<Client extends PrismaLikeClient> = Pick<SubgraphDefinition<Client, SubgraphContext>, 'name' | 'createClient' | 'seed'>;

/** The whole life of a service process: env → database → migrate/seed → server → listen → graceful shutdown. */
export async function runSubgraph<Client extends PrismaLikeClient, Context extends SubgraphContext>(
  service: SubgraphDefinition<Client, Context> | SubgraphFactory<Client, Context>,
): Promise<void> {
  await runProcess(createLogger(service.name), async () => {
    const env = loadSubgraphEnv(service.name.toUpperCase(), service.defaultPort);
    const logger = createLogger(service.name, env.logLevel);
    const redis = env.redisUrl ? connectRedis(env.redisUrl, logger) : null;
    if (redis && !(await redisReady(redis))) logger.warn('Redis is not answering; shared state is per process until it does');
    const definition = 'create' in service ? await service.create({ env, redis, logger }) : service;
    const database = await openDatabase(
      databaseOptionsFromEnv(definition.name, {
        databaseUrl: env.databaseUrl,
        dataDir: env.dataDir,
        pool: { ...env.pool, applicationName: definition.name },
      }),
    );
    await prepareDatabase(definition, database, logger);
    const ownNonces = memoryNonceStore();
    const events = await eventsFromEnv(definition, env, logger);
    const running = await startSubgraph(definition, {
      ...(events ? { events } : {}),
      database,
      signingSecret: env.signingSecret,
      nonces: redis ? redisNonceStore(redis, `commerce:nonce:${definition.name}:`, ownNonces, logger) : ownNonces,
      maxRepresentations: env.maxRepresentations,
      host: env.host,
      port: env.port,
      logger,
    });
    logger.info(`${definition.name} subgraph ready at ${running.url}`, { database: database.kind });
    return {
      logger,
      async stop() {
        await running.stop();
        await events?.transport.close();
        await database.close();
        ownNonces.close();
        redis?.disconnect();
      },
    };
  });
}

/**
 * A service's events configuration from its environment: JetStream when NATS_URL is set, else
 * pushes over HTTP to each subscriber of what it publishes, and to the router when ROUTER_URL and
 * ROUTER_EVENTS_SECRET are set (loadEventEndpoints). Null for a service outside the catalogue (it
 * neither publishes nor subscribes).
 */
export async function eventsFromEnv<Client extends PrismaLikeClient, Context extends SubgraphContext>(
  definition: SubgraphDefinition<Client, Context>,
  env: SubgraphEnv,
  logger: Logger,
): Promise<EventsOptions | null> {
  const publishes = definition.name in EVENT_CATALOG;
  if (!publishes && subscriptionsOf(definition.name).length === 0) return null;
  const variable = `${definition.name.toUpperCase()}_EVENTS_SECRET`;
  if (!env.eventsSecret) {
    throw new ConfigError(`Invalid configuration:\n  - ${variable}: is required: verifies events sent to ${definition.name} and calls to its /internal routes (\`npm start\` makes development ones)`);
  }
  if (env.natsUrl) {
    const transport = await jetStreamTransport({ url: env.natsUrl, service: definition.name, logger, maxAttempts: 5 });
    logger.info('events travel through NATS JetStream', { url: env.natsUrl.replace(/\/\/[^@]*@/, '//') });
    return { transport, secret: env.eventsSecret };
  }
  const subscribers = publishes
    ? [...new Set(Object.values(EVENT_CATALOG[definition.name as keyof typeof EVENT_CATALOG]).flatMap((contract) => contract.subscribers as readonly string[]))]
    : [];
  return { transport: httpTransport(loadEventEndpoints(subscribers)), secret: env.eventsSecret };
}
