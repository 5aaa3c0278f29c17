import { randomUUID } from 'node:crypto';
import type { SqlClient, SqlTransactionClient } from '@commerce/db';
import type { PeriodicTask } from '../periodic.ts';
import { contractOf, latestVersion, type EventPayload, type EventSource, type EventType } from './catalog.ts';
import type { EventEnvelope } from './envelope.ts';

/**
 * The transactional outbox, in the service's own database (tables `outbox_events` and
 * `outbox_deliveries`, created by each service's events migration). A service writes its state
 * change and the events it implies in one transaction; a relay delivers them afterwards, at least
 * once, in order per aggregate, to each destination. Everything here is plain SQL through a
 * `SqlClient`: the platform's `Database.sql` in a service (a write in a Prisma transaction passes
 * Prisma's `tx`, which has the same surface).
 */
export type { SqlClient };

/**
 * What the event backbone runs on: raw SQL and transactions. In a service it is the platform's
 * `Database.sql`, not the Prisma client, whose interactive transactions cost far more per event.
 */
export type EventClient = SqlTransactionClient;

export interface PublishedEvent<Source extends EventSource, Type extends EventType<Source>> {
  source: Source;
  type: Type;
  /** The ordering key, e.g. `product:7`: events of one aggregate are delivered in publication order. */
  aggregate: string;
  payload: EventPayload<Source, Type>;
}

/**
 * Records an event in the outbox, inside the caller's transaction (`tx`), after the state change
 * it describes: the row lock that change takes orders concurrent events of one aggregate, so
 * publication order is commit order. Throws if the payload does not match its contract.
 */
export async function publishEvent<Source extends EventSource, Type extends EventType<Source>>(
  tx: SqlClient,
  event: PublishedEvent<Source, Type>,
): Promise<string> {
  const contract = contractOf(event.source, event.type);
  if (!contract) throw new Error(`publishEvent: ${event.source}.${event.type} is not in the event catalogue`);
  const version = latestVersion(contract);
  const payload = contract.versions[version]!.parse(event.payload);
  const id = randomUUID();
  await tx.$executeRawUnsafe(
    `INSERT INTO outbox_events (id, source, type, version, aggregate, payload) VALUES ($1::uuid, $2, $3, $4, $5, $6::jsonb)`,
    id,
    event.source,
    event.type,
    version,
    event.aggregate,
    JSON.stringify(payload),
  );
  return id;
}

export interface ClaimedDelivery {
  destination: string;
  attempts: number;
  envelope: EventEnvelope;
}

interface ClaimedRow {
  event_id: string;
  destination: string;
  attempts: number;
  source: string;
  type: string;
  version: number;
  aggregate: string;
  seq: bigint;
  payload: unknown;
  occurred_at: Date;
}

/**
 * Creates one delivery row per destination for events not yet expanded. The destinations depend
 * on the transport (each subscriber, or one broker), which is why this happens here and not at
 * publication. Concurrent relays may both try; the primary key keeps one row.
 */
export async function expandEvents(db: SqlClient, destinationsOf: (source: string, type: string) => readonly string[], limit = 500): Promise<number> {
  const events = await db.$queryRawUnsafe<{ id: string; source: string; type: string; aggregate: string; seq: bigint }[]>(
    `SELECT id, source, type, aggregate, seq FROM outbox_events WHERE expanded_at IS NULL ORDER BY seq LIMIT $1`,
    limit,
  );
  for (const event of events) {
    const destinations = destinationsOf(event.source, event.type);
    for (const destination of destinations) {
      await db.$executeRawUnsafe(
        `INSERT INTO outbox_deliveries (event_id, destination, event_seq, aggregate) VALUES ($1::uuid, $2, $3, $4) ON CONFLICT DO NOTHING`,
        event.id,
        destination,
        event.seq,
        event.aggregate,
      );
    }
    await db.$executeRawUnsafe(`UPDATE outbox_events SET expanded_at = now() WHERE id = $1::uuid AND expanded_at IS NULL`, event.id);
  }
  return events.length;
}

/**
 * Claims up to `limit` due deliveries with a lease, in one statement: rows another relay holds
 * are skipped (SKIP LOCKED), and a delivery is only due when no earlier delivery of the same
 * aggregate to the same destination is still pending, which keeps each aggregate in order. The
 * lease (`next_attempt_at` pushed out) stands in for a lock while the event is in flight outside
 * any transaction; a relay that dies mid-delivery loses it when the lease runs out.
 */
