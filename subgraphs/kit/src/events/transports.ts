import type { ConsumerInfo, JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../logger.ts';
import { signatureHeaders } from '../signing.ts';
import { contractOf, EVENT_CATALOG, subscriptionsOf } from './catalog.ts';
import type { EventEnvelope } from './envelope.ts';
import type { Receipt } from './inbox.ts';
import { ATTEMPT_HEADER, EVENTS_PATH, STREAM_MAX_AGE_MS, streamName, subjectOf } from './names.ts';

/**
 * How events leave a publisher and reach a subscriber, behind one interface. The relay sends each
 * outbox delivery through `send`; a subscriber's receiver is fed through `consume`.
 *
 * - `http` (the embedded default, no broker): the relay pushes each event to every subscriber's
 *   `/internal/events`, signed with that subscriber's events secret; the subscriber answers once
 *   the event is handled (or parked), and the delivery is done. With the router configured, every
 *   event that changes supergraph entities (its contract declares `changes`) also goes to the
 *   router's `/internal/events`, as destination `router`, for its entity cache.
 * - `jetstream` (`NATS_URL`): the relay publishes each event once to the publisher's stream
 *   (`COMMERCE_<SOURCE>`, subject `commerce.<source>.<Type>`, the event id as message id, so a
 *   retried publish is de-duplicated), and each subscriber reads it through its own durable
 *   consumer, acknowledging only after it has handled or parked it.
 */
export interface EventTransport {
  readonly kind: 'http' | 'jetstream';
  /** Where an event of this type goes: each of its subscribers, or the one broker. */
  destinations(source: string, type: string): readonly string[];
  /** Delivers one event to one destination (attempt: 1 for the first); throws when it did not arrive (the relay retries). */
  send(destination: string, envelope: EventEnvelope, attempt: number): Promise<void>;
  /** Starts feeding this service's events to `receive` (http: the HTTP route does it). */
  consume(service: string, receive: (raw: unknown, attempt: number) => Promise<Receipt>): Promise<void>;
  /**
   * How far this service's consumers are behind (jetstream; http has none: a publisher's backlog
   * is its outbox): per source stream, events not yet delivered to it, and delivered but not yet
   * acknowledged (being handled, or waiting to be delivered again).
   */
  consumerLag?(service: string): Promise<Record<string, ConsumerLag>>;
  close(): Promise<void>;
}

export interface ConsumerLag {
  pending: number;
  unacknowledged: number;
}

export { ATTEMPT_HEADER, EVENTS_PATH, streamName, subjectOf };

/** The destination, beside the subscribers, of events that change supergraph entities. */
export const ROUTER_DESTINATION = 'router';

export interface HttpTransportOptions {
  /** Each subscriber's base URL (e.g. its GraphQL URL); events go to `/internal/events` there. */
  endpoints: ReadonlyMap<string, string>;
  /** Each subscriber's events secret, to sign what is pushed to it. */
  secrets: ReadonlyMap<string, string>;
  /**
   * The router (`ROUTER_URL`, `ROUTER_EVENTS_SECRET`): when set, every event whose contract
   * declares `changes` is pushed to its `/internal/events` too, signed with this secret, as
   * destination `router` (in order per aggregate, retried, counted in the backlog, like any other).
   */
  router?: { url: string; secret: string } | undefined;
  timeoutMs?: number;
}

export function httpTransport(options: HttpTransportOptions): EventTransport {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const { router } = options;
  return {
    kind: 'http',
    destinations(source, type) {
      const contract = contractOf(source, type);
      if (!contract) return [];
      return router && contract.changes ? [...contract.subscribers, ROUTER_DESTINATION] : contract.subscribers;
    },
    async send(destination, envelope, attempt) {
      const toRouter = destination === ROUTER_DESTINATION;
      const base = toRouter ? router?.url : options.endpoints.get(destination);
      const secret = toRouter ? router?.secret : options.secrets.get(destination);
      if (!base || !secret) throw new Error(toRouter ? 'no ROUTER_URL or ROUTER_EVENTS_SECRET configured for the router' : `no URL or events secret configured for subscriber ${destination}`);
      const url = new URL(EVENTS_PATH, base);
      const body = JSON.stringify(envelope);
      const headers: Record<string, string> = { 'content-type': 'application/json', [ATTEMPT_HEADER]: String(attempt) };
      Object.assign(headers, signatureHeaders(secret, { method: 'POST', path: url.pathname, headers, body }));
      const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`${destination} answered ${response.status}: ${text.slice(0, 200)}`);
    },
    async consume() {
      // Pushed events arrive through the subscriber's HTTP route.
    },
    async close() {},
  };
}

