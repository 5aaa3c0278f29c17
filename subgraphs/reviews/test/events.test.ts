import { randomUUID } from 'node:crypto';
import {
  createLogger,
  createReceiver,
  httpTransport,
  listParked,
  PoisonEvent,
  SEED,
  startServiceEvents,
  type EventEnvelope,
} from '@commerce/service-kit';
import { asUser, errorCodes, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { reviews } from '../src/server.ts';

// Its own database: these tests change the catalogue replica. Events go through the kit's real
// receiver (envelope and payload checks, inbox, parking), as they do when a relay pushes them.
let harness: SubgraphHarness<PrismaClient>;
let receive: ReturnType<typeof createReceiver>;
let sequence = 0;

beforeAll(async () => {
  harness = await subgraphHarness(reviews);
  receive = createReceiver(harness.client, reviews.eventHandlers ?? {});
});
afterAll(() => harness?.close());

type ProductEventType = 'ProductCreated' | 'ProductSnapshot' | 'ProductPriceChanged';

function envelope(type: ProductEventType, productId: number, revision: number, overrides: Partial<EventEnvelope> = {}): EventEnvelope {
  const payload = { productId, sku: `SKU-${productId}`, name: `Product ${productId}`, priceCents: 1_000 + revision, revision };
  return {
    id: randomUUID(),
    source: 'products',
    type,
    version: 1,
    aggregate: `product:${productId}`,
    sequence: ++sequence,
    occurredAt: new Date().toISOString(),
    payload: type === 'ProductPriceChanged' ? { ...payload, previousPriceCents: 999 } : payload,
    ...overrides,
  };
}

const deliver = (event: unknown) => receive(event, { attempt: 1, maxAttempts: 5 });

async function replica(productId: number) {
  return harness.client.catalogProduct.findUnique({ where: { productId } });
}

const ADD = `mutation($input: AddReviewInput!) { addReview(input: $input) { review { id product { id } } } }`;
const review = (productId: number) => harness.query(ADD, { input: { productId: String(productId), rating: 5, body: 'Arrived.' } }, asUser(4));

describe('products.ProductCreated', () => {
  it('makes a new product reviewable: NOT_FOUND before it arrives, stored after', async () => {
    const id = SEED.products + 1;
    const before = await harness.client.review.count();
    expect(errorCodes(await review(id))).toEqual(['NOT_FOUND']);
    expect(await harness.client.review.count()).toBe(before);

    expect(await deliver(envelope('ProductCreated', id, 1))).toEqual({ outcome: 'handled' });
    expect(await replica(id)).toMatchObject({ productId: id, revision: 1 });
    const result = await review(id);
    expect(result.errors).toBeUndefined();
    expect(result.data?.addReview.review.product).toEqual({ id: String(id) });
    expect(await harness.client.review.count()).toBe(before + 1);
  });
});

describe('revisions', () => {
  it('never lets an older revision overwrite a newer one, and ignores an equal one', async () => {
    const id = 300;
    expect(await deliver(envelope('ProductSnapshot', id, 5))).toEqual({ outcome: 'handled' });
    const held = await replica(id);
    expect(held).toMatchObject({ revision: 5 });
    // A late creation event and a repeated snapshot are handled (acknowledged) but change nothing.
    expect(await deliver(envelope('ProductCreated', id, 1))).toEqual({ outcome: 'handled' });
    expect(await deliver(envelope('ProductSnapshot', id, 4))).toEqual({ outcome: 'handled' });
    expect(await deliver(envelope('ProductSnapshot', id, 5))).toEqual({ outcome: 'handled' });
    expect(await replica(id)).toEqual(held);
    expect(await deliver(envelope('ProductSnapshot', id, 6))).toEqual({ outcome: 'handled' });
    expect(await replica(id)).toMatchObject({ revision: 6 });
  });

  it('ends at the newest revision whatever order the facts arrive in', async () => {
    const id = 301;
    const revisions = [4, 9, 1, 7, 10, 2, 8, 3, 6, 5];
    const receipts = await Promise.all(revisions.map((revision, i) => deliver(envelope(i % 2 ? 'ProductCreated' : 'ProductSnapshot', id, revision))));
    expect(receipts).toEqual(Array(10).fill({ outcome: 'handled' }));
    expect(await replica(id)).toMatchObject({ revision: 10 });
  });

  it('leaves seeded products at revision 1 when a backfill repeats what the seed holds', async () => {
    expect(await deliver(envelope('ProductSnapshot', 1, 1))).toEqual({ outcome: 'handled' });
    expect(await replica(1)).toMatchObject({ revision: 1, updatedAt: new Date(Date.UTC(2026, 0, 1, 0, 1)) });
  });
});

describe('delivery', () => {
  it('has no second effect when the same event arrives again', async () => {
    const id = 302;
    const first = envelope('ProductCreated', id, 2);
    expect(await deliver(first)).toEqual({ outcome: 'handled' });
    const held = await replica(id);
    expect(await deliver(first)).toEqual({ outcome: 'duplicate' });
    expect(await deliver({ ...first })).toEqual({ outcome: 'duplicate' });
    expect(await replica(id)).toEqual(held);
    expect(await harness.client.inboxEvent.count({ where: { eventId: first.id } })).toBe(1);
  });

  it('parks an unknown version, keeps it for replay, and applies nothing', async () => {
    const id = 303;
    const future = envelope('ProductCreated', id, 1, { version: 2 });
    expect(await deliver(future)).toEqual({ outcome: 'parked', reason: 'unknown version 2 of products.ProductCreated' });
    expect(await replica(id)).toBeNull();
    expect(errorCodes(await review(id))).toEqual(['NOT_FOUND']);
    expect(await harness.client.inboxEvent.count({ where: { eventId: future.id } })).toBe(0);
    const parked = await listParked(harness.client);
    expect(parked.events.find((event) => event.eventId === future.id)).toMatchObject({ source: 'products', type: 'ProductCreated', version: 2 });
  });

  it('parks a payload that breaks its contract (revision 0)', async () => {
    const receipt = await deliver(envelope('ProductSnapshot', 304, 0));
    expect(receipt).toMatchObject({ outcome: 'parked' });
    expect(await replica(304)).toBeNull();
  });

  it('ignores price changes: the catalogue does not send them to reviews, and reviews keeps no price', async () => {
    expect(await deliver(envelope('ProductPriceChanged', 305, 2))).toEqual({ outcome: 'ignored' });
    expect(await replica(305)).toBeNull();
  });

  it('refuses, as poison, a version of the contract its handler has not learnt', async () => {
    const handler = reviews.eventHandlers?.['products.ProductCreated'];
    await expect(harness.client.$transaction((tx) => handler!(tx, envelope('ProductCreated', 306, 1, { version: 2 })))).rejects.toBeInstanceOf(PoisonEvent);
    expect(await replica(306)).toBeNull();
  });

  it('has a handler for every event the catalogue sends it (the check the kit makes at start), and runs a relay for what it publishes', async () => {
    const events = await startServiceEvents(
      'reviews',
      harness.client,
      reviews.eventHandlers ?? {},
      { transport: httpTransport({ endpoints: new Map(), secrets: new Map() }), secret: 'reviews-events-secret-for-this-test-only' },
      createLogger('reviews', 'silent'),
    );
    await events.stop();
    expect(events.relay).not.toBeNull();
  });
});

describe('snapshot', () => {
  it('reports the replica in product order', async () => {
    const rows = await harness.client.catalogProduct.findMany({ orderBy: { productId: 'asc' } });
    const snapshot = await reviews.snapshot?.(harness.client);
    expect(snapshot).toEqual({ catalog: rows.map(({ productId, revision }) => ({ productId, revision })) });
    expect(snapshot).toMatchObject({ catalog: expect.arrayContaining([{ productId: 1, revision: 1 }, { productId: 300, revision: 6 }]) });
  });
});