export async function claimDeliveries(db: SqlClient, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  const rows = await db.$queryRawUnsafe<ClaimedRow[]>(
    `WITH due AS (
       SELECT d.event_id, d.destination FROM outbox_deliveries d
        WHERE d.delivered_at IS NULL AND d.next_attempt_at <= now()
          AND NOT EXISTS (
            SELECT 1 FROM outbox_deliveries earlier
             WHERE earlier.destination = d.destination AND earlier.aggregate = d.aggregate
               AND earlier.delivered_at IS NULL AND earlier.event_seq < d.event_seq)
        ORDER BY d.event_seq
        LIMIT $1
        FOR UPDATE OF d SKIP LOCKED)
     UPDATE outbox_deliveries d
        SET attempts = d.attempts + 1, next_attempt_at = now() + ($2 * interval '1 millisecond')
       FROM due, outbox_events e
      WHERE d.event_id = due.event_id AND d.destination = due.destination AND e.id = d.event_id
     RETURNING d.event_id, d.destination, d.attempts, e.source, e.type, e.version, e.aggregate, e.seq, e.payload, e.occurred_at`,
    limit,
    leaseMs,
  );
  return rows
    .sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0))
    .map((row) => ({
      destination: row.destination,
      attempts: row.attempts,
      envelope: {
        id: row.event_id,
        source: row.source,
        type: row.type,
        version: row.version,
        aggregate: row.aggregate,
        sequence: Number(row.seq),
        occurredAt: row.occurred_at.toISOString(),
        payload: row.payload,
      },
    }));
}

export async function markDelivered(db: SqlClient, eventId: string, destination: string): Promise<void> {
  await db.$executeRawUnsafe(
    `UPDATE outbox_deliveries SET delivered_at = now(), last_error = NULL WHERE event_id = $1::uuid AND destination = $2`,
    eventId,
    destination,
  );
}

/** A failed delivery waits `retryInMs` (the relay's backoff) before it is due again. */
export async function markFailed(db: SqlClient, eventId: string, destination: string, retryInMs: number, error: string): Promise<void> {
  await db.$executeRawUnsafe(
    `UPDATE outbox_deliveries SET next_attempt_at = now() + ($3 * interval '1 millisecond'), last_error = $4
      WHERE event_id = $1::uuid AND destination = $2 AND delivered_at IS NULL`,
    eventId,
    destination,
    retryInMs,
    error.slice(0, 500),
  );
}

export interface OutboxBacklog {
  /** Deliveries not yet made, per destination. */
  pending: Record<string, number>;
  /** Age of the oldest event not yet delivered everywhere, in seconds (0 when none). */
  oldestPendingSeconds: number;
  /** Events published but not yet turned into deliveries. */
  unexpanded: number;
}

export async function outboxBacklog(db: SqlClient): Promise<OutboxBacklog> {
  const [pendingRows, oldest, unexpanded] = await Promise.all([
    db.$queryRawUnsafe<{ destination: string; n: bigint }[]>(
      `SELECT destination, count(*) AS n FROM outbox_deliveries WHERE delivered_at IS NULL GROUP BY destination`,
    ),
    db.$queryRawUnsafe<{ age: number | null }[]>(
      `SELECT extract(epoch FROM now() - min(e.occurred_at))::float8 AS age
         FROM outbox_events e
        WHERE e.expanded_at IS NULL OR EXISTS (SELECT 1 FROM outbox_deliveries d WHERE d.event_id = e.id AND d.delivered_at IS NULL)`,
    ),
    db.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM outbox_events WHERE expanded_at IS NULL`),
  ]);
  return {
    pending: Object.fromEntries(pendingRows.map((row) => [row.destination, Number(row.n)])),
    oldestPendingSeconds: Math.round((oldest[0]?.age ?? 0) * 10) / 10,
    unexpanded: Number(unexpanded[0]?.n ?? 0),
  };
}

/**
 * Forgets events delivered everywhere more than `olderThanMs` ago (the outbox is not an archive).
 * The retention counts from the last delivery, not from publication: an event that took days to
 * get through is kept for the whole retention after it finally did.
 */
/** How long delivered events are kept: 7 days after their last delivery. */
export const OUTBOX_RETAIN_MS = 7 * 24 * 3600_000;

/** The publisher's outbox pruning, as a periodic task (runtime.ts starts it beside the relay): hourly. */
export function outboxPruning(retainMs = OUTBOX_RETAIN_MS, everyMs = 3600_000): PeriodicTask<SqlClient> {
  return { name: 'outbox prune', everyMs, run: (db) => pruneDelivered(db, retainMs) };
}

export async function pruneDelivered(db: SqlClient, olderThanMs: number): Promise<number> {
  return db.$executeRawUnsafe(
    `DELETE FROM outbox_events e
      WHERE e.expanded_at IS NOT NULL AND e.occurred_at < now() - ($1 * interval '1 millisecond')
        AND NOT EXISTS (
          SELECT 1 FROM outbox_deliveries d
           WHERE d.event_id = e.id AND (d.delivered_at IS NULL OR d.delivered_at >= now() - ($1 * interval '1 millisecond')))`,
    olderThanMs,
  );
}
