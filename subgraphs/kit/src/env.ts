import { z } from 'zod';
import { MIN_SECRET_LENGTH } from './signing.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Validates the environment against `schema` and reports every problem at once, naming each
 * variable, so a misconfigured service fails at start with one readable message.
 */
export function loadEnv<Schema extends z.ZodType>(
  schema: Schema,
  source: Record<string, string | undefined> = process.env,
): z.infer<Schema> {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  throw new ConfigError(`Invalid configuration:\n${describeIssues(result.error.issues, source).join('\n')}`);
}

/** An empty string counts as unset: `FOO= npm start` should mean "use the default". */
const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());

export const port = (fallback: number) =>
  z.coerce.number().int().min(0).max(65_535).default(fallback);

export const logLevel = z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info');

const postgresUrl = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z
    .string()
    .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// or postgresql:// URL')
    .optional(),
);

export const redisUrl = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z
    .string()
    .refine((v) => /^rediss?:\/\//.test(v), 'must be a redis:// or rediss:// URL')
    .optional(),
);

/** An HMAC key shared by the router and one subgraph; generate one with `openssl rand -base64 48`. */
export const signingSecret = z
  .string({ error: `is required: the secret this service shares with the router (at least ${MIN_SECRET_LENGTH} characters; \`npm start\` makes development ones)` })
  .min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`);

const commonSubgraphEnv = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: logLevel,
  DATA_DIR: optionalString,
  REDIS_URL: redisUrl,
  /** Set: events travel through NATS JetStream. Unset: relays push them to subscribers over HTTP. */
  NATS_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .refine((v) => /^(nats|tls):\/\//.test(v), 'must be a nats:// or tls:// URL')
      .optional(),
  ),
});

/** Variables named `<PREFIX>_<NAME>` in the environment; validated here without the prefix. */
function scopedSubgraphEnv(defaultPort: number) {
  return z.object({
    PORT: port(defaultPort),
    DATABASE_URL: postgresUrl,
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).default(10),
    DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
    DATABASE_IDLE_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
    /** Distinct statements each PostgreSQL connection keeps prepared (unset: the database platform's default, none). */
    DATABASE_PREPARED_STATEMENTS: z.coerce.number().int().min(0).max(10_000).optional(),
    SIGNING_SECRET: signingSecret,
    /** Verifies events pushed to this service and calls to its /internal routes. */
    EVENTS_SECRET: optionalString.refine((v) => v === undefined || v.length >= MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`),
    MAX_REPRESENTATIONS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  });
}

/**
 * The variables every subgraph reads. Service-specific ones carry the service name in upper case
 * (ACCOUNTS_PORT, PRODUCTS_DATABASE_URL, …) so one shell can configure all services at once.
 */
export function loadSubgraphEnv(prefix: string, defaultPort: number, source: Record<string, string | undefined> = process.env) {
  const scopedSource = Object.fromEntries(
    Object.entries(source)
      .filter(([name]) => name.startsWith(`${prefix}_`))
      .map(([name, value]) => [name.slice(prefix.length + 1), value]),
  );
  const problems: string[] = [];
  const common = collect(commonSubgraphEnv, source, '', problems);
  const scoped = collect(scopedSubgraphEnv(defaultPort), scopedSource, `${prefix}_`, problems);
  if (!common || !scoped) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  return {
    nodeEnv: common.NODE_ENV,
    host: common.HOST,
    logLevel: common.LOG_LEVEL,
    dataDir: common.DATA_DIR,
    redisUrl: common.REDIS_URL,
    natsUrl: common.NATS_URL,
    eventsSecret: scoped.EVENTS_SECRET,
    port: scoped.PORT,
    signingSecret: scoped.SIGNING_SECRET,
    maxRepresentations: scoped.MAX_REPRESENTATIONS,
    databaseUrl: scoped.DATABASE_URL,
    pool: {
      max: scoped.DATABASE_POOL_MAX,
      connectTimeoutMs: scoped.DATABASE_CONNECT_TIMEOUT_MS,
      idleTimeoutMs: scoped.DATABASE_IDLE_TIMEOUT_MS,
      ...(scoped.DATABASE_PREPARED_STATEMENTS === undefined ? {} : { preparedStatements: scoped.DATABASE_PREPARED_STATEMENTS }),
    },
  };
}

