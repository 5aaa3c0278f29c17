import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '../errors.ts';
import { HttpError, readBody, sendJson } from '../http.ts';
import type { Logger } from '../logger.ts';
import { startPeriodic } from '../periodic.ts';
import { warnAtMostEvery } from '../redis.ts';
import { createSignatureVerifier, memoryNonceStore, type NonceStore } from '../signing.ts';
import { EVENT_CATALOG, subscriptionsOf } from './catalog.ts';
import { createReceiver, inboxPruning, listParked, replayParked, type EventHandlers, type Receipt } from './inbox.ts';
import { outboxBacklog, outboxPruning, type EventClient } from './outbox.ts';
import { startRelay, type Relay, type RelayOptions } from './relay.ts';
import { ATTEMPT_HEADER, EVENTS_PATH, type ConsumerLag, type EventTransport } from './transports.ts';

/** How a service takes part in the event backbone (see the kit's `events/`). */
export interface EventsOptions {
  transport: EventTransport;
  /**
   * This service's own events secret: it verifies events pushed to it and every call to its
   * `/internal/*` routes (backlog, replay, consistency snapshots). Like a signing secret, shared
   * only with those who may call it.
   */
  secret: string;
  /** Failed attempts after which an event is parked (default 5). */
  maxAttempts?: number;
  nonces?: NonceStore;
  relay?: Partial<Omit<RelayOptions, 'db' | 'transport' | 'logger'>>;
  /** A subscriber's inbox rows: kept `retainMs` (default 30 days, INBOX_RETAIN_MS), pruned every `pruneEveryMs` (hourly). */
  inbox?: { retainMs?: number; pruneEveryMs?: number };
  /** A publisher's delivered events: kept `retainMs` (default 7 days, OUTBOX_RETAIN_MS), pruned every `pruneEveryMs` (hourly). */
  outbox?: { retainMs?: number; pruneEveryMs?: number };
}

export interface ServiceEvents {
  /** The relay, when this service publishes events. */
  relay: Relay | null;
  /** Backlog and parked events, for /ready, /metrics and the `events` command. */
  status(): Promise<EventStatus>;
  internalRoutes: Record<string, (request: IncomingMessage, response: ServerResponse, requestId: string) => Promise<void>>;
  stop(): Promise<void>;
}

export interface EventStatus {
  pending: Record<string, number>;
  oldestPendingSeconds: number;
  parked: number;
  /** JetStream: how far this service's consumers are behind, per source (absent when unknown: NATS not answering within a second). */
  consumerLag?: Record<string, ConsumerLag>;
}

export const INTERNAL_PATHS = {
  events: EVENTS_PATH,
  replay: '/internal/events/replay',
  backfill: '/internal/events/backfill',
  snapshot: '/internal/snapshot',
} as const;

/** What a service offers the internal routes besides its events: its consistency snapshot and its backfill. */
export interface ServiceHooks {
  snapshot?: () => Promise<unknown>;
  /** Publishes the current state of everything it owns as snapshot events (for a new subscriber); returns how many. */
  backfill?: () => Promise<number>;
}

/**
 * Starts a service's part of the backbone: a relay if it publishes (it is a source in the
 * catalogue), its receiver if it subscribes (every subscribed type must have a handler, checked
 * here, at start), and the internal routes both need.
 */
