// The monolith in its own process: one GraphQL server, one database. Arguments: <database url> <pool max>.
import { openDatabase } from '@commerce/db';
import { createLogger } from '@commerce/service-kit';
import { startMonolith } from '../../monolith/src/server.ts';
import { send, serveCounters, startChild, type Counters } from '../ipc.ts';

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
  const counters: Counters = { requests: 0, statements: 0 };
  running.server.on('request', (request) => {
    if (request.url?.startsWith('/graphql')) counters.requests++;
  });
  database.onStatement(() => {
    counters.statements++;
  });
  serveCounters(counters, async () => {
    await running.stop();
    await database.close();
  });
  send({ type: 'ready', url: running.graphqlUrl });
});
