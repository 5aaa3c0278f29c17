import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { postgresAdminUrl } from '@commerce/db/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createLogger,
  createSignatureVerifier,
  EVENT_CATALOG,
  httpTransport,
  memoryNonceStore,
  publishEvent,
  startRelay,
  type EventClient,
  type EventEnvelope,
  type EventTransport,
  type Relay,
  type SqlClient,
} from '../src/index.ts';
import { pruneDelivered } from '../src/events/outbox.ts';
import { eventDatabase, postgresEventDatabase, type EventDatabase } from './support/event-db.ts';

/**
 * The relay's guarantees on real databases: each delivery made once per destination while several
 * relays share one outbox, order per aggregate, a claimed delivery whose relay dies is taken over
 * after its lease, backoff that grows and stops growing, and pruning that keeps what is not done.
 * Everything but the concurrency test also runs on embedded PGlite; all of it on PostgreSQL when
 * TEST_POSTGRES_ADMIN_URL is set.
 */
const logger = createLogger('events-relay-test', 'silent');
const AGGREGATES_TABLE = 'CREATE TABLE aggregates (id int PRIMARY KEY, revision int NOT NULL DEFAULT 0)';
const product = (productId: number, revision: number) => ({ productId, sku: `SKU-${productId}`, name: `Product ${productId}`, priceCents: 100 * revision, revision });

/** A state change and its event in one transaction, the way a service publishes. */
async function change(db: EventClient, productId: number): Promise<string> {
  return db.$transaction(async (tx) => {
    const [row] = await tx.$queryRawUnsafe<{ revision: number }[]>('UPDATE aggregates SET revision = revision + 1 WHERE id = $1 RETURNING revision', productId);
    return publishEvent(tx, { source: 'products', type: 'ProductCreated', aggregate: `product:${productId}`, payload: product(productId, row!.revision) });
  });
}

/** A transport to one destination that records what it is given; `fail` decides per attempt. */
function recordingTransport(fail: (envelope: EventEnvelope, attempt: number) => Promise<void> | void = () => {}) {
  const sends: { id: string; aggregate: string; attempt: number; at: number }[] = [];
  const transport: EventTransport = {
    kind: 'http',
    destinations: () => ['sink'],
    async send(_destination, envelope, attempt) {
      sends.push({ id: envelope.id, aggregate: envelope.aggregate, attempt, at: Date.now() });
      await fail(envelope, attempt);
    },
    async consume() {},
    async close() {},
  };
  return { transport, sends };
}

async function until(done: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(10);
  }
}

interface Backend {
  name: string;
  open(): Promise<EventDatabase & { connect?: () => EventDatabase }>;
}

const backends: Backend[] = [
  { name: 'PGlite', open: () => eventDatabase(AGGREGATES_TABLE) },
  ...(postgresAdminUrl ? [{ name: 'PostgreSQL', open: () => postgresEventDatabase(postgresAdminUrl!, AGGREGATES_TABLE) }] : []),
];

