import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { openDatabase, type Database } from '@commerce/db';
import { freePort, freshTestDatabase, provisionTestServices, type ProvisionedTestServices } from '@commerce/db/testing';
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import {
  createLogger,
  EVENT_CATALOG,
  httpTransport,
  identityHeaders,
  jetStreamTransport,
  seedDatabase,
  signatureHeaders,
  startSubgraph,
  subscriptionsOf,
  viewer,
  type EventsOptions,
  type EventTransport,
  type RunningSubgraph,
  type SubgraphDefinition,
} from '@commerce/service-kit';
import { createAccounts, issueAccessToken, testAccountsConfig } from '@commerce/subgraph-accounts';
import { inventory } from '@commerce/subgraph-inventory';
import { orders } from '@commerce/subgraph-orders';
import { products } from '@commerce/subgraph-products';
import { reviews } from '@commerce/subgraph-reviews';
import type { GraphQLFormattedError } from 'graphql';
import { overrideVariable, signingSecretVariable } from '../../src/env.ts';
import { startRouter, type RouterOptions, type RunningRouter } from '../../src/router.ts';

const SUPERGRAPH = fileURLToPath(new URL('../../supergraph.graphql', import.meta.url));

/** Accounts' keys for this test process: tokens minted by the tests verify against its JWKS. */
export const accountsConfig = await testAccountsConfig();
export const definitions = { accounts: createAccounts(accountsConfig), products, inventory, reviews, orders };
export type SubgraphName = keyof typeof definitions;

/** Who a test request is made as: a seeded user (by id; user 1 is the admin), a raw Authorization value, or nobody. */
export type Caller = { userId: number; scopes?: string[] } | { authorization: string } | undefined;

/** A valid access token for a user, signed with accounts' test key (no password round trip). */
export async function tokenFor(userId: number, scopes: string[] = userId === 1 ? ['admin'] : []): Promise<string> {
  return (await issueAccessToken(accountsConfig, { userId, scopes })).token;
}

async function authorizationOf(as: Caller): Promise<Record<string, string>> {
  if (!as) return {};
  if ('authorization' in as) return { authorization: as.authorization };
  return { authorization: `Bearer ${await tokenFor(as.userId, as.scopes)}` };
}

export interface GraphQLResponse<Data = Record<string, any>> {
  status: number;
  data?: Data | null;
  errors?: GraphQLFormattedError[];
}

interface Service {
  definition: SubgraphDefinition<any, any>;
  database: Database;
  running: RunningSubgraph<any> | null;
  port: number;
}

/**
 * The whole supergraph in one process, as a client sees it: every subgraph on an ephemeral port
 * with its own fresh, seeded database, and the router built from the committed
 * router/supergraph.graphql with each subgraph's URL overridden, queried over HTTP.
 *
 * Databases: embedded PGlite by default. With `postgresAdminUrl`, each service gets its own
 * database on that server, provisioned under a name unique to this run, migrated and seeded as
 * its migrator role and served as its app role (no DDL), exactly as in production; `close` drops
 * them all.
 */
export interface SupergraphOptions {
  postgresAdminUrl?: string;
  router?: Partial<RouterOptions>;
  /**
   * How events travel: pushed over HTTP (the embedded default) or through NATS JetStream at this
   * URL, on streams named for this run only (`natsUrl`).
   */
  natsUrl?: string;
  /** Relay settings for every service (tests of delivery timing). */
  relay?: EventsOptions['relay'];
  /**
   * The router's entity cache on, invalidated by the services' events: pushed to the router's
   * /internal/events (the router then listens on a port chosen up front, so the relays know it),
   * or read from the JetStream streams with `natsUrl`. `redisUrl` puts it in Redis.
   */
  entityCache?: boolean;
}

