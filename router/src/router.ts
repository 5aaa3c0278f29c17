import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import {
  ANONYMOUS,
  connectRedis,
  createHttpHandler,
  createLogger,
  describeError,
  ErrorCode,
  HttpError,
  identityHeaders,
  listen,
  maskError,
  redisReady,
  type ListenOptions,
  type Logger,
  type PreparedRequest,
  type RequestInfo,
  type RunningServer,
  EVENTS_PATH,
  memoryNonceStore,
  redisNonceStore,
} from '@commerce/service-kit/core';
import type { Redis } from 'ioredis';
import type { GraphQLSchema } from 'graphql';
import { createAuthenticator, type AuthOptions } from './auth.ts';
import { overrideVariable, signingSecretVariable } from './env.ts';
import { createSubgraphFetcher, type SubgraphHealth } from './fetcher.ts';
import { guardedFields, SubgraphDataSource } from './merge.ts';
import { attachPlan } from './fetch-plan.ts';
import { cachePolicy, createEntityCache, memoryStore, redisStore, type EntityCache } from './entity-cache.ts';
import { cacheEventsRoute, consumeCacheEvents } from './cache-events.ts';
import { createOperationGuard, DEFAULT_OPERATION_LIMITS, type OperationLimits } from './operation-limits.ts';
import { createRateLimit, type RateLimitOptions } from './rate-limit.ts';
import { createResultShaper, type ResultShaper } from './result-shaping.ts';
import { ideHttpOptions, type IdeOptions } from './ide.ts';
import { createPersistedOperations, type PersistedOperationsOptions } from './persisted.ts';
import { storefrontRoutes, type StorefrontOptions } from './storefront.ts';

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

/** Where each subgraph is really reached: its override if one is set, else the supergraph's URL. */
export function resolveEndpoints(supergraphSdl: string, overrides: ReadonlyMap<string, string> = new Map()): SubgraphEndpoint[] {
  return subgraphsOf(supergraphSdl).map(({ name, url }) => ({ name, url: overrides.get(overrideVariable(name)) ?? url }));
}

/**
 * Per request, on the router: who calls, and the request id and address every subgraph is told;
 * `refresh` when the client sent `Cache-Control: no-cache` (the entity cache is refilled, not read).
 */
export type RouterContext = RequestInfo & { refresh?: boolean };

export interface RouterOptions {
  supergraphSdl: string;
  /** Env-style overrides: SUBGRAPH_<NAME>_URL → URL. */
  overrides?: ReadonlyMap<string, string>;
  /** Env-style signing secrets: <NAME>_SIGNING_SECRET → secret; every subgraph needs one. */
  signingSecrets: ReadonlyMap<string, string>;
  /** Token verification; the JWKS defaults to accounts' (`/.well-known/jwks.json` beside its GraphQL URL). */
  auth?: Partial<AuthOptions>;
  /** Per-minute budgets (0 turns one off); the defaults are production's. */
  rateLimits?: Omit<RateLimitOptions, 'redis'>;
  /** Shared state across router replicas (rate limits); in memory when unset. */
  redisUrl?: string;
  limits?: Partial<OperationLimits>;
  /** Development: introspection, schema-aware error messages. Production: neither (default: development). */
  production?: boolean;
  /** Introspection; defaults to !production. */
  introspection?: boolean;
  subgraphTimeoutMs?: number;
  /** Keep-alive connections per subgraph, at most (default 128). */
  subgraphMaxSockets?: number;
  /** Coalesce identical in-flight subgraph queries, never across callers (default off). */
  coalesceSubgraphQueries?: boolean;
  /** Send one caller's same-tick queries to a subgraph as one request (merge.ts; default on). */
  mergeSubgraphFetches?: boolean;
  /** With merging, a fetch that ends a branch of the plan waits for a sibling to the same subgraph and goes with it (fetch-plan.ts; default on). */
  mergeSiblingFetches?: boolean;
  resilience?: { retries?: number; breakerFailures?: number; breakerHalfOpenMs?: number };
  logger?: Logger;
  corsOrigins?: readonly string[] | '*';
  corsCredentials?: boolean;
  maxBodyBytes?: number;
  trustProxyHops?: number;
  /** The GraphQL IDE at / and, for browsers, /graphql (ide.ts): on in development, off in production unless enabled. */
  ide?: IdeOptions;
  // --- Persisted operations (persisted.ts) and the storefront's build at /shop/ (storefront.ts)
  /** A manifest of first-party operations; in `safelist` mode nothing else runs. Default: none. */
  persistedOperations?: PersistedOperationsOptions;
  /** Serve the storefront's static build at /shop/ (WEB_DIST). Default: not served. */
  storefront?: StorefrontOptions;
  // --- end persisted operations and storefront
  /** The entity cache (entity-cache.ts): off unless set; in Redis when `redisUrl` is set, else in this process. */
  entityCache?: EntityCacheOptions;
}

