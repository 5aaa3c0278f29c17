import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, OUTBOX_RETAIN_MS, publishEvent, startRelay, startServiceEvents, type EventClient, type EventEnvelope, type EventTransport, type Relay } from '../src/index.ts';
import { outboxPruning } from '../src/events/outbox.ts';
import { eventDatabase, type EventDatabase } from './support/event-db.ts';

/**
 * The relay as every service starts it, with no options: the numbers the design notes and the
 * README give (4 deliveries in flight per destination, a 30 s lease, backoff from 0.5 s with
 * 50–100 % jitter, delivered events kept 7 days). events-relay.test.ts tests the mechanisms with
 * small values; this file holds the defaults to what the documents say.
 */
const logger = createLogger('events-relay-defaults-test', 'silent');

let database: EventDatabase;
const relays: Relay[] = [];
beforeAll(async () => {
  database = await eventDatabase();
});
afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.stop();
  await db().$executeRawUnsafe('TRUNCATE outbox_events, outbox_deliveries');
});
afterAll(async () => {
  await database?.close();
});
const db = () => database.client;

const product = (productId: number) => ({ productId, sku: `SKU-${productId}`, name: `Product ${productId}`, priceCents: 100, revision: 1 });

async function publish(productId: number): Promise<string> {
  return db().$transaction((tx) =>
    publishEvent(tx, { source: 'products', type: 'ProductCreated', aggregate: `product:${productId}`, payload: product(productId) }),
  );
}

function transportTo(send: (envelope: EventEnvelope, attempt: number) => Promise<void>): EventTransport {
  return { kind: 'http', destinations: () => ['sink'], send: (_destination, envelope, attempt) => send(envelope, attempt), async consume() {}, async close() {} };
}

async function until(done: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(10);
  }
}

describe('the relay’s defaults', () => {
  it('keeps at most 4 deliveries in flight to one destination', async () => {
    for (let id = 1; id <= 12; id++) await publish(id);
    let inFlight = 0;
    let most = 0;
    let sent = 0;
    relays.push(
      startRelay({
        db: db(),
        logger,
        pollMs: 10,
        transport: transportTo(async () => {
          most = Math.max(most, ++inFlight);
          await sleep(40);
          inFlight--;
          sent++;
        }),
      }),
    );
    await until(() => sent === 12);
    expect(most).toBe(4);
  });

  it('claims a delivery for 30 s: one whose send never ends is due again 30 s after it was claimed, not before', async () => {
    await publish(1);
    let claimed = false;
    relays.push(
      startRelay({
        db: db(),
        logger,
        pollMs: 10,
        transport: transportTo(async () => {
          claimed = true;
          await sleep(60_000, undefined, { ref: false });
        }),
      }),
    );
    await until(() => claimed);
    const [row] = await db().$queryRawUnsafe<{ lease_ms: number }[]>(
      `SELECT (extract(epoch FROM next_attempt_at - now()) * 1000)::float8 AS lease_ms FROM outbox_deliveries`,
    );
    expect(row!.lease_ms).toBeGreaterThan(28_000);
    expect(row!.lease_ms).toBeLessThanOrEqual(30_000);
    // stop() would wait for the hanging send; the next test starts from a truncated outbox anyway.
    relays.splice(0);
  });

  it('retries a failed delivery after 0.5 s, then 1 s, each shortened by at most half (jitter)', async () => {
    await publish(1);
    const sends: number[] = [];
    const delays: number[] = [];
    const watched: EventClient = {
      ...db(),
      $queryRawUnsafe: (query, ...values) => db().$queryRawUnsafe(query, ...values),
      $transaction: (fn) => db().$transaction(fn),
      $executeRawUnsafe(query: string, ...values: unknown[]) {
        if (query.includes('last_error = $4')) delays.push(values[2] as number);
        return db().$executeRawUnsafe(query, ...values);
      },
    };
    relays.push(
      startRelay({
        db: watched,
        logger,
        pollMs: 10,
        transport: transportTo(async () => {
          sends.push(Date.now());
          throw new Error('subscriber down');
        }),
      }),
    );
    await until(() => sends.length >= 3);
    expect(delays[0]).toBeGreaterThanOrEqual(250);
    expect(delays[0]).toBeLessThanOrEqual(500);
    expect(delays[1]).toBeGreaterThanOrEqual(500);
    expect(delays[1]).toBeLessThanOrEqual(1_000);
    // Never sent again before its delay (5 ms for timestamp rounding).
    expect(sends[1]! - sends[0]!).toBeGreaterThanOrEqual(delays[0]! - 5);
    expect(sends[2]! - sends[1]!).toBeGreaterThanOrEqual(delays[1]! - 5);
  });

  it('prunes events delivered everywhere more than 7 days ago, and keeps one delivered 6 days ago', async () => {
    const old = await publish(1);
    const recent = await publish(2);
    for (const id of [old, recent]) {
      await db().$executeRawUnsafe(
        `INSERT INTO outbox_deliveries (event_id, destination, event_seq, aggregate) SELECT id, 'sink', seq, aggregate FROM outbox_events WHERE id = $1::uuid`,
        id,
      );
      await db().$executeRawUnsafe(`UPDATE outbox_events SET expanded_at = now(), occurred_at = now() - interval '9 days' WHERE id = $1::uuid`, id);
    }
    await db().$executeRawUnsafe(`UPDATE outbox_deliveries SET delivered_at = now() - interval '7 days 1 minute' WHERE event_id = $1::uuid`, old);
    await db().$executeRawUnsafe(`UPDATE outbox_deliveries SET delivered_at = now() - interval '6 days' WHERE event_id = $1::uuid`, recent);

    // A publisher prunes at start, then hourly (beside its relay).
    expect(OUTBOX_RETAIN_MS).toBe(7 * 24 * 3600_000);
    expect(outboxPruning().everyMs).toBe(3600_000);
    const events = await startServiceEvents('products', db(), {}, { transport: transportTo(async () => {}), secret: 'p'.repeat(32) }, logger);
    try {
      const left = async () => (await db().$queryRawUnsafe<{ id: string }[]>('SELECT id FROM outbox_events')).map((row) => row.id);
      await until(async () => (await left()).length === 1);
      expect(await left()).toEqual([recent]);
    } finally {
      await events.stop();
    }
  });
});
