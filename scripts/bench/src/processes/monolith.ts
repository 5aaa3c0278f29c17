// The monolith in its own process: one GraphQL server, one database. Arguments: <database url> <pool max>.
import { openDatabase } from '@commerce/db';
import { createLogger } from '@commerce/service-kit';
import { startMonolith } from '../../monolith/src/server.ts';
import { announceServer, startChild } from '../ipc.ts';

await startChild(async () => {
  const [url, poolMax] = process.argv.slice(2);
  if (!url) throw new Error('usage: monolith.ts <database url> [pool max]');
  const database = await openDatabase({
    service: 'monolith',
    kind: 'postgres',
    url,
    pool: { max: Number(poolMax ?? 10), connectTimeoutMs: 5_000, idleTimeoutMs: 10_000, applicationName: 'monolith' },
  });
  const running = await startMonolith({ database, logger: createLogger('monolith', 'error') });
  announceServer(running, database, running.graphqlUrl);
});
