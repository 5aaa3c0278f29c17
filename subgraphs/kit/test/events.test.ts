import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createLogger,
  httpTransport,
  listParked,
  publishEvent,
  signatureHeaders,
  startServiceEvents,
  type EventClient,
  type ServiceEvents,
} from '../src/index.ts';
import { eventDatabase } from './support/event-db.ts';

/**
 * The event backbone end to end on real databases: a publisher ("products") with its outbox and
 * relay, a subscriber ("reviews") with its inbox, over the embedded HTTP transport.
 */
const SECRET = 'the-reviews-events-secret-for-tests!';
const logger = createLogger('events-test', 'silent');
const SEEN_TABLE = 'CREATE TABLE seen (event_id uuid PRIMARY KEY, product_id int NOT NULL, revision int NOT NULL, position serial)';

let publisher: Awaited<ReturnType<typeof eventDatabase>>;
let subscriber: Awaited<ReturnType<typeof eventDatabase>>;
let server: Server;
let url: string;
let receiving: ServiceEvents;
let sending: ServiceEvents;
let available = true;

const product = (productId: number, revision: number) => ({ productId, sku: `SKU-${productId}`, name: `Product ${productId}`, priceCents: 100 * revision, revision });

async function publish(db: EventClient, productId: number, revision: number) {
  await db.$transaction((tx) => publishEvent(tx, { source: 'products', type: 'ProductCreated', aggregate: `product:${productId}`, payload: product(productId, revision) }));
}

async function seen() {
  return subscriber.client.$queryRawUnsafe<{ product_id: number; revision: number }[]>('SELECT product_id, revision FROM seen ORDER BY position');
}