export async function startServiceEvents(
  service: string,
  db: EventClient,
  handlers: EventHandlers,
  options: EventsOptions,
  logger: Logger,
  hooks: ServiceHooks = {},
): Promise<ServiceEvents> {
  const subscribed = subscriptionsOf(service);
  const missing = subscribed.filter((type) => !handlers[type]);
  if (missing.length > 0) throw new Error(`${service} subscribes to ${missing.join(', ')} (event catalogue) but has no handler for them`);
  const maxAttempts = options.maxAttempts ?? 5;
  const receive = createReceiver(db, handlers);
  const warnParked = warnAtMostEvery(1_000, logger);
  const receiveLogged = async (raw: unknown, attempt: number): Promise<Receipt> => {
    const receipt = await receive(raw, { attempt, maxAttempts });
    if (receipt.outcome === 'parked') {
      const named = raw as { source?: unknown; type?: unknown; id?: unknown } | null;
      warnParked('event parked', { event: `${String(named?.source)}.${String(named?.type)}`, id: named?.id, reason: receipt.reason });
    }
    return receipt;
  };

  const relay = service in EVENT_CATALOG ? startRelay({ db, transport: options.transport, logger, ...options.relay }) : null;
  if (subscribed.length > 0) await options.transport.consume(service, receiveLogged);
  const pruners = [
    ...(relay ? [startPeriodic(outboxPruning(options.outbox?.retainMs, options.outbox?.pruneEveryMs), db, logger)] : []),
    ...(subscribed.length > 0 ? [startPeriodic(inboxPruning(options.inbox?.retainMs, options.inbox?.pruneEveryMs), db, logger)] : []),
  ];

  const ownNonces = options.nonces ? null : memoryNonceStore();
  const verify = createSignatureVerifier({ secret: options.secret, nonces: options.nonces ?? ownNonces! });
  /** Only holders of this service's events secret may call its internal routes. */
  const authorize = async (request: IncomingMessage, body: string) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const check = await verify({ method: request.method ?? 'GET', path: `${url.pathname}${url.search}`, headers: request.headers, body });
    if (!check.ok) throw new HttpError(401, ErrorCode.UNAUTHENTICATED, 'Only services holding this service’s events secret may call it');
  };
  const answer = async (response: ServerResponse, requestId: string, run: () => Promise<[number, unknown]>) => {
    try {
      const [status, payload] = await run();
      sendJson(response, status, payload);
    } catch (error) {
      if (error instanceof HttpError) sendJson(response, error.status, { errors: [{ message: error.message, extensions: { code: error.code, requestId } }] });
      else {
        logger.error('internal route failed', { requestId, error: (error as Error).message });
        sendJson(response, 500, { errors: [{ message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, requestId } }] });
      }
    }
  };
  const consumerLag = async () => {
    if (!options.transport.consumerLag || subscribed.length === 0) return null;
    // Never holds up /ready or /metrics, and never makes them fail: a broker away is NATS's story.
    const timeout = new Promise<null>((resolve) => setTimeout(resolve, 1_000, null).unref());
    return Promise.race([options.transport.consumerLag(service).catch(() => null), timeout]);
  };
  const status = async (): Promise<EventStatus> => {
    const [backlog, parked, lag] = await Promise.all([outboxBacklog(db), listParked(db, 0), consumerLag()]);
    return { pending: backlog.pending, oldestPendingSeconds: backlog.oldestPendingSeconds, parked: parked.count, ...(lag ? { consumerLag: lag } : {}) };
  };
  const methodNotAllowed = () => new HttpError(405, 'METHOD_NOT_ALLOWED', 'Method not allowed');

  return {
    relay,
    status,
    internalRoutes: {
      // POST: an event pushed by a publisher's relay. GET: this service's backlog and parked events.
      [INTERNAL_PATHS.events]: (request, response, requestId) =>
        answer(response, requestId, async () => {
          if (request.method === 'GET') {
            await authorize(request, '');
            const [backlog, parked, lag] = await Promise.all([outboxBacklog(db), listParked(db), consumerLag()]);
            // consumerLag: JetStream only, for a subscriber, absent when NATS did not answer within a second.
            return [200, { service, transport: options.transport.kind, subscribes: subscribed.length > 0, backlog, parked, ...(lag ? { consumerLag: lag } : {}) }];
          }
          if (request.method !== 'POST') throw methodNotAllowed();
          const body = await readBody(request, 1024 * 1024);
          await authorize(request, body);
          let raw: unknown;
          try {
            raw = JSON.parse(body);
          } catch {
            raw = { unreadable: body.slice(0, 10_000) };
          }
          const attempt = Number(request.headers[ATTEMPT_HEADER] ?? 1);
          const receipt = await receiveLogged(raw, Number.isInteger(attempt) && attempt > 0 ? attempt : 1);
          return receipt.outcome === 'retry' ? [503, { outcome: 'retry', error: receipt.error }] : [200, receipt];
        }),
      [INTERNAL_PATHS.replay]: (request, response, requestId) =>
        answer(response, requestId, async () => {
          if (request.method !== 'POST') throw methodNotAllowed();
          const body = await readBody(request, 1024 * 1024);
          await authorize(request, body);
          return [200, { service, replayed: await replayParked(db, receive, replayIds(body)) }];
        }),
      [INTERNAL_PATHS.snapshot]: (request, response, requestId) =>
        answer(response, requestId, async () => {
          if (request.method !== 'GET') throw methodNotAllowed();
          await authorize(request, '');
          if (!hooks.snapshot) throw new HttpError(404, ErrorCode.NOT_FOUND, `${service} keeps nothing the consistency check reads`);
          return [200, { service, snapshot: await hooks.snapshot() }];
        }),
      [INTERNAL_PATHS.backfill]: (request, response, requestId) =>
        answer(response, requestId, async () => {
          if (request.method !== 'POST') throw methodNotAllowed();
          const body = await readBody(request, 64 * 1024);
          await authorize(request, body);
          if (!hooks.backfill) throw new HttpError(404, ErrorCode.NOT_FOUND, `${service} publishes no snapshot events`);
          const published = await hooks.backfill();
          relay?.wake();
          return [200, { service, published }];
        }),
    },
    async stop() {
      await Promise.all([relay?.stop(), ...pruners.map((pruner) => pruner.stop())]);
      ownNonces?.close();
    },
  };
}

