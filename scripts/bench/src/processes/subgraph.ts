// One subgraph in its own process, as its main.ts starts it: configured through the variables
// the kit reads (<NAME>_DATABASE_URL, _DATABASE_POOL_MAX, _SIGNING_SECRET, _PORT; accounts also
// ACCOUNTS_JWT_PRIVATE_KEY), its definition built from them (accounts' factory), the kit's
// startSubgraph on a PostgreSQL database; plus counters: requests at its HTTP layer and SQL
// statements through Database.onStatement. Argument: <service>.
import { openDatabase } from '@commerce/db';
import { createLogger, loadSubgraphEnv, startSubgraph } from '@commerce/service-kit';
import { isServiceName, loadService } from '../services.ts';
import { announceServer, startChild } from '../ipc.ts';

await startChild(async () => {
  const [service] = process.argv.slice(2);
  if (!service || !isServiceName(service)) throw new Error('usage: subgraph.ts <service> (configured through its environment)');
  const env = loadSubgraphEnv(service.toUpperCase(), 0);
  if (!env.databaseUrl) throw new Error(`${service.toUpperCase()}_DATABASE_URL is not set`);
  const logger = createLogger(service, 'error');
  const loaded = await loadService(service);
  const definition = 'create' in loaded ? await loaded.create({ env, redis: null, logger }) : loaded;
  const database = await openDatabase({ service, kind: 'postgres', url: env.databaseUrl, pool: { ...env.pool, applicationName: service } });
  const running = await startSubgraph(definition, {
    database,
    signingSecret: env.signingSecret,
    maxRepresentations: env.maxRepresentations,
    host: env.host,
    port: env.port,
    logger,
  });
  announceServer(running, database, running.url);
});