export interface JetStreamTransportOptions {
  url: string;
  /** The publishing service (whose stream `send` publishes to). */
  service: string;
  logger: Logger;
  /** Deliveries of one message before the receiver parks it (the receiver counts; JetStream redelivers). */
  maxAttempts: number;
  /**
   * How long JetStream waits for an ack before redelivering (default JETSTREAM_ACK_WAIT_MS). A
   * handler still running tells the server so, so this bounds only an ack that was lost: after a
   * broker restart, how long a subscriber's source waits for the one message it had in hand.
   */
  ackWaitMs?: number;
  /**
   * Sets this deployment's streams and subjects apart from any other on the same server (tests,
   * several environments sharing one NATS): stream `<prefix>_COMMERCE_<SOURCE>`, subjects
   * `<prefix>.commerce.<source>.<Type>`. Unset: `COMMERCE_<SOURCE>`, `commerce.<source>.<Type>`.
   */
  streamPrefix?: string;
  /** How long a publish waits for the stream's acknowledgement before the relay counts it failed (default 10 s). */
  publishTimeoutMs?: number;
}

const PREFIX = /^[A-Za-z0-9_-]{1,32}$/;

/** JetStream's ack wait for the services' consumers (NATS's own default is 30 s). */
export const JETSTREAM_ACK_WAIT_MS = 10_000;