export interface EntityCacheOptions {
  /** The memory store's budget in estimated heap bytes (memory store only; default 128 MiB). */
  maxBytes?: number;
  /** Verifies events publishers push to the router's /internal/events (ROUTER_EVENTS_SECRET). */
  eventsSecret?: string;
  /** Read invalidating events from these JetStream streams instead (NATS_URL). */
  natsUrl?: string;
  /** The streams' prefix, as the services were given it (tests). */
  streamPrefix?: string;
}

export const DEFAULT_AUTH: Omit<AuthOptions, 'jwksUrl' | 'publicKey'> = {
  issuer: 'commerce-accounts',
  audience: 'commerce-supergraph',
  algorithms: ['EdDSA', 'ES256', 'RS256', 'PS256'],
  clockToleranceSeconds: 30,
  userIdClaim: 'sub',
  scopesClaim: 'scope',
};

/** The identity the gateway's own requests carry (none are made today; health checks are off). */
const GATEWAY_REQUEST: RequestInfo = { viewer: ANONYMOUS, requestId: 'router', clientIp: null };

/** Who calls, in headers the router sets itself (client headers are never forwarded to a subgraph). */
function identityOf(context: Record<string, any> | undefined): Record<string, string> {
  return identityHeaders(context && 'viewer' in context ? (context as RouterContext) : GATEWAY_REQUEST);
}

