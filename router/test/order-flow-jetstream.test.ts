import { postgresAdminUrl } from '@commerce/db/testing';
import { natsServerBinary, privateNatsServer } from '@commerce/service-kit/testing/nats';
import { afterAll } from 'vitest';
import { defineOrderFlowSuite } from './support/order-flow-suite.ts';
import { startSupergraph, type SupergraphOptions } from './support/supergraph.ts';

// Events through NATS JetStream, on a server of each suite's own (a free port and a fresh store),
// so a suite can restart the broker mid-test without disturbing anyone else.
const binary = natsServerBinary();
if (!binary) console.warn('order-flow-jetstream.test.ts: no nats-server executable (TEST_NATS_SERVER, PATH or /usr/sbin); the JetStream order flow is skipped');

function defineBrokerSuite(title: string, options: Omit<SupergraphOptions, 'natsUrl'>, skip: boolean) {
  let broker: Awaited<ReturnType<typeof privateNatsServer>> | undefined;
  afterAll(() => broker?.close());
  defineOrderFlowSuite(
    title,
    async () => {
      broker = await privateNatsServer(binary!);
      return startSupergraph({ ...options, natsUrl: broker.url });
    },
    {
      skip,
      restartBroker: async () => {
        await broker!.stop();
        await new Promise((resolve) => setTimeout(resolve, 500));
        await broker!.start();
      },
    },
  );
}

defineBrokerSuite('placing orders, events through NATS JetStream, embedded PGlite', {}, !binary);
// And on PostgreSQL (real concurrency). Skipped without TEST_POSTGRES_ADMIN_URL.
defineBrokerSuite('placing orders, events through NATS JetStream, PostgreSQL (TEST_POSTGRES_ADMIN_URL)', { postgresAdminUrl }, !binary || !postgresAdminUrl);
