import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { openDatabase, type Database } from '@commerce/db';
import { freshTestDatabase, provisionTestServices, type ProvisionedTestServices } from '@commerce/db/testing';
import { seedDatabase, startSubgraph, type RunningSubgraph, type SubgraphDefinition } from '@commerce/service-kit';
import { accounts } from '@commerce/subgraph-accounts';
import { inventory } from '@commerce/subgraph-inventory';
import { orders } from '@commerce/subgraph-orders';
import { products } from '@commerce/subgraph-products';
import { reviews } from '@commerce/subgraph-reviews';
import type { GraphQLFormattedError } from 'graphql';
import { overrideVariable } from '../../src/env.ts';
import { startRouter, type RunningRouter } from '../../src/router.ts';

const SUPERGRAPH = fileURLToPath(new URL('../../supergraph.graphql', import.meta.url));

export const definitions = { accounts, products, inventory, reviews, orders };
export type SubgraphName = keyof typeof definitions;

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
export async function startSupergraph(options: { postgresAdminUrl?: string } = {}) {
  const services = new Map<SubgraphName, Service>();
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
      const running = await startSubgraph(definition, { database });
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
  const router: RunningRouter = await startRouter({
    supergraphSdl: await readFile(SUPERGRAPH, 'utf8'),
    overrides,
    subgraphTimeoutMs: 5_000,
  });

  return {
    router,
    /** Each service's own Prisma client, for computing expected values from its own rows. */
    client<Name extends SubgraphName>(name: Name): ReturnType<(typeof definitions)[Name]['createClient']> {
      const running = services.get(name)?.running;
      if (!running) throw new Error(`${name} is stopped`);
      return running.client;
    },
    async query<Data = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<Data>> {
      const response = await fetch(router.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, ...((await response.json()) as object) };
    },
    /** The URL of one subgraph (for sending `_entities` as the router would). */
    subgraphUrl(name: SubgraphName): string {
      const running = services.get(name)?.running;
      if (!running) throw new Error(`${name} is stopped`);
      return running.url;
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
    /** Starts a stopped subgraph again on the same port and database. */
    async restart(name: SubgraphName) {
      const service = services.get(name)!;
      service.running = await startSubgraph(service.definition, { database: service.database, port: service.port });
    },
    async close() {
      try {
        await router.stop();
        for (const service of services.values()) {
          await service.running?.stop();
          await service.database.close();
        }
      } finally {
        await provisioned?.drop();
      }
    },
  };
}

export type Supergraph = Awaited<ReturnType<typeof startSupergraph>>;
