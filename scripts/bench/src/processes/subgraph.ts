// One subgraph in its own process, as its main.ts starts it: configured through the variables
// the kit reads (<NAME>_DATABASE_URL, _DATABASE_POOL_MAX, _SIGNING_SECRET, _PORT; accounts also
// ACCOUNTS_JWT_PRIVATE_KEY), its definition built from them (accounts' factory), the kit's
// startSubgraph on a PostgreSQL database; plus counters: requests at its HTTP layer and SQL
// statements through Database.onStatement. Arguments: <service> [events].
//
// With `events` (the mixed scenario) its events are on exactly as the kit's runSubgraph turns them
// on (eventsFromEnv; no NATS_URL here): the HTTP transport to every subscriber of what it publishes
// (SUBGRAPH_<NAME>_URL, <NAME>_EVENTS_SECRET) and, with ROUTER_URL and ROUTER_EVENTS_SECRET, to the
// router; its own <NAME>_EVENTS_SECRET verifies what is pushed to it. Without it, no events (the
// full scenario, as before).
//
// BENCH_APPLICATION_NAME, when set, names its PostgreSQL connections (default: the service's name),
// so the subgraphs scenario can tell apart the backends of several processes on one database.
import { openDatabase } from '@commerce/db';
import { createLogger, eventsFromEnv, loadSubgraphEnv, startSubgraph } from '@commerce/service-kit';
import { isServiceName, loadService } from '../services.ts';
import { announceServer, startChild } from '../ipc.ts';

await startChild(async () => {
  const [service, mode] = process.argv.slice(2);
  if (!service || !isServiceName(service)) throw new Error('usage: subgraph.ts <service> [events] (configured through its environment)');
  const env = loadSubgraphEnv(service.toUpperCase(), 0);
  if (!env.databaseUrl) throw new Error(`${service.toUpperCase()}_DATABASE_URL is not set`);
  const logger = createLogger(service, 'error');
  const loaded = await loadService(service);
  const definition = 'create' in loaded ? await loaded.create({ env, redis: null, logger }) : loaded;
  const database = await openDatabase({ service, kind: 'postgres', url: env.databaseUrl, pool: { ...env.pool, applicationName: process.env.BENCH_APPLICATION_NAME || service } });
  const events = mode === 'events' ? await eventsFromEnv(definition, env, logger) : null;
  const running = await startSubgraph(definition, {
    database,
    signingSecret: env.signingSecret,
    maxRepresentations: env.maxRepresentations,
    host: env.host,
    port: env.port,
    logger,
    ...(events ? { events } : {}),
  });
  announceServer(
    { server: running.server, stop: async () => { await running.stop(); await events?.transport.close(); } },
    database,
    running.url,
  );
});