export async function jetStreamTransport(options: JetStreamTransportOptions): Promise<EventTransport> {
  const prefix = options.streamPrefix ?? '';
  if (prefix && !PREFIX.test(prefix)) throw new Error(`jetStreamTransport: streamPrefix must be 1–32 of A–Z, a–z, 0–9, _ and -, not ${JSON.stringify(prefix)}`);
  const publishTimeoutMs = options.publishTimeoutMs ?? 10_000;
  // Loaded here, not at the top: a service on the HTTP transport (the embedded default) never
  // loads the NATS client.
  const [{ jetstream, jetstreamManager, AckPolicy, DeliverPolicy, RetentionPolicy, StorageType }, { connect }] = await Promise.all([
    import('@nats-io/jetstream'),
    import('@nats-io/transport-node'),
  ]);
  const connection: NatsConnection = await connect({
    servers: options.url,
    name: `commerce-${options.service}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
  });
  const manager: JetStreamManager = await jetstreamManager(connection);
  const client: JetStreamClient = jetstream(connection);
  const ackWaitMs = options.ackWaitMs ?? JETSTREAM_ACK_WAIT_MS;
  const ackWaitNanos = ackWaitMs * 1_000_000;
  const consumers: { stop(): void }[] = [];
  let closing = false;

  /** The streams a service reads: one per source it subscribes to, through a durable consumer named after it. */
  const sourcesOf = (service: string) => [...new Set(subscriptionsOf(service).map((name) => name.split('.')[0]!))];

  // Streams are made idempotently by whoever needs one first (publisher or subscriber).
  const ensureStream = async (source: string) => {
    const config = {
      name: streamName(source, prefix),
      subjects: [subjectOf(source, '>', prefix)],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: 2 * 60 * 1_000_000_000,
      max_age: STREAM_MAX_AGE_MS * 1_000_000,
    };
    try {
      await manager.streams.info(config.name);
    } catch {
      try {
        await manager.streams.add(config);
      } catch (error) {
        // Another process made it meanwhile.
        if (!/already in use|exists/i.test((error as Error).message)) throw error;
      }
    }
  };
  if (options.service in EVENT_CATALOG) await ensureStream(options.service);

  return {
    kind: 'jetstream',
    destinations: () => ['jetstream'],
    async send(_destination, envelope) {
      try {
        await client.publish(subjectOf(envelope.source, envelope.type, prefix), JSON.stringify(envelope), { msgID: envelope.id, timeout: publishTimeoutMs });
      } catch (error) {
        // No stream answers the subject: the server lost it (a new, empty store; deleted by hand).
        // Make it again; the relay's next attempt then gets through instead of failing forever.
        if ((error as Error).name === 'JetStreamNotEnabled') await ensureStream(envelope.source).catch(() => {});
        throw error;
      }
    },
    async consume(service, receive) {
      for (const source of sourcesOf(service)) {
        await ensureStream(source);
        const durable = service;
        const ensureConsumer = async () => {
          let found: ConsumerInfo | null;
          try {
            found = await manager.consumers.info(streamName(source, prefix), durable);
          } catch {
            found = null;
          }
          if (!found) {
            await manager.consumers.add(streamName(source, prefix), {
              durable_name: durable,
              filter_subject: subjectOf(source, '>', prefix),
              ack_policy: AckPolicy.Explicit,
              deliver_policy: DeliverPolicy.All,
              // One at a time, in stream order: events of an aggregate are handled in publication order.
              max_ack_pending: 1,
              ack_wait: ackWaitNanos,
            });
          } else if (found.config.ack_wait !== ackWaitNanos) {
            // A consumer made by an earlier version (NATS's 30 s) keeps what it was made with unless told.
            await manager.consumers.update(streamName(source, prefix), durable, { ack_wait: ackWaitNanos });
          }
        };
        await ensureConsumer();
        const consumer = await client.consumers.get(streamName(source, prefix), durable);
        // Short pulls: a consumer made again (below) is found within seconds, not after a 30 s pull expires.
        const messages = await consumer.consume({ max_messages: 16, expires: 5_000 });
        consumers.push({ stop: () => messages.stop() });
        // The client keeps pulling from a consumer or stream the server has lost (a new, empty store;
        // deleted by hand) but never makes them again: without this, nothing more would arrive.
        void (async () => {
          for await (const status of messages.status()) {
            if (status.type !== 'consumer_not_found' && status.type !== 'stream_not_found' && status.type !== 'consumer_deleted') continue;
            try {
              await ensureStream(source);
              await ensureConsumer();
              options.logger.warn('JetStream lost this consumer; made it again', { source, consumer: durable });
            } catch (error) {
              options.logger.warn('JetStream consumer missing and cannot be made yet; will try again', { source, error: (error as Error).message });
            }
          }
        })();
        void (async () => {
          for await (const message of messages) {
            let raw: unknown;
            try {
              raw = message.json();
            } catch {
              raw = { unreadable: message.string().slice(0, 10_000) };
            }
            // While the handler runs, the server is told it is still in hand: a slow handler is
            // never delivered a second time beside itself, and the ack wait can stay short.
            const inHand = setInterval(() => {
              try {
                message.working();
              } catch {
                // The connection is closing or closed: the ack wait runs, and a redelivery finds the inbox row.
              }
            }, Math.max(100, Math.floor(ackWaitMs / 3)));
            try {
              const receipt = await receive(raw, message.info.deliveryCount);
              if (receipt.outcome === 'retry') message.nak(Math.min(30_000, 250 * 2 ** Math.min(message.info.deliveryCount, 7)));
              else message.ack();
            } catch (error) {
              options.logger.warn('event not handled; JetStream will deliver it again', { source, error: (error as Error).message });
              message.nak(1_000);
            } finally {
              clearInterval(inHand);
            }
          }
          if (!closing) options.logger.warn('JetStream consumer stopped', { source });
        })();
      }
    },
    async consumerLag(service) {
      const lag: Record<string, ConsumerLag> = {};
      for (const source of sourcesOf(service)) {
        const info = await manager.consumers.info(streamName(source, prefix), service);
        lag[source] = { pending: info.num_pending, unacknowledged: info.num_ack_pending };
      }
      return lag;
    },
    async close() {
      closing = true;
      for (const consumer of consumers) consumer.stop();
      await connection.drain().catch(() => connection.close());
    },
  };
}
