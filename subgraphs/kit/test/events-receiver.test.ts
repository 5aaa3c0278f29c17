import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ATTEMPT_HEADER,
  createLogger,
  httpTransport,
  listParked,
  PoisonEvent,
  publishEvent,
  signatureHeaders,
  startServiceEvents,
  type EventEnvelope,
  type EventHandler,
  type ServiceEvents,
} from '../src/index.ts';
import { eventDatabase, type EventDatabase } from './support/event-db.ts';

/**
 * The receiving side of the backbone: what a subscriber does with an event its handler cannot
 * take yet, never, or at all, over the real HTTP route a publisher's relay pushes to. The
 * subscriber is "reviews" (it consumes products' events); the handler's behaviour is chosen by the
 * product id in the payload.
 */
const SECRET = 'the-reviews-events-secret-for-receiver-tests';
const logger = createLogger('events-receiver-test', 'silent');
const TRANSIENT = 10; // its first revision fails twice, then succeeds
const BROKEN = 20; // fails every time until "fixed"
const POISON = 30; // can never succeed: PoisonEvent
const OVERLOADED = 60; // the database times out (Prisma's pool timeout) more often than the attempt limit, then recovers
const MAX_ATTEMPTS = 3;

let publisher: EventDatabase;
let subscriber: EventDatabase;
let receiving: ServiceEvents;
let sending: ServiceEvents;
let server: Server;
let url: string;
let fixed = false;
/** Handler calls per event id, and the attempt numbers pushes arrived with. */
const calls = new Map<string, number>();
const attempts: number[] = [];

const product = (productId: number, revision = 1) => ({ productId, sku: `SKU-${productId}`, name: `Product ${productId}`, priceCents: 100, revision });

const handler: EventHandler = async (tx, event) => {
  const payload = event.payload as { productId: number; revision: number };
  const count = (calls.get(event.id) ?? 0) + 1;
  calls.set(event.id, count);
  if (payload.productId === TRANSIENT && payload.revision === 1 && count <= 2) throw new Error(`database busy (${count})`);
  if (payload.productId === BROKEN && !fixed) throw new Error('constraint "replicas_price_check" violated');
  if (payload.productId === POISON) throw new PoisonEvent('a price this replica can never hold');
  if (payload.productId === OVERLOADED && count <= MAX_ATTEMPTS + 2) {
    throw Object.assign(new Error('Timed out fetching a new connection from the connection pool'), { code: 'P2024' });
  }
  await tx.$executeRawUnsafe('INSERT INTO seen (event_id, product_id, revision) VALUES ($1::uuid, $2, $3)', event.id, payload.productId, payload.revision);
};

