import { postgresAdminUrl } from '@commerce/db/testing';
import { natsServerBinary, privateNatsServer } from '@commerce/service-kit/testing/nats';
import { afterAll } from 'vitest';
import { defineOrderFlowSuite } from './support/order-flow-suite.ts';
import { startSupergraph } from './support/supergraph.ts';

// Events through NATS JetStream, on a server of this test file's own (a free port and a fresh
// store), so the suite can restart the broker mid-test without disturbing anyone else.
const binary = natsServerBinary();
if (!binary) console.warn('order-flow-jetstream.test.ts: no nats-server executable (TEST_NATS_SERVER, PATH or /usr/sbin); the JetStream order flow is skipped');
let broker: Awaited<ReturnType<typeof privateNatsServer>> | undefined;
afterAll(() => broker?.close());

defineOrderFlowSuite(
  'placing orders, events through NATS JetStream, embedded PGlite',
  async () => {
    broker = await privateNatsServer(binary!);
    return startSupergraph({ natsUrl: broker.url });
  },
  {
    skip: !binary,
    restartBroker: async () => {
      await broker!.stop();
      await new Promise((resolve) => setTimeout(resolve, 500));
      await broker!.start();
    },
  },
);

// And on PostgreSQL (real concurrency), with a broker of its own too. Skipped without TEST_POSTGRES_ADMIN_URL.
let pgBroker: Awaited<ReturnType<typeof privateNatsServer>> | undefined;
afterAll(() => pgBroker?.close());

defineOrderFlowSuite(
  'placing orders, events through NATS JetStream, PostgreSQL (TEST_POSTGRES_ADMIN_URL)',
  async () => {
    pgBroker = await privateNatsServer(binary!);
    return startSupergraph({ natsUrl: pgBroker.url, postgresAdminUrl });
  },
  {
    skip: !binary || !postgresAdminUrl,
    restartBroker: async () => {
      await pgBroker!.stop();
      await new Promise((resolve) => setTimeout(resolve, 500));
      await pgBroker!.start();
    },
  },
);
