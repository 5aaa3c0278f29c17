import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  cacheInvalidatingEvents,
  changedEntities,
  checkEnvelope,
  createSignatureVerifier,
  ErrorCode,
  HttpError,
  readBody,
  sendJson,
  streamName,
  subjectOf,
  warnAtMostEvery,
  type Logger,
  type NonceStore,
} from '@commerce/service-kit/core';
import type { EntityCache } from './entity-cache.ts';

/**
 * How the owners' domain events reach the entity cache (entity-cache.ts): each event whose
 * contract says which entities it changes (the kit's event catalogue, `changes`) invalidates
 * them. Invalidating twice is harmless, so neither path needs an inbox.
 */

/** What one event did to the cache. */
type Outcome = { outcome: 'invalidated'; entities: number } | { outcome: 'ignored'; reason: string };

async function apply(cache: EntityCache, raw: unknown): Promise<Outcome> {
  const checked = checkEnvelope(raw);
  if (!checked.ok) return { outcome: 'ignored', reason: checked.reason };
  const refs = changedEntities(checked.envelope);
  // The publisher's own entries: a service's events announce changes to its own data only.
  await cache.invalidate(checked.envelope.source, refs);
  return { outcome: 'invalidated', entities: refs.length };
}

/**
 * `POST /internal/events` on the router, for publishers that push events over HTTP (the embedded
 * transport): signed with the router's own events secret (`ROUTER_EVENTS_SECRET`), answered 200
 * once the entities are invalidated. An event the router cannot read is acknowledged and logged,
 * never retried: it would block the publisher's later events to the router. When the store fails
 * (Redis down) the answer is 503 and the publisher's relay tries again.
 */
export function cacheEventsRoute(cache: EntityCache, secret: string, nonces: NonceStore, logger: Logger) {
  const verify = createSignatureVerifier({ secret, nonces });
  const warnIgnored = warnAtMostEvery(10_000, logger);
  return async (request: IncomingMessage, response: ServerResponse, requestId: string): Promise<void> => {
    const refuse = (error: HttpError) => sendJson(response, error.status, { errors: [{ message: error.message, extensions: { code: error.code, requestId } }] });
    try {
      if (request.method !== 'POST') throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'Method not allowed');
      const body = await readBody(request, 1024 * 1024);
      const url = new URL(request.url ?? '/', 'http://localhost');
      const check = await verify({ method: 'POST', path: `${url.pathname}${url.search}`, headers: request.headers, body });
      if (!check.ok) throw new HttpError(401, ErrorCode.UNAUTHENTICATED, 'Only services holding the router’s events secret may send it events');
      let raw: unknown;
      try {
        raw = JSON.parse(body);
      } catch {
        raw = undefined;
      }
      const outcome = await apply(cache, raw);
      if (outcome.outcome === 'ignored') warnIgnored('event ignored by the entity cache', { reason: outcome.reason, requestId });
      sendJson(response, 200, outcome);
    } catch (error) {
      if (error instanceof HttpError) return refuse(error);
      logger.warn('entity cache invalidation failed; the publisher will send the event again', { requestId, error: (error as Error).message });
      refuse(new HttpError(503, ErrorCode.SERVICE_UNAVAILABLE, 'The entity cache could not be invalidated; try again'));
    }
  };
}

export interface CacheEventsConsumer {
  stop(): Promise<void>;
}

/**
 * With NATS JetStream, every router process reads the sources' streams itself through an ordered
 * (ephemeral) consumer from the moment it starts, on every source that publishes invalidating
 * events: each replica hears every event whatever its store. A stream that does not exist yet (its publisher
 * has not started) is looked for again every few seconds; an invalidation the store refused is
 * retried until it is applied, since the consumer cannot be told to redeliver it.
 */
export async function consumeCacheEvents(options: { url: string; cache: EntityCache; logger: Logger; streamPrefix?: string }): Promise<CacheEventsConsumer> {
  const { cache, logger } = options;
  // Loaded here, not at start: a router without NATS_URL never holds the client (~12 MB resident).
  const [{ connect }, { DeliverPolicy, jetstream }] = await Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream')]);
  const connection: NatsConnection = await connect({ servers: options.url, name: 'commerce-router-cache', maxReconnectAttempts: -1, reconnectTimeWait: 500 });
  const client = jetstream(connection);
  // One subject per source: a list of filter subjects needs nats-server 2.10, and the few other
  // events of a source cost one lookup each (they change nothing).
  const sources = new Set(cacheInvalidatingEvents().map((name) => name.split('.')[0]!));
  let stopped = false;
  const stops: (() => void)[] = [];
  const warn = warnAtMostEvery(30_000, logger);
  const follow = async (source: string) => {
    while (!stopped) {
      try {
        const consumer = await client.consumers.get(streamName(source, options.streamPrefix), { filter_subjects: subjectOf(source, '>', options.streamPrefix), deliver_policy: DeliverPolicy.New });
        const messages = await consumer.consume({ max_messages: 64 });
        stops.push(() => messages.stop());
        for await (const message of messages) {
          let raw: unknown;
          try {
            raw = message.json();
          } catch {
            raw = undefined;
          }
          for (let attempt = 0; !stopped; attempt++) {
            try {
              const outcome = await apply(cache, raw);
              if (outcome.outcome === 'ignored') warn('event ignored by the entity cache', { source, reason: outcome.reason });
              break;
            } catch (error) {
              warn('entity cache invalidation failed; trying again', { source, error: (error as Error).message });
              await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** attempt)));
            }
          }
        }
      } catch (error) {
        if (stopped) return;
        warn('cannot follow a stream for the entity cache yet; trying again', { source, error: (error as Error).message });
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
    }
  };
  for (const source of sources) void follow(source);
  return {
    async stop() {
      stopped = true;
      for (const stop of stops) stop();
      await connection.drain().catch(() => connection.close());
    },
  };
}