export async function startSupergraph(options: SupergraphOptions = {}) {
  const services = new Map<SubgraphName, Service>();
  const secrets = new Map(Object.keys(definitions).map((name) => [name, randomBytes(32).toString('base64url')]));
  const eventSecrets = new Map(Object.keys(definitions).map((name) => [name, randomBytes(32).toString('base64url')]));
  // Filled in as services start: a relay reads a subscriber's URL only when it sends to it.
  const eventEndpoints = new Map<string, string>();
  const streamPrefix = `T${process.pid}_${randomBytes(3).toString('hex')}`.toUpperCase();
  const transports: EventTransport[] = [];
  const routerPort = options.entityCache ? await freePort() : 0;
  const routerEvents = options.entityCache && !options.natsUrl ? { url: `http://127.0.0.1:${routerPort}`, secret: randomBytes(32).toString('base64url') } : undefined;
  const eventsFor = async (name: SubgraphName, relay = options.relay): Promise<EventsOptions | undefined> => {
    if (!(name in EVENT_CATALOG) && subscriptionsOf(name).length === 0) return undefined;
    const transport = options.natsUrl
      ? await jetStreamTransport({ url: options.natsUrl, service: name, logger: createLogger(name, 'silent'), maxAttempts: 5, streamPrefix, ackWaitMs: 3_000, publishTimeoutMs: 2_000 })
      : httpTransport({ endpoints: eventEndpoints, secrets: eventSecrets, timeoutMs: 5_000, router: routerEvents });
    transports.push(transport);
    return { transport, secret: eventSecrets.get(name)!, relay: { pollMs: 20, retryBaseMs: 50, retryMaxMs: 500, ...relay } };
  };
  const start = async (name: SubgraphName, definition: SubgraphDefinition<any, any>, database: Database, port = 0, relay?: EventsOptions['relay']) => {
    const events = await eventsFor(name, relay ?? options.relay);
    const running = await startSubgraph(definition, { database, port, signingSecret: secrets.get(name)!, ...(events ? { events } : {}) });
    eventEndpoints.set(name, running.url);
    return running;
  };
  const entries = Object.entries(definitions) as [SubgraphName, SubgraphDefinition<any, any>][];
  let provisioned: ProvisionedTestServices | undefined;
  if (options.postgresAdminUrl) {
    provisioned = await provisionTestServices(
      options.postgresAdminUrl,
      entries.map(([name, definition]) => ({ name, migrationsDir: fileURLToPath(definition.migrations) })),
    );
  }
  try {
    for (const [name, definition] of entries) {
      let database: Database;
      if (provisioned) {
        const owner = await openDatabase({ service: name, kind: 'postgres', url: provisioned.migratorUrl(name), pool: { max: 1 } });
        try {
          await seedDatabase(definition, owner);
        } finally {
          await owner.close();
        }
        database = await openDatabase({ service: name, kind: 'postgres', url: provisioned.appUrl(name), pool: { max: 5 } });
      } else {
        database = await freshTestDatabase(definition.name, fileURLToPath(definition.migrations));
        await seedDatabase(definition, database);
      }
      const running = await start(name, definition, database);
      services.set(name, { definition, database, running, port: running.port });
    }
  } catch (error) {
    for (const service of services.values()) {
      await service.running?.stop();
      await service.database.close();
    }
    await provisioned?.drop();
    throw error;
  }
  const overrides = new Map([...services].map(([name, s]) => [overrideVariable(name), s.running!.url]));
  const supergraphSdl = await readFile(SUPERGRAPH, 'utf8');
  const signingSecrets = new Map([...secrets].map(([name, secret]) => [signingSecretVariable(name), secret]));
  /** A router in front of these subgraphs, as the tests configure it unless `extra` says otherwise. */
  const routerOver = (extra: Partial<Parameters<typeof startRouter>[0]> = {}) =>
    startRouter({
      supergraphSdl,
      signingSecrets,
      subgraphTimeoutMs: 5_000,
      // Tests send hundreds of requests from one address in seconds; limits get their own tests.
      rateLimits: { userPerMinute: 0, ipPerMinute: 0 },
      // Recovery after a subgraph outage within a test's patience.
      resilience: { breakerHalfOpenMs: 300 },
      ...options.router,
      ...extra,
      overrides: new Map([...overrides, ...(extra.overrides ?? [])]),
    });
  const router: RunningRouter = await routerOver(
    options.entityCache
      ? { port: routerPort, entityCache: options.natsUrl ? { natsUrl: options.natsUrl, streamPrefix } : { eventsSecret: routerEvents!.secret } }
      : {},
  );
  const closedDatabases = new Set<Database>();

  return {
    router,
    /** Another router over the same subgraphs (production mode, other limits, a subgraph URL pointed elsewhere …); the caller stops it. */
    startRouter: routerOver,
    /** Each service's own Prisma client, for computing expected values from its own rows. */
    client<Name extends SubgraphName>(name: Name): ReturnType<(typeof definitions)[Name]['createClient']> {
      const running = services.get(name)?.running;
      if (!running) throw new Error(`${name} is stopped`);
      return running.client;
    },
    /** Sends an operation to the router over HTTP, anonymously unless `as` says who calls. */
    async query<Data = Record<string, any>>(query: string, variables?: Record<string, unknown>, as?: Caller): Promise<GraphQLResponse<Data>> {
      const response = await fetch(router.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(await authorizationOf(as)) },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, ...((await response.json()) as object) };
    },
    /** The URL of one subgraph. */
    subgraphUrl(name: SubgraphName): string {
      const running = services.get(name)?.running;
      if (!running) throw new Error(`${name} is stopped`);
      return running.url;
    },
    /** Sends a request straight to a subgraph, signed with its secret as the router would (as an admin unless `as` says otherwise). */
    async callSubgraph(name: SubgraphName, body: unknown, as = viewer(1, ['admin'])): Promise<Response> {
      const url = new URL(this.subgraphUrl(name));
      const text = JSON.stringify(body);
      const headers: Record<string, string> = { 'content-type': 'application/json', ...identityHeaders({ viewer: as, requestId: 'test', clientIp: '127.0.0.1' }) };
      Object.assign(headers, signatureHeaders(secrets.get(name)!, { method: 'POST', path: url.pathname, headers, body: text }));
      return fetch(url, { method: 'POST', headers, body: text });
    },
    /**
     * Runs `fn` and reports, per service, the SQL statements its Prisma client sent (through the
     * database layer's hook) and the HTTP requests its server received.
     */
    async measure<T>(fn: () => Promise<T>) {
      const statements = Object.fromEntries([...services.keys()].map((name) => [name, 0])) as Record<SubgraphName, number>;
      const requests = { ...statements };
      const stops: (() => void)[] = [];
      for (const [name, service] of services) {
        stops.push(service.database.onStatement(() => statements[name]++));
        const server = service.running?.server;
        if (server) {
          const onRequest = (request: { url?: string }) => {
            if (request.url?.startsWith('/graphql')) requests[name]++;
          };
          server.on('request', onRequest);
          stops.push(() => server.off('request', onRequest));
        }
      }
      try {
        const result = await fn();
        return { result, statements, requests };
      } finally {
        for (const stop of stops) stop();
      }
    },
    /** Stops a subgraph's server (its database stays), as if the process had died. */
    async stop(name: SubgraphName) {
      const service = services.get(name)!;
      await service.running?.stop();
      service.running = null;
    },
    /** Starts a stopped subgraph again on the same port and database (with other relay settings, if given). */
    async restart(name: SubgraphName, relay?: EventsOptions['relay']) {
      const service = services.get(name)!;
      service.running = await start(name, service.definition, service.database, service.port, relay);
    },
    /** What a router process needs to serve these subgraphs, as production sets it: SUBGRAPH_<NAME>_URL and <NAME>_SIGNING_SECRET. */
    routerEnvironment: (): Record<string, string> => ({ ...Object.fromEntries(overrides), ...Object.fromEntries(signingSecrets) }),
    /** Closes a service's database under its running subgraph, as if the database went away mid-run. */
    async closeDatabase(name: SubgraphName) {
      const service = services.get(name)!;
      await service.database.close();
      closedDatabases.add(service.database);
    },
    /** The running subgraph (its client, relay, events status). */
    service(name: SubgraphName) {
      const running = services.get(name)?.running;
      if (!running) throw new Error(`${name} is stopped`);
      return running;
    },
    /** Each service's events secret and URL, as an operator's `npm run events`/`consistency` would use them. */
    eventAccess: () => ({ secrets: eventSecrets, endpoints: eventEndpoints }),
    /**
     * Waits until every running publisher's outbox is delivered everywhere (and, with JetStream,
     * every consumer has caught up: judged by the outboxes being empty and a short settle).
     */
    async settle(timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (const service of services.values()) await service.running?.events?.relay?.drain(Math.max(1, deadline - Date.now()));
      if (options.natsUrl) await consumersCaughtUp(options.natsUrl, streamPrefix, deadline);
    },
    async close() {
      try {
        await router.stop();
        for (const service of services.values()) {
          await service.running?.stop();
          if (!closedDatabases.has(service.database)) await service.database.close();
        }
        for (const transport of transports) await transport.close();
      } finally {
        await provisioned?.drop();
      }
    },
  };
}

export type Supergraph = Awaited<ReturnType<typeof startSupergraph>>;

/** Waits until every durable consumer of this run's streams has nothing pending or unacknowledged. */
async function consumersCaughtUp(url: string, prefix: string, deadline: number): Promise<void> {
  const connection = await connect({ servers: url, timeout: 3_000 });
  try {
    const manager = await jetstreamManager(connection);
    for (;;) {
      let behind = 0;
      for await (const stream of manager.streams.names()) {
        if (!stream.startsWith(`${prefix}_`)) continue;
        for await (const consumer of manager.consumers.list(stream)) behind += consumer.num_pending + consumer.num_ack_pending;
      }
      if (behind === 0) return;
      if (Date.now() > deadline) throw new Error(`JetStream consumers still ${behind} messages behind`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await connection.close();
  }
}
