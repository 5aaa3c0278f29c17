import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadEnv, logLevel, MIN_SECRET_LENGTH, port, redisUrl, signingSecret } from '@commerce/service-kit/core';
import { z } from 'zod';
import { DEFAULT_OPERATION_LIMITS } from './operation-limits.ts';

export const DEFAULT_SUPERGRAPH = fileURLToPath(new URL('../supergraph.graphql', import.meta.url));

const booleanFlag = z.enum(['true', 'false']).transform((v) => v === 'true');
const optionalUrl = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z
    .string()
    .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'must be an http(s) URL')
    .optional(),
);

const routerEnv = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  ROUTER_PORT: port(4000),
  LOG_LEVEL: logLevel,
  SUPERGRAPH_PATH: z.string().min(1).optional(),
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  SUBGRAPH_MAX_SOCKETS: z.coerce.number().int().min(1).max(10_000).default(128),
  SUBGRAPH_COALESCE_QUERIES: booleanFlag.default(false),
  /** One caller's same-tick queries to a subgraph sent as one request (merge.ts). */
  SUBGRAPH_MERGE_FETCHES: booleanFlag.default(true),
  /** With merging: a fetch ending a branch of the plan waits for a sibling to the same subgraph (fetch-plan.ts). */
  SUBGRAPH_MERGE_SIBLINGS: booleanFlag.default(true),
  /** Router processes sharing the port (node:cluster); `auto` = one per core. */
  ROUTER_WORKERS: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(64)]).default(1),
  /** Comma-separated browser origins allowed to call the router; `*` for any. */
  CORS_ORIGINS: z.string().optional(),
  /** Let allowed origins send credentials (cookies); never together with `*`. */
  CORS_CREDENTIALS: booleanFlag.default(false),
  MAX_BODY_BYTES: z.coerce.number().int().min(1_024).max(50 * 1024 * 1024).default(1024 * 1024),
  MAX_HEADER_BYTES: z.coerce.number().int().min(1_024).max(1024 * 1024).default(16 * 1024),
  /** Slow clients (slowloris): headers must arrive within this, the whole request within REQUEST_TIMEOUT_MS. */
  HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  /** Reverse proxies in front of the router that append to X-Forwarded-For (0: the socket address is the client). */
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  /** Introspection in production (the IDE's docs and completion need it); always on in development. */
  INTROSPECTION: booleanFlag.optional(),
  /** The GraphQL IDE at / and (browsers) /graphql: on in development, off in production unless true. */
  IDE: booleanFlag.optional(),
  REDIS_URL: redisUrl,

  // --- Entity cache (entity-cache.ts): on when an invalidation source is configured (auto).
  ENTITY_CACHE: z.enum(['auto', 'on', 'off']).default('auto'),
  /** Verifies the invalidating events publishers push to the router (they sign with the same secret). */
  ROUTER_EVENTS_SECRET: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`).optional()),
  /** NATS JetStream: the router reads invalidating events from the services' streams. */
  NATS_URL: z.preprocess((v) => (v === '' ? undefined : v), z.string().refine((v) => URL.canParse(v), 'must be a URL such as nats://127.0.0.1:4222').optional()),
  /** The in-memory store's budget (without REDIS_URL): entries and stamps, estimated heap bytes. */
  ENTITY_CACHE_MAX_MB: z.coerce.number().int().min(1).max(65_536).default(128),
  // --- end entity cache

  // --- Persisted operations (persisted.ts) and the storefront's build (storefront.ts)
  /** Path to an Apollo persisted-query manifest (clients/web/persisted-query-manifest.json); default none. */
  PERSISTED_OPERATIONS: z.string().min(1).optional(),
  /** apq: anything runs, manifest ids too; safelist: only the manifest's operations. */
  PERSISTED_OPERATIONS_MODE: z.enum(['apq', 'safelist']).default('apq'),
  /** The storefront's build folder (clients/web/dist), served at /shop/; default: not served. */
  WEB_DIST: z.string().min(1).optional(),
  // --- end persisted operations and storefront

  // Identity: bearer tokens verified with jose.
  AUTH_JWKS_URL: optionalUrl,
  AUTH_PUBLIC_KEY: z.string().min(1).optional(),
  AUTH_ISSUER: z.string().min(1).default('commerce-accounts'),
  AUTH_AUDIENCE: z.string().min(1).default('commerce-supergraph'),
  AUTH_ALGORITHMS: z.string().default('EdDSA,ES256,RS256,PS256'),
  AUTH_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  AUTH_USER_ID_CLAIM: z.string().min(1).default('sub'),
  AUTH_SCOPES_CLAIM: z.string().min(1).default('scope'),
  /** Verified tokens remembered per process, so a caller's next request skips the signature check. */
  AUTH_VERIFIED_TOKENS: z.coerce.number().int().min(0).max(1_000_000).default(10_000),

  // Rate limits per minute: signed-in callers by user, anonymous ones by address. 0 turns one off.
  RATE_LIMIT_USER_PER_MINUTE: z.coerce.number().int().min(0).default(1_200),
  RATE_LIMIT_IP_PER_MINUTE: z.coerce.number().int().min(0).default(600),

  // Operation limits, checked before planning.
  MAX_QUERY_DEPTH: z.coerce.number().int().min(1).optional(),
  MAX_QUERY_ALIASES: z.coerce.number().int().min(0).optional(),
  MAX_QUERY_DIRECTIVES: z.coerce.number().int().min(0).optional(),
  MAX_QUERY_TOKENS: z.coerce.number().int().min(10).optional(),
  MAX_QUERY_ROOT_FIELDS: z.coerce.number().int().min(1).optional(),
  MAX_MUTATION_ROOT_FIELDS: z.coerce.number().int().min(1).optional(),
  MAX_QUERY_NODES: z.coerce.number().int().min(1).optional(),
  MAX_QUERY_FIELDS: z.coerce.number().int().min(1).optional(),

  // Subgraph resilience.
  SUBGRAPH_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  SUBGRAPH_BREAKER_FAILURES: z.coerce.number().int().min(1).max(1_000).default(5),
  SUBGRAPH_BREAKER_HALF_OPEN_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
});

export type RouterEnv = ReturnType<typeof loadRouterEnv>;

/** A subgraph's name as it appears in variable names: upper-cased, non-alphanumerics as `_`. */
function envName(subgraph: string): string {
  return subgraph.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** Subgraph URL overrides: SUBGRAPH_<NAME>_URL, NAME being the subgraph name upper-cased. */
export function overrideVariable(subgraph: string): string {
  return `SUBGRAPH_${envName(subgraph)}_URL`;
}

/** The secret the router signs a subgraph's requests with: <NAME>_SIGNING_SECRET, the subgraph reads the same one. */
export function signingSecretVariable(subgraph: string): string {
  return `${envName(subgraph)}_SIGNING_SECRET`;
}

export function loadRouterEnv(argv: readonly string[] = process.argv.slice(2), source: Record<string, string | undefined> = process.env) {
  const problems: string[] = [];
  let env: z.infer<typeof routerEnv> | undefined;
  try {
    env = loadEnv(routerEnv, source);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.message.split('\n').slice(1));
  }
  const overrides = new Map<string, string>();
  for (const [name, value] of Object.entries(source)) {
    const match = /^SUBGRAPH_([A-Z0-9_]+)_URL$/.exec(name);
    if (!match || !value) continue;
    if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
      problems.push(`  - ${name}: must be an http(s) URL (got "${value}")`);
      continue;
    }
    overrides.set(name, value);
  }
  // Which subgraphs need one is known once the supergraph is read: see missingSigningSecrets.
  const signingSecrets = new Map<string, string>();
  for (const [name, value] of Object.entries(source)) {
    if (!/^[A-Z0-9_]+_SIGNING_SECRET$/.test(name) || !value) continue;
    const checked = signingSecret.safeParse(value);
    if (checked.success) signingSecrets.set(name, value);
    else problems.push(`  - ${name}: ${checked.error.issues[0]?.message ?? 'invalid'} (got ${value.length} characters)`);
  }
  if (source.ENTITY_CACHE_MAX_ENTRIES !== undefined) {
    problems.push('  - ENTITY_CACHE_MAX_ENTRIES: replaced by ENTITY_CACHE_MAX_MB (the memory store is bounded by the heap it takes, not by a count)');
  }
  if (env?.CORS_CREDENTIALS && env.CORS_ORIGINS?.trim() === '*') {
    problems.push('  - CORS_CREDENTIALS: cannot be true while CORS_ORIGINS is "*"; list the origins that may send credentials');
  }
  const algorithms = (env?.AUTH_ALGORITHMS ?? '').split(',').map((a) => a.trim()).filter(Boolean);
  const unsafe = algorithms.filter((a) => !ASYMMETRIC_ALGORITHMS.has(a));
  if (env && (algorithms.length === 0 || unsafe.length > 0)) {
    problems.push(`  - AUTH_ALGORITHMS: only asymmetric JWS algorithms are accepted (${[...ASYMMETRIC_ALGORITHMS].join(', ')}); got "${env.AUTH_ALGORITHMS}"`);
  }
  if (env?.PERSISTED_OPERATIONS_MODE === 'safelist' && !env.PERSISTED_OPERATIONS) {
    problems.push('  - PERSISTED_OPERATIONS_MODE: safelist needs PERSISTED_OPERATIONS (the manifest of the operations to allow)');
  }
  if (env?.AUTH_JWKS_URL && env.AUTH_PUBLIC_KEY) {
    problems.push('  - AUTH_PUBLIC_KEY: set either AUTH_JWKS_URL or AUTH_PUBLIC_KEY, not both');
  }
  if (env?.ENTITY_CACHE === 'on' && !env.ROUTER_EVENTS_SECRET && !env.NATS_URL) {
    problems.push('  - ENTITY_CACHE: on needs an invalidation source: ROUTER_EVENTS_SECRET (publishers push events to the router) or NATS_URL (the router reads the streams); without one, cached answers would only expire');
  }
  if (env && env.ENTITY_CACHE !== 'off' && env.ROUTER_EVENTS_SECRET && !env.NATS_URL && !env.REDIS_URL && env.ROUTER_WORKERS !== 1) {
    // An event pushed to the port reaches one worker; the others' memory would keep the old answer.
    problems.push('  - ROUTER_WORKERS: several workers with the entity cache in memory need REDIS_URL (one shared cache) or NATS_URL (every worker hears every event); or set ENTITY_CACHE=off');
  }
  if (problems.length > 0 || !env) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  const corsOrigins =
    env.CORS_ORIGINS === undefined
      ? env.NODE_ENV === 'production'
        ? []
        : ('*' as const)
      : env.CORS_ORIGINS.trim() === '*'
        ? ('*' as const)
        : env.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean);
  return {
    nodeEnv: env.NODE_ENV,
    host: env.HOST,
    port: env.ROUTER_PORT,
    logLevel: env.LOG_LEVEL,
    // A path on the command line wins over SUPERGRAPH_PATH, which wins over the committed file.
    supergraphPath: argv.find((arg) => !arg.startsWith('-')) ?? env.SUPERGRAPH_PATH ?? DEFAULT_SUPERGRAPH,
    subgraphTimeoutMs: env.SUBGRAPH_TIMEOUT_MS,
    subgraphMaxSockets: env.SUBGRAPH_MAX_SOCKETS,
    coalesceSubgraphQueries: env.SUBGRAPH_COALESCE_QUERIES,
    mergeSubgraphFetches: env.SUBGRAPH_MERGE_FETCHES,
    mergeSiblingFetches: env.SUBGRAPH_MERGE_SIBLINGS,
    workers: env.ROUTER_WORKERS === 'auto' ? availableParallelism() : env.ROUTER_WORKERS,
    corsOrigins,
    corsCredentials: env.CORS_CREDENTIALS,
    maxBodyBytes: env.MAX_BODY_BYTES,
    http: {
      maxHeaderBytes: env.MAX_HEADER_BYTES,
      headersTimeoutMs: env.HEADERS_TIMEOUT_MS,
      requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
      shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    },
    trustProxyHops: env.TRUST_PROXY_HOPS,
    introspection: env.INTROSPECTION ?? env.NODE_ENV !== 'production',
    ide: env.IDE ?? env.NODE_ENV !== 'production',
    redisUrl: env.REDIS_URL,
    /** Null when off (ENTITY_CACHE=off, or auto with no invalidation source). */
    entityCache:
      env.ENTITY_CACHE === 'off' || (!env.ROUTER_EVENTS_SECRET && !env.NATS_URL)
        ? null
        : { maxBytes: env.ENTITY_CACHE_MAX_MB * 1024 * 1024, ...defined({ eventsSecret: env.ROUTER_EVENTS_SECRET, natsUrl: env.NATS_URL }) },
    /** A manifest path to read at start, and the mode; null when PERSISTED_OPERATIONS is unset. */
    persistedOperations: env.PERSISTED_OPERATIONS ? { path: env.PERSISTED_OPERATIONS, mode: env.PERSISTED_OPERATIONS_MODE } : null,
    webDist: env.WEB_DIST ?? null,
    auth: {
      jwksUrl: env.AUTH_JWKS_URL,
      publicKey: env.AUTH_PUBLIC_KEY,
      issuer: env.AUTH_ISSUER,
      audience: env.AUTH_AUDIENCE,
      algorithms,
      clockToleranceSeconds: env.AUTH_CLOCK_TOLERANCE_SECONDS,
      userIdClaim: env.AUTH_USER_ID_CLAIM,
      scopesClaim: env.AUTH_SCOPES_CLAIM,
      verifiedTokens: env.AUTH_VERIFIED_TOKENS,
    },
    rateLimits: { userPerMinute: env.RATE_LIMIT_USER_PER_MINUTE, ipPerMinute: env.RATE_LIMIT_IP_PER_MINUTE },
    limits: {
      ...DEFAULT_OPERATION_LIMITS,
      ...defined({
        maxDepth: env.MAX_QUERY_DEPTH,
        maxAliases: env.MAX_QUERY_ALIASES,
        maxDirectives: env.MAX_QUERY_DIRECTIVES,
        maxTokens: env.MAX_QUERY_TOKENS,
        maxRootFields: env.MAX_QUERY_ROOT_FIELDS,
        maxMutationRootFields: env.MAX_MUTATION_ROOT_FIELDS,
        maxNodes: env.MAX_QUERY_NODES,
        maxFields: env.MAX_QUERY_FIELDS,
      }),
    },
    resilience: {
      retries: env.SUBGRAPH_RETRIES,
      breakerFailures: env.SUBGRAPH_BREAKER_FAILURES,
      breakerHalfOpenMs: env.SUBGRAPH_BREAKER_HALF_OPEN_MS,
    },
    /** By variable name (see signingSecretVariable). */
    signingSecrets,
    /** Keyed by variable name (see overrideVariable). */
    overrides,
  };
}

/** The subgraphs of a supergraph that have no signing secret configured, as the variables to set. */
export function missingSigningSecrets(subgraphs: readonly string[], secrets: ReadonlyMap<string, string>): string[] {
  return subgraphs.map(signingSecretVariable).filter((variable) => !secrets.has(variable));
}

/** JWS algorithms a verifier may accept: asymmetric only, so a public key can never be used as an HMAC secret. */
const ASYMMETRIC_ALGORITHMS = new Set(['EdDSA', 'Ed25519', 'ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']);

function defined<T extends Record<string, unknown>>(values: T): Partial<{ [K in keyof T]: Exclude<T[K], undefined> }> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<{ [K in keyof T]: Exclude<T[K], undefined> }>;
}