export function createRouter(options: RouterOptions, redis: Redis | null = null) {
  // The gateway reads this in its constructor; this router never sends usage telemetry to Apollo.
  process.env.APOLLO_TELEMETRY_DISABLED = '1';
  const logger = options.logger ?? createLogger('router', 'warn');
  const production = options.production ?? false;
  const endpoints = new Map(resolveEndpoints(options.supergraphSdl, options.overrides).map((e) => [e.name, e.url]));
  const fetchers = new Map<string, ReturnType<typeof createSubgraphFetcher>>();
  const merge = options.mergeSubgraphFetches ?? true;
  const siblings = merge && (options.mergeSiblingFetches ?? true);
  const guards = merge || options.entityCache ? guardedFields(options.supergraphSdl) : undefined;
  const cache =
    options.entityCache && guards
      ? createEntityCache({
          store: redis ? redisStore(redis) : memoryStore(options.entityCache.maxBytes),
          policy: cachePolicy(options.supergraphSdl, guards),
          logger,
        })
      : null;

  const shaper = createResultShaper();
  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl,
    // The gateway's own default shows any client that asks (an Apollo-Query-Plan-Experimental
    // header) the query plan outside NODE_ENV=production, and replaces the answer's extensions to
    // do it, which also hid the NOT_FOUND that responseHygiene adds. Plans are for our tests and
    // logs, never for clients, whatever the environment.
    __exposeQueryPlanExperimental: false,
    // The answer shaped by a compiled walk of the operation, the gateway's own where anything is off (result-shaping.ts).
    commerceShapeResponse: shaper.shape,
    // Each execution of a plan carries what the plan says about its fetches' order, so a fetch can
    // wait for a sibling to the same subgraph (fetch-plan.ts).
    ...(siblings ? { experimental_didResolveQueryPlan: ({ queryPlan, requestContext }) => attachPlan(requestContext.context, queryPlan) } : {}),
    buildService: ({ name, url }) => {
      const secret = options.signingSecrets.get(signingSecretVariable(name));
      if (!secret) throw new Error(`No signing secret for subgraph ${name}: set ${signingSecretVariable(name)}`);
      const fetcher = createSubgraphFetcher({
        name,
        timeoutMs: options.subgraphTimeoutMs ?? 10_000,
        maxSockets: options.subgraphMaxSockets ?? 128,
        coalesce: options.coalesceSubgraphQueries ?? false,
        retry: { maxAttempts: (options.resilience?.retries ?? 2) + 1 },
        breaker: {
          ...(options.resilience?.breakerFailures ? { consecutiveFailures: options.resilience.breakerFailures } : {}),
          ...(options.resilience?.breakerHalfOpenMs ? { halfOpenAfterMs: options.resilience.breakerHalfOpenMs } : {}),
        },
        onStateChange: (subgraph, state) =>
          (state === 'open' ? logger.warn : logger.info)(`circuit breaker of ${subgraph} is ${state}`, { subgraph, state }),
      });
      fetchers.set(name, fetcher);
      // Sends what RemoteGraphQLDataSource would, signed, and merges one caller's same-tick queries (merge.ts).
      return new SubgraphDataSource({
        name,
        url: endpoints.get(name) ?? url ?? '',
        fetcher,
        secret,
        identity: identityOf,
        merge,
        siblings,
        ...(guards && merge ? { guards } : {}),
        ...(cache ? { cache, refreshes: (context: Record<string, any>) => (context as RouterContext).refresh === true } : {}),
        onUnmerged: (subgraph, fetches, reason) => logger.debug('merged subgraph request re-sent fetch by fetch', { subgraph, fetches, reason }),
        onRefused: (subgraph, status) =>
          logger.error(`${subgraph} refused the router's signature: its signing secret differs from ${signingSecretVariable(subgraph)}`, { subgraph, status }),
      });
    },
  });

  const apollo = new ApolloServer<RouterContext>({
    gateway,
    introspection: options.introspection ?? !production,
    // No "Did you mean …?" in production: suggestions would map the schema for anyone.
    hideSchemaDetailsFromClientErrors: production,
    includeStacktraceInErrorResponses: false,
    // main.ts owns the process life cycle; Apollo's own signal handlers would race it.
    stopOnTerminationSignals: false,
    // Apollo's landing page loads Apollo Sandbox from a CDN (nothing offline): never. The router
    // serves its own IDE instead (ide.ts), which production serves only with IDE=true.
    plugins: [responseHygiene(), ApolloServerPluginLandingPageDisabled()],
    // Subgraph messages pass through the gateway untouched: only known codes reach clients. An
    // unavailable subgraph is named, but never how (its URL, its deadline).
    formatError: (formatted, original) => {
      const { code, serviceName } = formatted.extensions ?? {};
      if (code === ErrorCode.SERVICE_UNAVAILABLE && typeof serviceName === 'string') {
        logger.debug('subgraph unavailable', { subgraph: serviceName, detail: formatted.message });
        return maskError({ ...formatted, message: `The ${serviceName} service is unavailable` });
      }
      return maskError(formatted, (masked, error) => logger.error('unexpected error', { path: masked.path, ...describeError(error) }), original);
    },
  });

  return {
    apollo,
    gateway,
    endpoints,
    /** The entity cache, when on. */
    cache,
    /** Answers shaped by the compiled walk and handed to the gateway's own shaping (result-shaping.ts). */
    shaping: shaper.stats,
    /** Each subgraph's circuit breaker, for readiness. */
    health: (): Record<string, SubgraphHealth> => Object.fromEntries([...fetchers].map(([name, fetcher]) => [name, fetcher.health()])),
    /** Closes the pooled connections to subgraphs. */
    closeConnections: () => fetchers.forEach((fetcher) => fetcher.destroy()),
  };
}

/**
 * The last word on every response: the request id in each error, so a client's report can be
 * found in the logs; and the gateway's `extensions.valueCompletion` never shown. Those are
 * entities a subgraph could not find (a reference to a deleted or never-created object). Where
 * that nulled only a nullable part of the answer (an unknown email on a waitlist), the null
 * stands on its own; where it nulled a root field or the whole answer (a write whose result
 * references a missing object), it becomes a NOT_FOUND error, so no answer is `data: null` with
 * no error.
 */
function responseHygiene(): ApolloServerPlugin<RouterContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if (result.extensions?.valueCompletion !== undefined) {
            const { valueCompletion: completion, ...rest } = result.extensions;
            result.extensions = Object.keys(rest).length > 0 ? rest : undefined;
            const data = result.data as Record<string, unknown> | null | undefined;
            const rootNulled = !data || Object.values(data).some((value) => value === null);
            if (rootNulled && !result.errors?.length && Array.isArray(completion)) {
              result.errors = (completion as { path?: readonly (string | number)[] }[]).map((error) => ({
                message: 'A referenced object was not found',
                ...(error.path ? { path: error.path } : {}),
                extensions: { code: ErrorCode.NOT_FOUND },
              }));
            }
          }
          if (result.errors && 'requestId' in contextValue) {
            result.errors = result.errors.map((error) => ({ ...error, extensions: { ...error.extensions, requestId: contextValue.requestId } }));
          }
        },
      };
    },
  };
}