beforeAll(async () => {
  publisher = await eventDatabase();
  subscriber = await eventDatabase('CREATE TABLE seen (event_id uuid PRIMARY KEY, product_id int NOT NULL, revision int NOT NULL, position serial)');
  receiving = await startServiceEvents(
    'reviews',
    subscriber.client,
    { 'products.ProductCreated': handler, 'products.ProductSnapshot': handler },
    { transport: httpTransport({ endpoints: new Map(), secrets: new Map() }), secret: SECRET, maxAttempts: MAX_ATTEMPTS },
    logger,
  );
  server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    if (path === '/internal/events' && request.method === 'POST') attempts.push(Number(request.headers[ATTEMPT_HEADER]));
    const route = receiving.internalRoutes[path];
    if (route) void route(request, response, 'test');
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  // Products publishes to reviews only here (its other subscribers are not part of this test).
  const transport = httpTransport({ endpoints: new Map([['reviews', url]]), secrets: new Map([['reviews', SECRET]]), timeoutMs: 2_000 });
  sending = await startServiceEvents(
    'products',
    publisher.client,
    {},
    { transport: { ...transport, destinations: () => ['reviews'] }, secret: 'the-products-events-secret-for-receiver-tests', relay: { pollMs: 10, retryBaseMs: 30, retryMaxMs: 100 } },
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
beforeEach(() => {
  attempts.length = 0;
});

async function publish(productId: number, revision = 1): Promise<string> {
  const id = await publisher.client.$transaction((tx) =>
    publishEvent(tx, { source: 'products', type: 'ProductCreated', aggregate: `product:${productId}`, payload: product(productId, revision) }),
  );
  sending.relay!.wake();
  return id;
}

async function seen(productId: number) {
  const rows = await subscriber.client.$queryRawUnsafe<{ revision: number }[]>('SELECT revision FROM seen WHERE product_id = $1 ORDER BY position', productId);
  return rows.map((row) => row.revision);
}

async function delivered(id: string): Promise<{ attempts: number; delivered: boolean }> {
  const [row] = await publisher.client.$queryRawUnsafe<{ attempts: number; delivered_at: Date | null }[]>(
    'SELECT attempts, delivered_at FROM outbox_deliveries WHERE event_id = $1::uuid',
    id,
  );
  return { attempts: row?.attempts ?? 0, delivered: Boolean(row?.delivered_at) };
}

async function parked(id: string) {
  return (await listParked(subscriber.client)).events.find((event) => event.eventId === id);
}

async function signed(path: string, body: string, headers: Record<string, string> = {}) {
  const all: Record<string, string> = { 'content-type': 'application/json', ...headers };
  Object.assign(all, signatureHeaders(SECRET, { method: 'POST', path, headers: all, body }));
  const response = await fetch(new URL(path, url), { method: 'POST', headers: all, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function envelope(productId: number, overrides: Partial<EventEnvelope> = {}): EventEnvelope {
  return {
    id: randomUUID(),
    source: 'products',
    type: 'ProductCreated',
    version: 1,
    aggregate: `product:${productId}`,
    sequence: 1,
    occurredAt: new Date().toISOString(),
    payload: product(productId),
    ...overrides,
  };
}

async function until(done: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(10);
  }
}

describe('a subscriber receiving pushed events', () => {
  it('retries a transient failure until the handler succeeds, with one effect, keeping the aggregate in order', async () => {
    const first = await publish(TRANSIENT, 1);
    const second = await publish(TRANSIENT, 2);
    await until(async () => (await delivered(second)).delivered);
    expect(calls.get(first)).toBe(3);
    expect(calls.get(second)).toBe(1);
    // The second event waited for the first: three pushes of it, counted by the publisher, then one of the next.
    expect(attempts).toEqual([1, 2, 3, 1]);
    expect(await delivered(first)).toEqual({ attempts: 3, delivered: true });
    expect(await seen(TRANSIENT)).toEqual([1, 2]);
    expect(await parked(first)).toBeUndefined();
  });

  it('parks an event whose handler keeps failing after the last attempt, and goes on with the next', async () => {
    const failing = await publish(BROKEN, 1);
    const next = await publish(BROKEN + 1, 1);
    const behind = await publish(BROKEN, 2);
    await until(async () => (await delivered(behind)).delivered);
    expect(calls.get(failing)).toBe(MAX_ATTEMPTS);
    expect(attempts.filter((n) => n > 1)).toEqual([2, 3, 2, 3]);
    // Parked counts as handled for the publisher: no more retries, and the aggregate moves on.
    expect(await delivered(failing)).toEqual({ attempts: MAX_ATTEMPTS, delivered: true });
    expect(await parked(failing)).toMatchObject({
      source: 'products',
      type: 'ProductCreated',
      version: 1,
      attempts: MAX_ATTEMPTS,
      reason: 'failed 3 times; last error: constraint "replicas_price_check" violated',
    });
    expect((await delivered(next)).delivered).toBe(true);
    // The event behind the parked one of the same aggregate was attempted too (and failed the same way).
    expect(await parked(behind)).toMatchObject({ reason: expect.stringMatching(/^failed 3 times/) });
  });

  it('never parks an event because the database was busy: it retries past the attempt limit until it is handled', async () => {
    const id = await publish(OVERLOADED, 1);
    await until(async () => (await delivered(id)).delivered);
    expect(calls.get(id)).toBe(MAX_ATTEMPTS + 3);
    expect(await parked(id)).toBeUndefined();
    expect(await seen(OVERLOADED)).toEqual([1]);
  });

  it('parks a PoisonEvent at once, without retrying it', async () => {
    const id = await publish(POISON, 1);
    await until(async () => (await delivered(id)).delivered);
    expect(calls.get(id)).toBe(1);
    expect(await delivered(id)).toEqual({ attempts: 1, delivered: true });
    expect(await parked(id)).toMatchObject({ attempts: 1, reason: 'rejected by its handler: a price this replica can never hold' });
  });

  it('parks a body that is not JSON, an envelope without an id and a payload that breaks its contract', async () => {
    const garbage = await signed('/internal/events', 'this is {not json');
    expect(garbage.status).toBe(200);
    expect(garbage.body).toMatchObject({ outcome: 'parked', reason: expect.stringMatching(/^malformed envelope: /) });
    const anonymous = await signed('/internal/events', JSON.stringify({ ...envelope(40), id: undefined }));
    expect(anonymous.body).toMatchObject({ outcome: 'parked', reason: expect.stringContaining('malformed envelope: id') });
    const bad = envelope(41, { payload: { ...product(41), priceCents: -5 } });
    expect((await signed('/internal/events', JSON.stringify(bad))).body).toMatchObject({
      outcome: 'parked',
      reason: expect.stringMatching(/^payload does not match products.ProductCreated@1: priceCents/),
    });
    const list = await listParked(subscriber.client);
    const unidentified = list.events.filter((event) => event.eventId.startsWith('unidentified-'));
    expect(unidentified).toHaveLength(2);
    expect(unidentified.find((event) => event.source === null)).toBeDefined();
    expect(await parked(bad.id)).toMatchObject({ source: 'products', type: 'ProductCreated' });
  });

  it('ignores an event type it does not subscribe to, without parking it', async () => {
    const before = (await listParked(subscriber.client)).count;
    const unknown = envelope(50, { type: 'ProductDiscontinued', payload: { productId: 50 } });
    expect(await signed('/internal/events', JSON.stringify(unknown))).toEqual({ status: 200, body: { outcome: 'ignored' } });
    const otherSource = envelope(50, { source: 'orders', type: 'OrderPlaced', payload: { orderId: 1, userId: 1, items: [{ productId: 50, quantity: 1 }] } });
    expect((await signed('/internal/events', JSON.stringify(otherSource))).body).toEqual({ outcome: 'ignored' });
    expect((await listParked(subscriber.client)).count).toBe(before);
    expect(await seen(50)).toEqual([]);
  });

  it('keeps one parked row when a parked event arrives again, counting the attempts', async () => {
    const poison = envelope(POISON);
    await signed('/internal/events', JSON.stringify(poison));
    await signed('/internal/events', JSON.stringify(poison), { [ATTEMPT_HEADER]: '2' });
    const rows = await subscriber.client.$queryRawUnsafe<{ attempts: number }[]>('SELECT attempts FROM parked_events WHERE event_id = $1', poison.id);
    expect(rows).toEqual([{ attempts: 2 }]);
  });

  it('replays parked events after a fix: the fixed ones are handled once, the others parked again', async () => {
    const broken = (await listParked(subscriber.client)).events.filter((event) => event.reason.includes('replicas_price_check')).map((event) => event.eventId);
    expect(broken).toHaveLength(2);
    fixed = true;
    const one = await signed('/internal/events/replay', JSON.stringify({ ids: [broken[0]] }));
    expect(one).toEqual({ status: 200, body: { service: 'reviews', replayed: [{ eventId: broken[0], outcome: 'handled' }] } });
    expect(await parked(broken[0]!)).toBeUndefined();

    // Everything else: the other fixed one is handled, the poison and the malformed ones stay parked.
    const all = await signed('/internal/events/replay', '{}');
    const outcomes = (all.body.replayed as { eventId: string; outcome: string; reason?: string }[]);
    expect(outcomes.find((r) => r.eventId === broken[1])).toEqual({ eventId: broken[1], outcome: 'handled' });
    expect(outcomes.filter((r) => r.outcome === 'parked').length).toBe(outcomes.length - 1);
    expect(await seen(BROKEN)).toEqual([1, 2]);
    // Replayed events never run twice: a second replay of the handled ones finds nothing to do.
    const again = await signed('/internal/events/replay', JSON.stringify({ ids: broken }));
    expect(again.body).toEqual({ service: 'reviews', replayed: [] });
    expect(await seen(BROKEN)).toEqual([1, 2]);
    // Parked again means the same row again, even for an event too malformed to carry an id.
    expect((await receiving.status()).parked).toBe(outcomes.length - 1);
    expect((await signed('/internal/events/replay', '{}')).body.replayed).toHaveLength(outcomes.length - 1);
    expect((await receiving.status()).parked).toBe(outcomes.length - 1);
  });

  it('refuses a replay request it cannot read rather than replaying everything', async () => {
    for (const body of ['{"ids": [123]}', '{"ids": []}', '{"ids": "x"}', 'not json', 'null', '[]']) {
      const answer = await signed('/internal/events/replay', body);
      expect({ body, status: answer.status }).toEqual({ body, status: 400 });
    }
  });
});
