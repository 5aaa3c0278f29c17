import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadEnv, logLevel, port } from '@commerce/service-kit/core';
import { z } from 'zod';

export const DEFAULT_SUPERGRAPH = fileURLToPath(new URL('../supergraph.graphql', import.meta.url));

const routerEnv = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  ROUTER_PORT: port(4000),
  LOG_LEVEL: logLevel,
  SUPERGRAPH_PATH: z.string().min(1).optional(),
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  SUBGRAPH_MAX_SOCKETS: z.coerce.number().int().min(1).max(10_000).default(128),
  SUBGRAPH_COALESCE_QUERIES: z.enum(['true', 'false']).default('false'),
  /** Router processes sharing the port (node:cluster); `auto` = one per core. */
  ROUTER_WORKERS: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(64)]).default(1),
  /** Comma-separated browser origins allowed to call the router; `*` for any. */
  CORS_ORIGINS: z.string().optional(),
  MAX_BODY_BYTES: z.coerce.number().int().min(1_024).max(50 * 1024 * 1024).default(1024 * 1024),
});

export type RouterEnv = ReturnType<typeof loadRouterEnv>;

/** Subgraph URL overrides: SUBGRAPH_<NAME>_URL, NAME being the subgraph name upper-cased. */
export function overrideVariable(subgraph: string): string {
  return `SUBGRAPH_${subgraph.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL`;
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
    coalesceSubgraphQueries: env.SUBGRAPH_COALESCE_QUERIES === 'true',
    workers: env.ROUTER_WORKERS === 'auto' ? availableParallelism() : env.ROUTER_WORKERS,
    corsOrigins,
    maxBodyBytes: env.MAX_BODY_BYTES,
    /** Keyed by variable name (see overrideVariable). */
    overrides,
  };
}