export interface RunningRouter extends RunningServer {
  graphqlUrl: string;
  /** The entity cache, when on (its counters, for tests and the benchmark). */
  cache: EntityCache | null;
  /** Answers shaped by the router's compiled walk, and those handed to the gateway's own shaping. */
  shaping: ResultShaper['stats'];
  stop(): Promise<void>;
}

export async function startRouter(options: RouterOptions & Partial<Omit<ListenOptions, 'port' | 'host'>> & { host?: string; port?: number }): Promise<RunningRouter> {
  const logger = options.logger ?? createLogger('router', 'warn');
  const redis = options.redisUrl ? connectRedis(options.redisUrl, logger) : null;
  const { apollo, gateway, endpoints, health, closeConnections, cache, shaping } = createRouter({ ...options, logger }, redis);
  let apiSchema: GraphQLSchema | undefined;
  gateway.onSchemaLoadOrUpdate(({ apiSchema: schema }) => {
    apiSchema = schema;
  });
  await apollo.start();
  if (!apiSchema) throw new Error('the gateway loaded no schema');

  const accountsUrl = endpoints.get('accounts');
  const auth = Object.fromEntries(Object.entries(options.auth ?? {}).filter(([, value]) => value !== undefined)) as Partial<AuthOptions>;
  const authenticate = await createAuthenticator({
    ...DEFAULT_AUTH,
    // Accounts is the identity provider unless another issuer's keys are configured.
    ...(accountsUrl && !auth.publicKey ? { jwksUrl: new URL('/.well-known/jwks.json', accountsUrl).href } : {}),
    ...auth,
  });
  if (redis && !(await redisReady(redis))) logger.warn('Redis is not answering; rate limits are per process (and the entity cache is skipped) until it does');
  const rateLimit = createRateLimit({ userPerMinute: 1_200, ipPerMinute: 600, ...options.rateLimits, redis });
  const guard = createOperationGuard({
    supergraphSdl: options.supergraphSdl,
    apiSchema,
    limits: { ...DEFAULT_OPERATION_LIMITS, ...options.limits },
  });

  // --- Persisted operations and the storefront's build (persisted.ts, storefront.ts)
  const persisted = options.persistedOperations ? createPersistedOperations(options.persistedOperations) : null;
  const ide = ideHttpOptions({ ...options.ide, production: options.production ?? false, logger });
  const routes = { ...ide.routes, ...storefrontRoutes(options.storefront, logger) };
  // --- end persisted operations and storefront

  // --- Entity cache: invalidation by the owners' events (cache-events.ts), counters at /metrics
  const cacheOptions = options.entityCache;
  const ownNonces = cache && cacheOptions?.eventsSecret ? memoryNonceStore() : null;
  const internalRoutes =
    cache && cacheOptions?.eventsSecret && ownNonces
      ? { [EVENTS_PATH]: cacheEventsRoute(cache, cacheOptions.eventsSecret, redis ? redisNonceStore(redis, 'commerce:router:nonce:', ownNonces, logger) : ownNonces, logger) }
      : undefined;
  const consumer = cache && cacheOptions?.natsUrl ? await consumeCacheEvents({ url: cacheOptions.natsUrl, cache, logger, ...(cacheOptions.streamPrefix ? { streamPrefix: cacheOptions.streamPrefix } : {}) }) : null;
  if (cache) routes['/metrics'] = (_request, response) => void response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(cache.metrics());
  // --- end entity cache

  const handler = createHttpHandler<RouterContext, RouterContext>({
    apollo,
    logger,
    accessLog: 'info',
    hsts: options.production ?? false,
    trustProxyHops: options.trustProxyHops ?? 0,
    corsOrigins: options.corsOrigins ?? '*',
    corsCredentials: options.corsCredentials ?? false,
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
    // --- GraphQL IDE (ide.ts): the page at / and for browsers at /graphql, its assets at /ide/assets/
    ...ide,
    // --- end GraphQL IDE
    routes,
    ...(internalRoutes ? { internalRoutes } : {}),
    // Before Apollo sees a request: who calls, whether they have budget left, and whether the
    // operation is within limits. A refusal here costs no parse, validation, plan or subgraph call.
    prepare: async (request) => {
      const authorization = request.raw.headers.authorization;
      const viewer = await authenticate(authorization);
      await rateLimit(viewer, request.clientIp);
      // A manifest id becomes its text here (and in safelist mode, anything else is refused), so
      // the limits below see the text Apollo will run.
      persisted?.(request);
      const operation = await operationOf(request, apollo);
      if (operation) {
        const rejection = guard(operation);
        if (rejection) {
          const { code, ...extensions } = rejection.extensions;
          throw new HttpError(400, code, rejection.message, { extensions });
        }
      }
      const refresh = cache !== null && /(^|[\s,])no-cache([\s,]|$)/i.test(String(request.raw.headers['cache-control'] ?? ''));
      return { viewer, requestId: request.requestId, clientIp: request.clientIp, ...(refresh ? { refresh } : {}) };
    },
    context: async (info) => info,
    // Ready once the supergraph is loaded. A subgraph being down does not make the router unready
    // (it still serves every other field); the probe reports each one's state and circuit breaker.
    readiness: async () => ({ ready: true, subgraphs: await probeSubgraphs(endpoints, health()) }),
  });
  const running = await listen(handler, {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    ...pick(options, ['headersTimeoutMs', 'requestTimeoutMs', 'maxHeaderBytes', 'shutdownGraceMs']),
  });
  return {
    ...running,
    graphqlUrl: `${running.url}/graphql`,
    cache,
    shaping,
    async stop() {
      await running.close();
      await apollo.stop();
      await consumer?.stop();
      ownNonces?.close();
      closeConnections();
      redis?.disconnect();
    },
  };
}