describe.each(backends)('the relay on $name', ({ open }) => {
  let database: Awaited<ReturnType<Backend['open']>>;
  const relays: Relay[] = [];
  beforeAll(async () => {
    database = await open();
  });
  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.stop();
  });
  afterAll(async () => {
    await database?.close();
  });
  const db = () => database.client;
  const fresh = async (ids: number[]) => {
    await db().$executeRawUnsafe('TRUNCATE outbox_events, outbox_deliveries, aggregates');
    for (const id of ids) await db().$executeRawUnsafe('INSERT INTO aggregates (id) VALUES ($1)', id);
  };

  it('keeps no more than its concurrency in flight to one destination, and delivers them all', async () => {
    await fresh([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (let id = 1; id <= 10; id++) await change(db(), id);
    let inFlight = 0;
    let most = 0;
    const slow = recordingTransport(async () => {
      most = Math.max(most, ++inFlight);
      await sleep(30);
      inFlight--;
    });
    relays.push(startRelay({ db: db(), transport: slow.transport, logger, pollMs: 10, concurrencyPerDestination: 3 }));
    await until(() => slow.sends.length === 10);
    await until(async () => (await pending(db())) === 0);
    expect(most).toBe(3);
  });

  it('hands a delivery whose relay died mid-flight to another relay once its lease runs out', async () => {
    await fresh([1, 2]);
    const first = await change(db(), 1);
    const second = await change(db(), 1);
    const other = await change(db(), 2);
    // The first relay claims everything due and then hangs on the wire: it is as good as dead.
    let release!: (error: Error) => void;
    const hung = new Promise<void>((_, reject) => (release = reject));
    const dying = recordingTransport(() => hung);
    const leaseMs = 1_500;
    const dead = startRelay({ db: db(), transport: dying.transport, logger, pollMs: 10, leaseMs });
    relays.push(dead);
    const healthy = recordingTransport();
    try {
      await until(() => dying.sends.length === 2);
      const claimedAt = dying.sends[0]!.at;
      expect(dying.sends.map((s) => s.id).sort()).toEqual([first, other].sort());
      relays.push(startRelay({ db: db(), transport: healthy.transport, logger, pollMs: 10, leaseMs }));
      // Halfway through the lease nothing has moved, not even the next event of the claimed aggregate.
      await sleep(claimedAt + leaseMs / 2 - Date.now());
      expect(healthy.sends).toEqual([]);
      await until(() => healthy.sends.length === 3);
      expect(healthy.sends.filter((s) => s.aggregate === 'product:1').map((s) => s.id)).toEqual([first, second]);
      // The second claim is the delivery's second attempt.
      expect(healthy.sends.find((s) => s.id === first)!.attempt).toBe(2);
      await until(async () => (await pending(db())) === 0);
    } finally {
      // The dead relay wakes up with an error: it must not undo what another relay delivered.
      release(new Error('connection reset'));
    }
    await dead.stop();
    expect(await pending(db())).toBe(0);
    await sleep(100);
    expect(healthy.sends).toHaveLength(3);
  });

  it('backs off exponentially between failed attempts, with jitter, up to its cap', async () => {
    await fresh([1]);
    await change(db(), 1);
    const delays: number[] = [];
    // The relay's own backoff, as it hands it to the database.
    const watched: EventClient = {
      ...db(),
      $queryRawUnsafe: (query, ...values) => db().$queryRawUnsafe(query, ...values),
      $transaction: (fn) => db().$transaction(fn),
      $executeRawUnsafe(query: string, ...values: unknown[]) {
        if (query.includes('last_error = $4')) delays.push(values[2] as number);
        return db().$executeRawUnsafe(query, ...values);
      },
    };
    const failing = recordingTransport(() => {
      throw new Error('subscriber down');
    });
    const base = 40;
    const cap = 160;
    const relay = startRelay({ db: watched, transport: failing.transport, logger, pollMs: 5, retryBaseMs: base, retryMaxMs: cap });
    relays.push(relay);
    await until(() => failing.sends.length >= 8);
    await relay.stop();

    expect(failing.sends.slice(0, 8).map((s) => s.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const [index, delay] of delays.slice(0, 7).entries()) {
      const nominal = Math.min(cap, base * 2 ** index);
      expect(delay).toBeGreaterThanOrEqual(nominal / 2);
      expect(delay).toBeLessThanOrEqual(nominal);
      // Never retried before its delay (the database's clock decides; 5 ms for timestamp rounding).
      expect(failing.sends[index + 1]!.at - failing.sends[index]!.at).toBeGreaterThanOrEqual(delay - 5);
    }
    // Capped: uncapped, the 7th delay would be at least 40 × 2⁶ ÷ 2 = 1 280 ms.
    expect(Math.max(...delays)).toBeLessThanOrEqual(cap);
    const [row] = await db().$queryRawUnsafe<{ last_error: string }[]>('SELECT last_error FROM outbox_deliveries');
    expect(row!.last_error).toBe('subscriber down');
  });

  it('prunes only events delivered everywhere longer ago than the retention', async () => {
    await fresh([1, 2, 3, 4, 5, 6]);
    const ids: Record<string, string> = {};
    // done: delivered everywhere 2 h ago; half: to one of two; recent: published and delivered just now;
    // unexpanded: never turned into deliveries; nowhere: no subscriber; late: published 2 h ago, delivered 10 s ago.
    for (const [name, aggregate] of [['done', 1], ['half', 2], ['recent', 3], ['unexpanded', 4], ['nowhere', 5], ['late', 6]] as const) {
      ids[name] = await change(db(), aggregate);
    }
    // Every event is turned into deliveries to a and b, except one never expanded and one that goes nowhere.
    for (const id of Object.values(ids).filter((id) => id !== ids.unexpanded)) {
      for (const destination of id === ids.nowhere ? [] : ['a', 'b']) {
        await db().$executeRawUnsafe(
          `INSERT INTO outbox_deliveries (event_id, destination, event_seq, aggregate) SELECT id, $2, seq, aggregate FROM outbox_events WHERE id = $1::uuid`,
          id,
          destination,
        );
      }
      await db().$executeRawUnsafe(`UPDATE outbox_events SET expanded_at = now() WHERE id = $1::uuid`, id);
    }
    const hoursAgo = `now() - interval '2 hours'`;
    await db().$executeRawUnsafe(`UPDATE outbox_events SET occurred_at = ${hoursAgo} WHERE id <> $1::uuid`, ids.recent);
    await db().$executeRawUnsafe(`UPDATE outbox_deliveries SET delivered_at = ${hoursAgo} WHERE event_id = $1::uuid`, ids.done);
    await db().$executeRawUnsafe(`UPDATE outbox_deliveries SET delivered_at = now() WHERE event_id = $1::uuid`, ids.recent);
    await db().$executeRawUnsafe(`UPDATE outbox_deliveries SET delivered_at = ${hoursAgo} WHERE event_id = $1::uuid AND destination = 'a'`, ids.half);
    // Published two hours ago, through only seconds ago: the retention starts now.
    await db().$executeRawUnsafe(`UPDATE outbox_deliveries SET delivered_at = now() - interval '10 seconds' WHERE event_id = $1::uuid`, ids.late);

    expect(await pruneDelivered(db(), 3600_000)).toBe(2);
    const left = new Set((await db().$queryRawUnsafe<{ id: string }[]>('SELECT id FROM outbox_events')).map((r) => r.id));
    expect([...left].sort()).toEqual([ids.half, ids.recent, ids.unexpanded, ids.late].sort());
    // Their deliveries go with them; the others' stay.
    expect(await pendingOrDone(db())).toEqual({ [ids.half!]: 2, [ids.recent!]: 2, [ids.late!]: 2 });
  });
});

async function pendingOrDone(db: SqlClient): Promise<Record<string, number>> {
  const rows = await db.$queryRawUnsafe<{ event_id: string; n: bigint }[]>('SELECT event_id, count(*) AS n FROM outbox_deliveries GROUP BY event_id');
  return Object.fromEntries(rows.map((row) => [row.event_id, Number(row.n)]));
}

async function pending(db: SqlClient): Promise<number> {
  const [row] = await db.$queryRawUnsafe<{ n: bigint }[]>('SELECT count(*) AS n FROM outbox_deliveries WHERE delivered_at IS NULL');
  return Number(row!.n);
}

describe.skipIf(!postgresAdminUrl)('two relays on one PostgreSQL outbox (TEST_POSTGRES_ADMIN_URL)', () => {
  const SECRET = 'a-subscriber-events-secret-for-relay-tests';
  const subscribers = [...EVENT_CATALOG.products.ProductCreated.subscribers];
  let database: Awaited<ReturnType<typeof postgresEventDatabase>>;
  const servers: Server[] = [];
  const endpoints = new Map<string, string>();
  /** Deliveries each subscriber acknowledged, in arrival order. */
  const received: { destination: string; id: string; aggregate: string; revision: number }[] = [];
  let refused = 0;

  beforeAll(async () => {
    database = await postgresEventDatabase(postgresAdminUrl!, AGGREGATES_TABLE);
    for (const subscriber of subscribers) {
      const verify = createSignatureVerifier({ secret: SECRET, nonces: memoryNonceStore() });
      const server = createServer(async (request, response) => {
        const body = await read(request);
        const check = await verify({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body });
        if (!check.ok) return void response.writeHead(401).end();
        // One push in ten fails, and answers take a little while: retries interleave with everything else.
        await sleep(Math.random() * 4);
        if (Math.random() < 0.1) {
          refused++;
          return void response.writeHead(503).end('{"outcome":"retry"}');
        }
        const envelope = JSON.parse(body) as EventEnvelope<{ revision: number }>;
        received.push({ destination: subscriber, id: envelope.id, aggregate: envelope.aggregate, revision: envelope.payload.revision });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"outcome":"handled"}');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      endpoints.set(subscriber, `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`);
    }
  });
  afterAll(async () => {
    for (const server of servers) server.close();
    await database?.close();
  });

  it('delivers every event once to each subscriber, in order per aggregate, while writers and relays race', async () => {
    const aggregates = [1, 2, 3, 4, 5, 6, 7, 8];
    for (const id of aggregates) await database.client.$executeRawUnsafe('INSERT INTO aggregates (id) VALUES ($1)', id);
    const transport = () => httpTransport({ endpoints, secrets: new Map(subscribers.map((s) => [s, SECRET])), timeoutMs: 5_000 });
    // Two relays, each on its own pool, as two replicas of a service would be.
    const one = database.connect();
    const two = database.connect();
    const options = { logger, pollMs: 5, batchSize: 7, retryBaseMs: 10, retryMaxMs: 40 };
    const relays = [startRelay({ db: one.client, transport: transport(), ...options }), startRelay({ db: two.client, transport: transport(), ...options })];
    const started = Date.now();
    try {
      // Three concurrent writers per aggregate, ten changes each: the row lock orders their events.
      const writers = database.connect(24);
      const published = (
        await Promise.all(
          aggregates.flatMap((id) => [1, 2, 3].map(async () => {
            const ids: string[] = [];
            for (let i = 0; i < 10; i++) ids.push(await change(writers.client, id));
            return ids;
          })),
        )
      ).flat();
      expect(published).toHaveLength(240);
      await until(async () => (await pending(database.client)) === 0 && received.length >= published.length * subscribers.length, 60_000);
      const elapsed = Date.now() - started;

      for (const subscriber of subscribers) {
        const mine = received.filter((r) => r.destination === subscriber);
        // Once each: no event missing, none twice.
        expect(mine.map((r) => r.id).sort()).toEqual([...published].sort());
        for (const id of aggregates) {
          expect(mine.filter((r) => r.aggregate === `product:${id}`).map((r) => r.revision)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
        }
      }
      // Both relays did part of the work, and the subscribers' refusals were retried.
      expect(relays[0]!.delivered()).toBeGreaterThan(0);
      expect(relays[1]!.delivered()).toBeGreaterThan(0);
      expect(relays[0]!.delivered() + relays[1]!.delivered()).toBe(720);
      expect(refused).toBeGreaterThan(0);
      console.info(`two relays: 720 deliveries (${refused} refused and retried) in ${elapsed} ms, split ${relays[0]!.delivered()}/${relays[1]!.delivered()}`);
    } finally {
      for (const relay of relays) await relay.stop();
    }
  }, 90_000);
});

function read(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}
