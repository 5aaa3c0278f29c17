import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, httpTransport, INBOX_RETAIN_MS, pruneInbox, startServiceEvents, type ServiceEvents } from '../src/index.ts';
import { eventDatabase, type EventDatabase } from './support/event-db.ts';

/**
 * The inbox remembers handled events so a redelivery has no second effect, for as long as a
 * redelivery can come (a stream keeps an event 30 days), and no longer: it is pruned by age.
 */
const logger = createLogger('events-inbox-prune-test', 'silent');
let database: EventDatabase;
const db = () => database.client;

/** An inbox row handled this long ago. */
async function handled(ago: string): Promise<string> {
  const id = randomUUID();
  await db().$executeRawUnsafe(`INSERT INTO inbox_events (event_id, source, type, handled_at) VALUES ($1::uuid, 'products', 'ProductCreated', now() - $2::interval)`, id, ago);
  return id;
}
const inbox = async () => (await db().$queryRawUnsafe<{ event_id: string }[]>('SELECT event_id FROM inbox_events ORDER BY handled_at')).map((row) => row.event_id);

beforeEach(async () => {
  database = await eventDatabase();
});
afterEach(async () => {
  await database.close();
});

describe('the inbox', () => {
  it('forgets rows handled longer ago than the retention, in batches, and keeps the rest', async () => {
    for (let i = 0; i < 5; i++) await handled('2 hours');
    const recent = await handled('30 minutes');
    expect(await pruneInbox(db(), 3600_000, { batchSize: 2 })).toBe(5);
    expect(await inbox()).toEqual([recent]);
    expect(await pruneInbox(db(), 3600_000)).toBe(0);
  });

  it('deletes at most its batches per call, so one call stays short', async () => {
    for (let i = 0; i < 5; i++) await handled('2 hours');
    expect(await pruneInbox(db(), 3600_000, { batchSize: 2, maxBatches: 2 })).toBe(4);
    expect(await inbox()).toHaveLength(1);
  });

  it('is kept as long as a stream keeps its events (30 days)', () => {
    expect(INBOX_RETAIN_MS).toBe(30 * 24 * 3600_000);
  });

  describe('of a subscribing service', () => {
    let events: ServiceEvents | undefined;
    afterEach(async () => {
      await events?.stop();
      events = undefined;
    });
    const start = (inboxOptions?: { pruneEveryMs: number }) =>
      startServiceEvents(
        'reviews',
        db(),
        { 'products.ProductCreated': async () => {}, 'products.ProductSnapshot': async () => {} },
        { transport: httpTransport({ endpoints: new Map(), secrets: new Map() }), secret: 'the-reviews-events-secret-for-prune-tests', ...(inboxOptions && { inbox: inboxOptions }) },
        logger,
      );
    const until = async (done: () => Promise<boolean>) => {
      for (const deadline = Date.now() + 5_000; Date.now() < deadline; await sleep(20)) if (await done()) return;
      throw new Error('not in time');
    };

    it('is pruned at start with the default retention: a row of 31 days goes, one of 29 days stays', async () => {
      await handled('31 days');
      const young = await handled('29 days');
      events = await start();
      await until(async () => (await inbox()).length === 1);
      expect(await inbox()).toEqual([young]);
    });

    it('is pruned again on its schedule, not only at start', async () => {
      events = await start({ pruneEveryMs: 50 });
      await sleep(100);
      const old = await handled('31 days');
      await until(async () => !(await inbox()).includes(old));
    });
  });
});
