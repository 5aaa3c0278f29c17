import { AckPolicy, DeliverPolicy, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, jetStreamTransport, streamName, type EventTransport } from '../src/index.ts';
import { deleteStreams, natsAnswers, natsUrl, testStreamPrefix } from '../src/testing-nats.ts';

/**
 * What the JetStream transport asks the broker for, read back from the broker itself: the stream
 * and consumer settings the README's "Transports" and the design notes' guarantees name (kept on
 * disk 30 days, duplicate ids dropped within 2 minutes, one durable consumer per subscriber with
 * explicit acks and one message in flight). events-jetstream.test.ts tests the behaviour.
 */
const reachable = natsUrl ? await natsAnswers(natsUrl) : false;
const skipReason = !natsUrl ? 'TEST_NATS_URL is unset' : !reachable ? `nothing answers at TEST_NATS_URL=${natsUrl}` : '';
if (skipReason) console.warn(`JetStream configuration test skipped: ${skipReason}.`);

const NANOS_PER_SECOND = 1_000_000_000;

describe.skipIf(Boolean(skipReason))(`the JetStream stream and consumers (TEST_NATS_URL${skipReason ? `: skipped, ${skipReason}` : ''})`, () => {
  const prefix = testStreamPrefix();
  const logger = createLogger('events-jetstream-config-test', 'silent');
  const transports: EventTransport[] = [];
  afterAll(async () => {
    for (const transport of transports) await transport.close();
    await deleteStreams(natsUrl!, prefix);
  });

  it('keeps a publisher’s stream on disk for 30 days, drops a repeated event id within 2 minutes, and gives each subscriber one durable consumer with one message in flight', async () => {
    const publisher = await jetStreamTransport({ url: natsUrl!, service: 'products', logger, maxAttempts: 5, streamPrefix: prefix });
    transports.push(publisher);
    const subscriber = await jetStreamTransport({ url: natsUrl!, service: 'reviews', logger, maxAttempts: 5, streamPrefix: prefix });
    transports.push(subscriber);
    await subscriber.consume('reviews', async () => ({ outcome: 'handled' as const }));

    const connection = await connect({ servers: natsUrl!, timeout: 3_000 });
    try {
      const manager = await jetstreamManager(connection);
      const stream = await manager.streams.info(streamName('products', prefix));
      expect(stream.config).toMatchObject({
        name: `${prefix}_COMMERCE_PRODUCTS`,
        storage: StorageType.File,
        max_age: 30 * 24 * 3600 * NANOS_PER_SECOND,
        duplicate_window: 2 * 60 * NANOS_PER_SECOND,
      });
      // Subjects commerce.<source>.<Type>, under this run's prefix.
      expect(stream.config.subjects).toHaveLength(1);
      expect(stream.config.subjects[0]).toMatch(/(^|\.)commerce\.products\.>$/);
      const consumer = await manager.consumers.info(streamName('products', prefix), 'reviews');
      expect(consumer.config).toMatchObject({
        durable_name: 'reviews',
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        max_ack_pending: 1,
        // 10 s in nanoseconds: a lost ack holds the source no longer (a running handler keeps its message).
        ack_wait: 10_000_000_000,
      });
    } finally {
      await connection.close();
    }
  });
});
