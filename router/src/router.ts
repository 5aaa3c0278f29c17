import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { createHttpHandler, createLogger, describeError, listen, maskError, type Logger, type RunningServer } from '@commerce/service-kit/core';
import { overrideVariable } from './env.ts';
import { createSubgraphFetcher } from './fetcher.ts';

export interface SubgraphEndpoint {
  name: string;
  url: string;
}

/** The subgraphs a supergraph names, with the routing URLs composition recorded. */
export function subgraphsOf(supergraphSdl: string): SubgraphEndpoint[] {
  return [...supergraphSdl.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]*)"\)/g)].map(([, name, url]) => ({
    name: name ?? '',
    url: url ?? '',
  }));
}

export interface RouterOptions {
  supergraphSdl: string;
  /** Env-style overrides: SUBGRAPH_<NAME>_URL → URL. */
  overrides?: ReadonlyMap<string, string>;
  subgraphTimeoutMs?: number;
  /** Keep-alive connections per subgraph, at most (default 128). */
  subgraphMaxSockets?: number;
  /** Coalesce identical in-flight subgraph queries, never across callers (default off). */
  coalesceSubgraphQueries?: boolean;
  logger?: Logger;
  corsOrigins?: readonly string[] | '*';
  maxBodyBytes?: number;
}

/** Where each subgraph is really reached: its override if one is set, else the supergraph's URL. */
export function resolveEndpoints(supergraphSdl: string, overrides: ReadonlyMap<string, string> = new Map()): SubgraphEndpoint[] {
  return subgraphsOf(supergraphSdl).map(({ name, url }) => ({ name, url: overrides.get(overrideVariable(name)) ?? url }));
}

export function createRouter(options: RouterOptions) {
  // The gateway reads this in its constructor; this router never sends usage telemetry to Apollo.
  process.env.APOLLO_TELEMETRY_DISABLED = '1';
  const logger = options.logger ?? createLogger('router', 'warn');
  const endpoints = new Map(resolveEndpoints(options.supergraphSdl, options.overrides).map((e) => [e.name, e.url]));
  const fetchers: ReturnType<typeof createSubgraphFetcher>[] = [];

  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl,
    buildService: ({ name, url }) => {
      const fetcher = createSubgraphFetcher({
        name,
        timeoutMs: options.subgraphTimeoutMs ?? 10_000,
        maxSockets: options.subgraphMaxSockets ?? 128,
        coalesce: options.coalesceSubgraphQueries ?? false,
      });
      fetchers.push(fetcher);
      // The gateway's Fetcher type is node-fetch's; a WHATWG Response satisfies what it reads.
      return new RemoteGraphQLDataSource({ url: endpoints.get(name) ?? url, fetcher: fetcher as unknown as RemoteGraphQLDataSource['fetcher'] });
    },
  });

  const apollo = new ApolloServer({
    gateway,
    includeStacktraceInErrorResponses: false,
    // main.ts owns the process life cycle; Apollo's own signal handlers would race it.
    stopOnTerminationSignals: false,
    // Subgraph messages pass through the gateway untouched: only known codes reach clients.
    formatError: (formatted, original) =>
      maskError(formatted, (masked, error) => logger.error('unexpected error', { path: masked.path, ...describeError(error) }), original),
  });

  return {
    apollo,
    gateway,
    endpoints,
    /** Closes the pooled connections to subgraphs. */
    closeConnections: () => fetchers.forEach((fetcher) => fetcher.destroy()),
  };
}

export interface RunningRouter extends RunningServer {
  graphqlUrl: string;
  stop(): Promise<void>;
}

export async function startRouter(options: RouterOptions & { host?: string; port?: number }): Promise<RunningRouter> {
  const logger = options.logger ?? createLogger('router', 'warn');
  const { apollo, endpoints, closeConnections } = createRouter({ ...options, logger });
  await apollo.start();
  const handler = createHttpHandler({
    apollo,
    logger,
    context: async () => ({}),
    corsOrigins: options.corsOrigins ?? '*',
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
    // Ready once the supergraph is loaded. A subgraph being down does not make the router unready
    // (it still serves every other field); the probe only reports it.
    readiness: async () => ({ ready: true, subgraphs: await probeSubgraphs(endpoints) }),
  });
  const running = await listen(handler, { host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  return {
    ...running,
    graphqlUrl: `${running.url}/graphql`,
    async stop() {
      await running.close();
      await apollo.stop();
      closeConnections();
    },
  };
}

async function probeSubgraphs(endpoints: ReadonlyMap<string, string>): Promise<Record<string, 'up' | 'down'>> {
  const entries = await Promise.all(
    [...endpoints].map(async ([name, url]) => {
      try {
        const response = await fetch(new URL('/health', url), { signal: AbortSignal.timeout(1_000) });
        return [name, response.ok ? 'up' : 'down'] as const;
      } catch {
        return [name, 'down'] as const;
      }
    }),
  );
  return Object.fromEntries(entries);
}
