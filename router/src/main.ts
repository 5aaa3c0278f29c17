import { readFile } from 'node:fs/promises';
import { ConfigError, createLogger, runProcess } from '@commerce/service-kit';
import { loadRouterEnv } from './env.ts';
import { resolveEndpoints, startRouter } from './router.ts';

await runProcess(createLogger('router'), async () => {
  const env = loadRouterEnv();
  const logger = createLogger('router', env.logLevel);
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
  return { logger, stop: () => router.stop() };
});
