import cluster from 'node:cluster';
import { readFile } from 'node:fs/promises';
import { ConfigError, createLogger, runProcess } from '@commerce/service-kit/core';
import { loadRouterEnv, missingSigningSecrets } from './env.ts';
import { loadManifest } from './persisted.ts';
import { resolveEndpoints, startRouter, subgraphsOf } from './router.ts';

const bootLogger = createLogger('router');

if (cluster.isPrimary) {
  let workers = 1;
  try {
    workers = loadRouterEnv().workers;
  } catch {
    // The worker path below reports configuration problems; with one worker there is no fork.
  }
  if (workers > 1) superviseWorkers(workers);
  else await serve();
} else {
  await serve();
}

/** One router process: it loads the supergraph, listens, and stops cleanly on a signal. */
async function serve(): Promise<void> {
  await runProcess(bootLogger, async () => {
    const env = loadRouterEnv();
    const logger = createLogger(cluster.isWorker ? `router#${cluster.worker?.id}` : 'router', env.logLevel);
    const supergraphSdl = await readFile(env.supergraphPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new ConfigError(`Cannot read the supergraph at ${env.supergraphPath}: ${error.code ?? error.message}`);
    });
    const missing = missingSigningSecrets(subgraphsOf(supergraphSdl).map((s) => s.name), env.signingSecrets);
    if (missing.length > 0) {
      throw new ConfigError(
        `Invalid configuration:\n${missing.map((variable) => `  - ${variable}: is required: the secret the router signs this subgraph's requests with (the subgraph gets the same one; \`npm start\` makes development ones)`).join('\n')}`,
      );
    }
    // --- Persisted operations: the manifest is read once; a bad one stops the start, named.
    const persisted = env.persistedOperations ? { manifest: await loadManifest(env.persistedOperations.path), mode: env.persistedOperations.mode } : null;
    // --- end persisted operations
    const router = await startRouter({
      supergraphSdl,
      overrides: env.overrides,
      signingSecrets: env.signingSecrets,
      auth: env.auth,
      rateLimits: env.rateLimits,
      ...(env.redisUrl ? { redisUrl: env.redisUrl } : {}),
      ...(env.entityCache ? { entityCache: env.entityCache } : {}),
      limits: env.limits,
      production: env.nodeEnv === 'production',
      introspection: env.introspection,
      ide: { enabled: env.ide },
      ...(persisted ? { persistedOperations: persisted } : {}),
      ...(env.webDist ? { storefront: { distDir: env.webDist } } : {}),
      subgraphTimeoutMs: env.subgraphTimeoutMs,
      subgraphMaxSockets: env.subgraphMaxSockets,
      coalesceSubgraphQueries: env.coalesceSubgraphQueries,
      mergeSubgraphFetches: env.mergeSubgraphFetches,
      mergeSiblingFetches: env.mergeSiblingFetches,
      resilience: env.resilience,
      logger,
      corsOrigins: env.corsOrigins,
      corsCredentials: env.corsCredentials,
      maxBodyBytes: env.maxBodyBytes,
      trustProxyHops: env.trustProxyHops,
      ...env.http,
      host: env.host,
      port: env.port,
    });
    if (!cluster.isWorker || cluster.worker?.id === 1) {
      for (const { name, url } of resolveEndpoints(supergraphSdl, env.overrides)) logger.info(`subgraph ${name} → ${url}`);
      logger.info(`router ready: send queries to ${router.graphqlUrl} (health: ${router.url}/health, readiness: ${router.url}/ready)`);
      if (persisted) logger.info(`persisted operations: ${persisted.manifest.operations.length} in the manifest, mode ${persisted.mode}${persisted.mode === 'safelist' ? ' (nothing else runs)' : ''}`);
      if (env.entityCache) logger.info(`entity cache on (${env.redisUrl ? 'Redis' : 'in memory'}), invalidated by ${env.entityCache.natsUrl ? 'the JetStream streams' : 'events pushed to /internal/events'}`);
      if (env.webDist) logger.info(`storefront: ${router.url}/shop/ (from ${env.webDist})`);
    }
    return { logger, stop: () => router.stop() };
  });
}

/**
 * Several router processes share one port (the primary accepts and hands connections out), so
 * query planning and response shaping use every core. The primary only supervises: it replaces a
 * worker that dies and forwards SIGINT/SIGTERM for a clean stop.
 */
function superviseWorkers(count: number): void {
  let stopping = false;
  bootLogger.info(`starting ${count} router workers`);
  for (let i = 0; i < count; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    if (code === 1 && worker.id <= count) {
      // A worker that fails at start fails for every worker (bad config): do not loop.
      bootLogger.error('a router worker failed to start; stopping');
      process.exit(1);
    }
    bootLogger.warn(`router worker ${worker.id} exited (${signal ?? `code ${code}`}); starting a replacement`);
    cluster.fork();
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    bootLogger.info(`${signal}: stopping router workers`);
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