beforeAll(async () => {
  publisher = await eventDatabase();
  subscriber = await eventDatabase(SEEN_TABLE);
  const handler = async (tx: Parameters<Parameters<EventClient['$transaction']>[0]>[0], event: { id: string; payload: unknown }) => {
    const payload = event.payload as { productId: number; revision: number };
    await tx.$executeRawUnsafe('INSERT INTO seen (event_id, product_id, revision) VALUES ($1::uuid, $2, $3)', event.id, payload.productId, payload.revision);
  };
  receiving = await startServiceEvents(
    'reviews',
    subscriber.client,
    { 'products.ProductCreated': handler, 'products.ProductSnapshot': handler },
    { transport: httpTransport({ endpoints: new Map(), secrets: new Map() }), secret: SECRET },
    logger,
  );
  server = createServer((request, response) => {
    if (!available) {
      request.socket.destroy();
      return;
    }
    const route = receiving.internalRoutes[new URL(request.url ?? '/', 'http://x').pathname];
    if (route) void route(request, response, 'test');
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  // Products' other subscribers (orders, inventory) are not running here: their deliveries wait.
  sending = await startServiceEvents(
    'products',
    publisher.client,
    {},
    {
      transport: httpTransport({
        endpoints: new Map([['reviews', url], ['orders', 'http://127.0.0.1:1/'], ['inventory', 'http://127.0.0.1:1/']]),
        secrets: new Map([['reviews', SECRET], ['orders', SECRET], ['inventory', SECRET]]),
        timeoutMs: 1_000,
      }),
      secret: SECRET,
      relay: { pollMs: 20, retryBaseMs: 50, retryMaxMs: 200 },
    },
    logger,
  );
});
afterAll(async () => {
  await sending?.stop();
  await receiving?.stop();
  server?.close();
  await publisher?.close();
  await subscriber?.close();
});
afterEach(() => {
  available = true;
});

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('outbox → relay → inbox over HTTP', () => {
  it('refuses a payload that does not match its contract at publication', async () => {
    await expect(
      publisher.client.$transaction((tx) =>
        publishEvent(tx, { source: 'products', type: 'ProductCreated', aggregate: 'product:1', payload: { productId: -1 } as never }),
      ),
    ).rejects.toThrow();
    expect(await publisher.client.$queryRawUnsafe('SELECT * FROM outbox_events')).toEqual([]);
  });

  it('delivers each event once, in order per aggregate, while the subscriber comes and goes', async () => {
    available = false;
    for (let revision = 1; revision <= 3; revision++) {
      await publish(publisher.client, 1, revision);
      await publish(publisher.client, 2, revision);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await seen()).toEqual([]);
    available = true;
    const rows = await until(seen, (r) => r.length >= 6);
    expect(rows.filter((r) => r.product_id === 1).map((r) => r.revision)).toEqual([1, 2, 3]);
    expect(rows.filter((r) => r.product_id === 2).map((r) => r.revision)).toEqual([1, 2, 3]);
    // The subscriber commits before the publisher hears back: wait for the relay's bookkeeping.
    const deliveries = await until(
      async () =>
        (
          await publisher.client.$queryRawUnsafe<{ destination: string; n: bigint; delivered: bigint }[]>(
            `SELECT destination, count(*) AS n, count(delivered_at) AS delivered FROM outbox_deliveries GROUP BY destination ORDER BY destination`,
          )
        ).map((d) => [d.destination, Number(d.n), Number(d.delivered)]),
      (rows) => rows.some((row) => row[0] === 'reviews' && row[2] === 6),
    );
    expect(deliveries).toEqual([
      ['inventory', 6, 0],
      ['orders', 6, 0],
      ['reviews', 6, 6],
    ]);
    expect((await sending.status()).pending).toEqual({ inventory: 6, orders: 6 });
  });

  it('has no second effect when the same event arrives again', async () => {
    const [event] = await publisher.client.$queryRawUnsafe<{ id: string; seq: bigint; payload: unknown; occurred_at: Date }[]>(
      `SELECT id, seq, payload, occurred_at FROM outbox_events ORDER BY seq LIMIT 1`,
    );
    const envelope = { id: event!.id, source: 'products', type: 'ProductCreated', version: 1, aggregate: 'product:1', sequence: Number(event!.seq), occurredAt: event!.occurred_at.toISOString(), payload: event!.payload };
    const answer = await push(envelope);
    expect(answer).toEqual({ status: 200, body: { outcome: 'duplicate' } });
    expect(await seen()).toHaveLength(6);
  });

  it('parks an unknown version and a malformed event, keeps going, and replays them on request', async () => {
    const future = { id: crypto.randomUUID(), source: 'products', type: 'ProductCreated', version: 9, aggregate: 'product:3', sequence: 1, occurredAt: new Date().toISOString(), payload: product(3, 1) };
    expect((await push(future)).body).toMatchObject({ outcome: 'parked', reason: 'unknown version 9 of products.ProductCreated' });
    expect((await push({ id: 'not-an-id', source: 'products', type: 'ProductCreated' })).body).toMatchObject({ outcome: 'parked' });
    await publish(publisher.client, 4, 1);
    await until(seen, (r) => r.some((row) => row.product_id === 4));
    const parked = await listParked(subscriber.client);
    expect(parked.count).toBe(2);
    expect((await receiving.status()).parked).toBe(2);
    const replay = await sendSigned('/internal/events/replay', { ids: [future.id] });
    expect(replay.body).toEqual({ service: 'reviews', replayed: [{ eventId: future.id, outcome: 'parked', reason: 'unknown version 9 of products.ProductCreated' }] });
  });

  it('refuses an unsigned push', async () => {
    const response = await fetch(new URL('/internal/events', url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(response.status).toBe(401);
  });
});

async function sendSigned(path: string, payload: unknown) {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  Object.assign(headers, signatureHeaders(SECRET, { method: 'POST', path, headers, body }));
  const response = await fetch(new URL(path, url), { method: 'POST', headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function push(envelope: unknown) {
  return sendSigned('/internal/events', envelope);
}