/**
 * The events a replay request names: `{}` (or no body) for every parked event, `{"ids": [...]}`
 * for those. Anything else is refused, never read as "all": a request for some events that
 * replayed every one of them would be a surprise no operator can take back.
 */
function replayIds(body: string): string[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body || '{}');
  } catch {
    parsed = undefined;
  }
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const ids = (parsed as { ids?: unknown }).ids;
    if (ids === undefined) return undefined;
    if (Array.isArray(ids) && ids.length > 0 && ids.every((id) => typeof id === 'string' && id.length > 0 && id.length <= 100)) return ids as string[];
  }
  throw new HttpError(400, ErrorCode.BAD_USER_INPUT, 'Expected {} to replay every parked event, or {"ids": ["<event id>", …]}');
}

/** Prometheus text for one service's event backlog (served at /metrics). */
export function eventMetrics(service: string, status: EventStatus): string {
  const lines = [
    '# HELP commerce_events_pending Outbox deliveries not yet made, per destination.',
    '# TYPE commerce_events_pending gauge',
    ...Object.entries(status.pending).map(([destination, n]) => `commerce_events_pending{service="${service}",destination="${destination}"} ${n}`),
    '# HELP commerce_events_oldest_pending_seconds Age of the oldest event not yet delivered everywhere.',
    '# TYPE commerce_events_oldest_pending_seconds gauge',
    `commerce_events_oldest_pending_seconds{service="${service}"} ${status.oldestPendingSeconds}`,
    '# HELP commerce_events_parked Events this service set aside as unreadable or failing, not yet replayed.',
    '# TYPE commerce_events_parked gauge',
    `commerce_events_parked{service="${service}"} ${status.parked}`,
  ];
  if (status.consumerLag) {
    const lag = Object.entries(status.consumerLag);
    lines.push(
      '# HELP commerce_events_consumer_pending Events in a source\'s JetStream stream not yet delivered to this service.',
      '# TYPE commerce_events_consumer_pending gauge',
      ...lag.map(([source, l]) => `commerce_events_consumer_pending{service="${service}",source="${source}"} ${l.pending}`),
      '# HELP commerce_events_consumer_unacknowledged Events delivered to this service and not yet acknowledged (being handled, or to be delivered again).',
      '# TYPE commerce_events_consumer_unacknowledged gauge',
      ...lag.map(([source, l]) => `commerce_events_consumer_unacknowledged{service="${service}",source="${source}"} ${l.unacknowledged}`),
    );
  }
  return `${lines.join('\n')}\n`;
}