interface OperationText {
  query: string;
  variables: Record<string, unknown> | null;
  operationName: string | null;
}

/**
 * The operation a request asks for, as text: from a JSON body or GET parameters, or, for an
 * automatic persisted query sent by hash only, from the APQ cache Apollo registered it in (so
 * variables sent with a hash are checked too). Undefined when Apollo will refuse the request by
 * itself (no query, a batch, malformed parameters).
 */
async function operationOf(request: PreparedRequest, apollo: ApolloServer<RouterContext>): Promise<OperationText | undefined> {
  let source: Record<string, unknown>;
  if (request.method === 'GET') {
    const params = request.url.searchParams;
    let variables: unknown = null;
    let extensions: unknown = null;
    try {
      variables = params.has('variables') ? JSON.parse(params.get('variables') ?? 'null') : null;
      extensions = params.has('extensions') ? JSON.parse(params.get('extensions') ?? 'null') : null;
    } catch {
      return undefined;
    }
    source = { query: params.get('query') ?? undefined, variables, operationName: params.get('operationName'), extensions };
  } else if (request.body && typeof request.body === 'object' && !Array.isArray(request.body)) {
    source = request.body as Record<string, unknown>;
  } else {
    return undefined;
  }
  let query = source.query;
  if (typeof query !== 'string') {
    const hash = (source.extensions as { persistedQuery?: { sha256Hash?: unknown } } | null | undefined)?.persistedQuery?.sha256Hash;
    if (typeof hash !== 'string') return undefined;
    query = await apollo.cache.get(`apq:${hash}`);
    if (typeof query !== 'string') return undefined;
  }
  const variables = source.variables && typeof source.variables === 'object' && !Array.isArray(source.variables) ? (source.variables as Record<string, unknown>) : null;
  const operationName = typeof source.operationName === 'string' ? source.operationName : null;
  return { query: query as string, variables, operationName };
}

function pick<T extends object, K extends keyof T>(from: T, keys: readonly K[]): Partial<Pick<T, K>> {
  return Object.fromEntries(keys.filter((key) => from[key] !== undefined).map((key) => [key, from[key]])) as Partial<Pick<T, K>>;
}

async function probeSubgraphs(endpoints: ReadonlyMap<string, string>, breakers: Record<string, SubgraphHealth>) {
  const entries = await Promise.all(
    [...endpoints].map(async ([name, url]) => {
      const breaker = breakers[name]?.state ?? 'closed';
      try {
        const response = await fetch(new URL('/health', url), { signal: AbortSignal.timeout(1_000) });
        return [name, { status: response.ok ? 'up' : 'down', breaker }] as const;
      } catch {
        return [name, { status: 'down', breaker }] as const;
      }
    }),
  );
  return Object.fromEntries(entries);
}
