import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { createHttpHandler, createLogger, describeError, ErrorCode, listen, maskError, type Logger, type RunningServer } from '@commerce/service-kit';
import { GraphQLError } from 'graphql';
import { overrideVariable } from './env.ts';

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
  logger?: Logger;
  corsOrigins?: readonly string[] | '*';
  maxBodyBytes?: number;
}

/** Where each subgraph is really reached: its override if one is set, else the supergraph's URL. */
export function resolveEndpoints(supergraphSdl: string, overrides: ReadonlyMap<string, string> = new Map()): SubgraphEndpoint[] {
  return subgraphsOf(supergraphSdl).map(({ name, url }) => ({ name, url: overrides.get(overrideVariable(name)) ?? url }));
}

/**
 * Calls one subgraph with a deadline. The gateway has no timeout of its own, and its default error
 * for a refused connection carries the internal URL; this turns both into a SERVICE_UNAVAILABLE
 * error that names only the subgraph.
 */
function subgraphFetcher(name: string, timeoutMs: number): typeof fetch {
  return async (input, init) => {
    try {
      return await fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
      throw new GraphQLError(
        timedOut ? `The ${name} service did not answer within ${timeoutMs} ms` : `The ${name} service is unavailable`,
        { extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, serviceName: name } },
      );
    }
  };
}

export function createRouter(options: RouterOptions) {
  // The gateway reads this in its constructor; this router never sends usage telemetry to Apollo.
  process.env.APOLLO_TELEMETRY_DISABLED = '1';
  const logger = options.logger ?? createLogger('router', 'warn');
  const endpoints = new Map(resolveEndpoints(options.supergraphSdl, options.overrides).map((e) => [e.name, e.url]));
  const timeoutMs = options.subgraphTimeoutMs ?? 10_000;

  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl,
    buildService: ({ name, url }) =>
      new RemoteGraphQLDataSource({
        url: endpoints.get(name) ?? url,
        // Node's fetch pools keep-alive connections per origin.
        fetcher: subgraphFetcher(name, timeoutMs) as unknown as RemoteGraphQLDataSource['fetcher'],
      }),
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

  return { apollo, gateway, endpoints };
}

export interface RunningRouter extends RunningServer {
  graphqlUrl: string;
  stop(): Promise<void>;
}

export async function startRouter(options: RouterOptions & { host?: string; port?: number }): Promise<RunningRouter> {
  const logger = options.logger ?? createLogger('router', 'warn');
  const { apollo, endpoints } = createRouter({ ...options, logger });
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
