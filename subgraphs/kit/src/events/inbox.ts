import { checkEnvelope, type EventEnvelope } from './envelope.ts';
import { deleteInBatches, type BatchLimits, type PeriodicTask } from '../periodic.ts';
import { STREAM_MAX_AGE_MS } from './names.ts';
import type { EventClient, SqlClient } from './outbox.ts';

/**
 * The receiving side. Each event is handled in one transaction of the receiver's own database,
 * together with a row in `inbox_events`: a redelivered event finds its row and has no second
 * effect. An event that cannot be handled (unknown type or version, a payload that does not match
 * its schema, a handler that gives up, or too many failed attempts) is parked in `parked_events`
 * with its reason: kept for an operator, logged once, and acknowledged so it never blocks the
 * events behind it.
 */
export type EventHandler = (tx: SqlClient, event: EventEnvelope) => Promise<void>;

/** Handlers by `source.Type`; the versions a handler accepts are the catalogue's. */
export type EventHandlers = Readonly<Record<string, EventHandler>>;

/** Thrown by a handler for an event that can never succeed: it is parked at once, not retried. */
export class PoisonEvent extends Error {
  override name = 'PoisonEvent';
}

export type Receipt =
  | { outcome: 'handled' }
  | { outcome: 'duplicate' }
  /** Not for this service: acknowledged and forgotten (a broker stream carries every type of its source). */
  | { outcome: 'ignored' }
  | { outcome: 'parked'; reason: string }
  /** Failed for now (e.g. the database is unavailable): the transport delivers it again later. */
  | { outcome: 'retry'; error: string };

export interface ReceiveOptions {
  /** This delivery's attempt number (1 for the first), as the transport counts it. */
  attempt: number;
  /** Attempts after which a failing event is parked rather than retried. */
  maxAttempts: number;
  /**
   * The parked row this is a replay of: parked again, it stays that row. (An event too malformed to
   * carry an id is parked under a made-up one, which a replay could not find again by itself.)
   */
  parkedId?: string;
}

export function createReceiver(db: EventClient, handlers: EventHandlers) {
  return async function receive(raw: unknown, options: ReceiveOptions): Promise<Receipt> {
    // A type this service has no handler for is not its business (a broker stream carries every
    // type of its source); anything else it cannot read is parked with the reason.
    const named = raw as Partial<EventEnvelope> | null;
    if (named && typeof named === 'object' && typeof named.source === 'string' && typeof named.type === 'string' && !handlers[`${named.source}.${named.type}`]) {
      return { outcome: 'ignored' };
    }
    const checked = checkEnvelope(raw);
    if (!checked.ok) return park(db, raw, checked.reason, options.attempt, options.parkedId);
    const event = checked.envelope;
    const handler = handlers[`${event.source}.${event.type}`];
    if (!handler) return { outcome: 'ignored' };
    try {
      const handled = await db.$transaction(
        async (tx) => {
          const claimed = await tx.$executeRawUnsafe(
            `INSERT INTO inbox_events (event_id, source, type) VALUES ($1::uuid, $2, $3) ON CONFLICT (event_id) DO NOTHING`,
            event.id,
            event.source,
            event.type,
          );
          if (claimed === 0) return false;
          await handler(tx, event);
          return true;
        },
        // The wait for a connection is the pool's connect timeout (then retried); the handler itself must be quick.
        { timeout: 15_000 },
      );
      return handled ? { outcome: 'handled' } : { outcome: 'duplicate' };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof PoisonEvent) return park(db, event, `rejected by its handler: ${message}`, options.attempt, options.parkedId);
      // The database being busy or away says nothing about the event: retry it for as long as it
      // takes, never park it (an operator would have to replay events that were never wrong).
      if (isTransientDatabaseError(error)) return { outcome: 'retry', error: message };
      if (options.attempt >= options.maxAttempts) return park(db, event, `failed ${options.attempt} times; last error: ${message}`, options.attempt, options.parkedId);
      return { outcome: 'retry', error: message };
    }
  };
}

/**
 * Forgets inbox rows handled more than `olderThanMs` ago, in batches (each one short statement, so
 * no long lock is held), at most `maxBatches` of them per call. Several replicas may prune at once:
 * each batch skips rows another is deleting. The retention must outlast any redelivery (see
 * `INBOX_RETAIN_MS`): a row pruned too early lets a late duplicate have its effect twice.
 */
