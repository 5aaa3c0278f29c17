import { readFile } from 'node:fs/promises';
import { ConfigError, createLogger, describeError } from '@commerce/service-kit';
import { loadRouterEnv } from './env.ts';
import { resolveEndpoints, startRouter } from './router.ts';

let logger = createLogger('router');
try {
  const env = loadRouterEnv();
  logger = createLogger('router', env.logLevel);
  const supergraphSdl = await readFile(env.supergraphPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new ConfigError(`Cannot read the supergraph at ${env.supergraphPath}: ${error.code ?? error.message}`);
  });
  const router = await startRouter({
    supergraphSdl,
    overrides: env.overrides,
    subgraphTimeoutMs: env.subgraphTimeoutMs,
    logger,
    corsOrigins: env.corsOrigins,
    maxBodyBytes: env.maxBodyBytes,
    host: env.host,
    port: env.port,
  });
  for (const { name, url } of resolveEndpoints(supergraphSdl, env.overrides)) logger.info(`subgraph ${name} → ${url}`);
  logger.info(`router ready: send queries to ${router.graphqlUrl} (health: ${router.url}/health, readiness: ${router.url}/ready)`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: shutting down`);
    await router.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
} catch (error) {
  logger.error(error instanceof ConfigError ? error.message : `failed to start: ${describeError(error).error}`);
  process.exit(1);
}