export type SubgraphEnv = ReturnType<typeof loadSubgraphEnv>;

/**
 * Where a publisher pushes its events in the embedded (HTTP) mode: each subscriber's URL
 * (`SUBGRAPH_<NAME>_URL`, the variable the router reads too) and events secret
 * (`<NAME>_EVENTS_SECRET`), and the router's, for its entity cache: `ROUTER_URL` (its base URL)
 * and `ROUTER_EVENTS_SECRET`, both or neither (neither: nothing is pushed to the router). Every
 * problem is reported at once.
 */
export function loadEventEndpoints(subscribers: readonly string[], source: Record<string, string | undefined> = process.env) {
  const problems: string[] = [];
  const router = routerEventEndpoint(source, problems);
  const endpoints = new Map<string, string>();
  const secrets = new Map<string, string>();
  for (const subscriber of subscribers) {
    const name = subscriber.toUpperCase().replace(/[^A-Z0-9]/g, '_');
    const url = source[`SUBGRAPH_${name}_URL`];
    const secret = source[`${name}_EVENTS_SECRET`];
    if (!url || !URL.canParse(url)) problems.push(`  - SUBGRAPH_${name}_URL: is required: where events for ${subscriber} are pushed (or set NATS_URL)`);
    else endpoints.set(subscriber, url);
    if (!secret || secret.length < MIN_SECRET_LENGTH) problems.push(`  - ${name}_EVENTS_SECRET: is required (at least ${MIN_SECRET_LENGTH} characters): signs events pushed to ${subscriber}`);
    else secrets.set(subscriber, secret);
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  return { endpoints, secrets, router };
}

/** The router as a destination of events: both variables, or neither (undefined). */
function routerEventEndpoint(source: Record<string, string | undefined>, problems: string[]): { url: string; secret: string } | undefined {
  // Empty counts as unset, as everywhere.
  const url = source.ROUTER_URL || undefined;
  const secret = source.ROUTER_EVENTS_SECRET || undefined;
  if (url === undefined && secret === undefined) return undefined;
  const before = problems.length;
  if (url === undefined) problems.push('  - ROUTER_URL: is required when ROUTER_EVENTS_SECRET is set: the router’s base URL (e.g. http://localhost:4000), where events that change supergraph entities are pushed for its entity cache (or unset both)');
  else if (!/^https?:\/\//.test(url) || !URL.canParse(url)) problems.push(`  - ROUTER_URL: must be an http:// or https:// URL, the router’s base URL (got "${url}")`);
  if (secret === undefined) problems.push(`  - ROUTER_EVENTS_SECRET: is required when ROUTER_URL is set (at least ${MIN_SECRET_LENGTH} characters): signs events pushed to the router (or unset both)`);
  else if (secret.length < MIN_SECRET_LENGTH) problems.push(`  - ROUTER_EVENTS_SECRET: must be at least ${MIN_SECRET_LENGTH} characters (got ${secret.length} characters)`);
  return problems.length === before && url && secret ? { url, secret } : undefined;
}

function collect<Schema extends z.ZodType>(
  schema: Schema,
  source: Record<string, string | undefined>,
  namePrefix: string,
  problems: string[],
): z.infer<Schema> | null {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  problems.push(...describeIssues(result.error.issues, source, namePrefix));
  return null;
}

const SECRET_NAME = /SECRET|PASSWORD|PRIVATE|TOKEN|KEY/i;

function describeIssues(issues: readonly z.core.$ZodIssue[], source: Record<string, string | undefined>, namePrefix = ''): string[] {
  return issues.map((issue) => {
    const key = issue.path.map(String).join('.');
    const value = issue.path.length === 1 ? source[key] : undefined;
    // Never echo a secret into a log: say how long it was instead.
    const shown = value === undefined ? '' : SECRET_NAME.test(key) ? ` (got ${value.length} characters)` : ` (got "${value}")`;
    return `  - ${namePrefix}${key || '(environment)'}: ${issue.message}${shown}`;
  });
}
