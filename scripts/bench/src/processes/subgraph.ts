// One subgraph in its own process, as its main.ts starts it (the kit's startSubgraph on a
// PostgreSQL database), plus counters: requests at its HTTP layer and SQL statements through
// Database.onStatement. Arguments: <service> <database url> <pool max>.
import { openDatabase } from '@commerce/db';
import { createLogger, startSubgraph } from '@commerce/service-kit';
import { isServiceName, loadDefinition } from '../services.ts';
import { announceServer, startChild } from '../ipc.ts';

await startChild(async () => {
  const [service, url, poolMax] = process.argv.slice(2);
  if (!service || !isServiceName(service) || !url) throw new Error('usage: subgraph.ts <service> <database url> [pool max]');
  const definition = await loadDefinition(service);
  const database = await openDatabase({
    service,
    kind: 'postgres',
    url,
    pool: { max: Number(poolMax ?? 10), connectTimeoutMs: 5_000, idleTimeoutMs: 10_000, applicationName: service },
  });
  const running = await startSubgraph(definition, { database, host: '127.0.0.1', port: 0, logger: createLogger(service, 'error') });
  announceServer(running, database, running.url);
});