export function pruneInbox(db: SqlClient, olderThanMs: number, limits?: BatchLimits): Promise<number> {
  return deleteInBatches(
    (batchSize) =>
      db.$executeRawUnsafe(
        `DELETE FROM inbox_events WHERE event_id IN (
           SELECT event_id FROM inbox_events WHERE handled_at < now() - ($1 * interval '1 millisecond')
            ORDER BY handled_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        olderThanMs,
        batchSize,
      ),
    limits,
  );
}

/**
 * How long inbox rows are kept: as long as a stream keeps its events (30 days). A handled event can
 * come again (JetStream) only while its stream holds it, after a lost ack or to a consumer made
 * again from the stream's start, or (HTTP push) while the publisher's outbox has not marked its
 * delivery done, which a relay does within its lease (30 s) of the answer unless every relay of
 * the publisher stays down.
 */
export const INBOX_RETAIN_MS = STREAM_MAX_AGE_MS;

/** The subscriber's inbox pruning, as a periodic task (runtime.ts starts it): hourly, rows older than `retainMs`. */
export function inboxPruning(retainMs = INBOX_RETAIN_MS, everyMs = 3600_000): PeriodicTask<SqlClient> {
  return { name: 'inbox prune', everyMs, run: (db) => pruneInbox(db, retainMs) };
}

/**
 * Errors that come from the database's state, not from the event: no connection, a pool or
 * transaction wait that timed out, a lock or statement timeout, a deadlock or serialisation
 * failure (PostgreSQL's SQLSTATE, as `pg` reports it; Prisma's codes where a Prisma client is used).
 */
const TRANSIENT_PRISMA = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028', 'P2034']);
const TRANSIENT_SQLSTATE = /^(08\w{3}|40001|40P01|55P03|57014|57P0[1-3]|53300)$/;

function isTransientDatabaseError(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown; meta?: { code?: unknown } };
    if (typeof code === 'string' && (TRANSIENT_PRISMA.has(code) || TRANSIENT_SQLSTATE.test(code))) return true;
    const metaCode = (current as { meta?: { code?: unknown } }).meta?.code;
    if (typeof metaCode === 'string' && TRANSIENT_SQLSTATE.test(metaCode)) return true;
    const message = (current as { message?: unknown }).message;
    if (typeof message === 'string' && /Transaction already closed|Unable to start a transaction|canceling statement due to (lock|statement) timeout|deadlock detected|could not serialize|Connection terminated|ECONNREFUSED|timed out fetching a new connection|timeout exceeded when trying to connect/i.test(message)) return true;
    current = cause;
  }
  return false;
}

async function park(db: SqlClient, raw: unknown, reason: string, attempts: number, parkedId?: string): Promise<Receipt> {
  const envelope = (raw && typeof raw === 'object' ? raw : { value: raw }) as Partial<EventEnvelope>;
  const text = (value: unknown, max: number) => (typeof value === 'string' ? value.slice(0, max) : null);
  // Parked once per event id: a redelivered poison event does not pile up.
  await db.$executeRawUnsafe(
    `INSERT INTO parked_events (event_id, source, type, version, envelope, reason, attempts)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)
     ON CONFLICT (event_id) DO UPDATE SET attempts = parked_events.attempts + 1, reason = EXCLUDED.reason`,
    parkedId ?? text(envelope.id, 100) ?? `unidentified-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`,
    text(envelope.source, 100),
    text(envelope.type, 100),
    typeof envelope.version === 'number' && Number.isInteger(envelope.version) && envelope.version < 2 ** 31 ? envelope.version : null,
    JSON.stringify(raw ?? null),
    reason.slice(0, 1_000),
    attempts,
  );
  return { outcome: 'parked', reason };
}

export interface ParkedEvent {
  eventId: string;
  source: string | null;
  type: string | null;
  version: number | null;
  reason: string;
  attempts: number;
  parkedAt: string;
}

export async function listParked(db: SqlClient, limit = 100): Promise<{ count: number; events: ParkedEvent[] }> {
  const [count, rows] = await Promise.all([
    db.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM parked_events WHERE replayed_at IS NULL`),
    db.$queryRawUnsafe<{ event_id: string; source: string | null; type: string | null; version: number | null; reason: string; attempts: number; parked_at: Date }[]>(
      `SELECT event_id, source, type, version, reason, attempts, parked_at FROM parked_events WHERE replayed_at IS NULL ORDER BY parked_at, event_id LIMIT $1`,
      limit,
    ),
  ]);
  return {
    count: Number(count[0]?.n ?? 0),
    events: rows.map((row) => ({
      eventId: row.event_id,
      source: row.source,
      type: row.type,
      version: row.version,
      reason: row.reason,
      attempts: row.attempts,
      parkedAt: row.parked_at.toISOString(),
    })),
  };
}

/**
 * Hands parked events back to the receiver (all, or the ids given): after a fix is deployed, an
 * operator replays them. Each one is handled, or parked again with its new reason; handled ones
 * are marked replayed and no longer listed.
 */
export async function replayParked(
  db: SqlClient,
  receive: ReturnType<typeof createReceiver>,
  ids?: readonly string[],
): Promise<{ eventId: string; outcome: Receipt['outcome']; reason?: string }[]> {
  const rows = await db.$queryRawUnsafe<{ event_id: string; envelope: unknown; attempts: number }[]>(
    ids && ids.length > 0
      ? `SELECT event_id, envelope, attempts FROM parked_events WHERE replayed_at IS NULL AND event_id = ANY($1::text[]) ORDER BY parked_at`
      : `SELECT event_id, envelope, attempts FROM parked_events WHERE replayed_at IS NULL ORDER BY parked_at`,
    ...(ids && ids.length > 0 ? [[...ids]] : []),
  );
  const results = [];
  for (const row of rows) {
    // One attempt each: a replay that fails again is parked again, not retried.
    const receipt = await receive(row.envelope, { attempt: 1, maxAttempts: 1, parkedId: row.event_id });
    if (receipt.outcome !== 'parked') {
      await db.$executeRawUnsafe(`UPDATE parked_events SET replayed_at = now() WHERE event_id = $1`, row.event_id);
    }
    results.push({ eventId: row.event_id, outcome: receipt.outcome, ...(receipt.outcome === 'parked' ? { reason: receipt.reason } : {}) });
  }
  return results;
}
