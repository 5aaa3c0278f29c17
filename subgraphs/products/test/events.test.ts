import { SEED } from '@commerce/service-kit';
import { ADMIN, ANONYMOUS_CALLER, asUser, errorCodes, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfill } from '../src/events.ts';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { seedProduct } from '../src/seed.ts';
import { products } from '../src/server.ts';

// Its own database: these tests count every event in the outbox.
let harness: SubgraphHarness<PrismaClient>;

beforeAll(async () => {
  harness = await subgraphHarness(products, { viewer: ADMIN });
});
afterAll(() => harness?.close());

interface OutboxRow {
  seq: number;
  source: string;
  type: string;
  version: number;
  aggregate: string;
  payload: unknown;
}

/** Every event in the outbox, in publication order. */
async function outbox(where: { aggregate?: string; type?: string } = {}): Promise<OutboxRow[]> {
  const rows = await harness.client.outboxEvent.findMany({ where, orderBy: { seq: 'asc' } });
  return rows.map(({ seq, source, type, version, aggregate, payload }) => ({ seq: Number(seq), source, type, version, aggregate, payload }));
}

const outboxCount = () => harness.client.outboxEvent.count();

const CREATE = `mutation($input: CreateProductInput!) { createProduct(input: $input) { product { id sku name priceCents } } }`;
const PRICE = `mutation($id: ID!, $price: Int!) { updateProductPrice(id: $id, priceCents: $price) { product { id priceCents } } }`;
const newProduct = (sku: string, priceCents = 2500) => ({ sku, name: 'Garden Gnome', description: 'Small.', priceCents, weightGrams: 900, category: 'HOME' });

describe('createProduct', () => {
  it('publishes exactly one ProductCreated with the stored facts at revision 1', async () => {
    const before = await outboxCount();
    const result = await harness.query(CREATE, { input: newProduct(' gnome-1 ') });
    expect(result.errors).toBeUndefined();
    const id = Number(result.data?.createProduct.product.id);
    expect(id).toBe(SEED.products + 1);
    expect(await outboxCount()).toBe(before + 1);
    expect(await outbox({ aggregate: `product:${id}` })).toEqual([
      {
        seq: expect.any(Number),
        source: 'products',
        type: 'ProductCreated',
        version: 1,
        aggregate: `product:${id}`,
        payload: { productId: id, sku: 'GNOME-1', name: 'Garden Gnome', priceCents: 2500, revision: 1 },
      },
    ]);
    expect((await harness.client.product.findUniqueOrThrow({ where: { id } })).revision).toBe(1);
  });
});

describe('updateProductPrice', () => {
  it('publishes exactly one ProductPriceChanged per change, with the previous price and the next revision', async () => {
    const seeded = seedProduct(3).priceCents;
    const before = await outboxCount();
    expect((await harness.query(PRICE, { id: '3', price: 4200 })).errors).toBeUndefined();
    expect((await harness.query(PRICE, { id: '3', price: 3100 })).errors).toBeUndefined();
    expect(await outboxCount()).toBe(before + 2);
    const facts = { productId: 3, sku: 'SKU-0003', name: seedProduct(3).name };
    expect((await outbox({ aggregate: 'product:3' })).map(({ type, version, payload }) => ({ type, version, payload }))).toEqual([
      { type: 'ProductPriceChanged', version: 1, payload: { ...facts, priceCents: 4200, previousPriceCents: seeded, revision: 2 } },
      { type: 'ProductPriceChanged', version: 1, payload: { ...facts, priceCents: 3100, previousPriceCents: 4200, revision: 3 } },
    ]);
    expect(await harness.client.product.findUniqueOrThrow({ where: { id: 3 } })).toMatchObject({ priceCents: 3100, revision: 3 });
  });

  it('publishes nothing and keeps the revision when the price is already that price', async () => {
    const before = await outboxCount();
    const result = await harness.query(PRICE, { id: '8', price: seedProduct(8).priceCents });
    expect(result.errors).toBeUndefined();
    expect(result.data?.updateProductPrice.product).toEqual({ id: '8', priceCents: seedProduct(8).priceCents });
    expect(await outboxCount()).toBe(before);
    expect((await harness.client.product.findUniqueOrThrow({ where: { id: 8 } })).revision).toBe(1);
  });

  it('gives concurrent changes of one product distinct, increasing revisions in outbox order, each after the one before', async () => {
    const prices = Array.from({ length: 12 }, (_, i) => 1000 + i);
    const results = await Promise.all(prices.map((price) => harness.query(PRICE, { id: '17', price })));
    expect(results.flatMap(errorCodes)).toEqual([]);
    const events = await outbox({ aggregate: 'product:17' });
    expect(events.map((e) => e.type)).toEqual(Array(12).fill('ProductPriceChanged'));
    const payloads = events.map((e) => e.payload as { priceCents: number; previousPriceCents: number; revision: number });
    // Outbox order is revision order: 2, 3, …, 13.
    expect(payloads.map((p) => p.revision)).toEqual(Array.from({ length: 12 }, (_, i) => i + 2));
    // Each change saw the price the one before it set: the chain is unbroken from the seeded price.
    expect(payloads.map((p) => p.previousPriceCents)).toEqual([seedProduct(17).priceCents, ...payloads.slice(0, -1).map((p) => p.priceCents)]);
    expect(payloads.map((p) => p.priceCents).sort((a, b) => a - b)).toEqual(prices);
    expect(await harness.client.product.findUniqueOrThrow({ where: { id: 17 } })).toMatchObject({ priceCents: payloads.at(-1)?.priceCents, revision: 13 });
  });
});

describe('a write that fails publishes nothing', () => {
  it.each([
    ['a duplicate SKU', CREATE, { input: newProduct('sku-0002') }, ADMIN, 'CONFLICT'],
    ['bad input to createProduct', CREATE, { input: newProduct('NOT OK') }, ADMIN, 'BAD_USER_INPUT'],
    ['an unknown id', PRICE, { id: '9999', price: 100 }, ADMIN, 'NOT_FOUND'],
    ['a malformed id', PRICE, { id: 'x', price: 100 }, ADMIN, 'BAD_USER_INPUT'],
    ['a zero price', PRICE, { id: '5', price: 0 }, ADMIN, 'BAD_USER_INPUT'],
    ['a customer creating', CREATE, { input: newProduct('MINE-1') }, asUser(2), 'FORBIDDEN'],
    ['a customer changing a price', PRICE, { id: '5', price: 1 }, asUser(2), 'FORBIDDEN'],
    ['an anonymous price change', PRICE, { id: '5', price: 1 }, ANONYMOUS_CALLER, 'UNAUTHENTICATED'],
  ])('%s → %s, no event', async (_name, mutation, variables, caller, code) => {
    const before = await outboxCount();
    const product5 = await harness.client.product.findUniqueOrThrow({ where: { id: 5 } });
    const result = await harness.query(mutation, variables, caller);
    expect(errorCodes(result)).toEqual([code]);
    expect(await outboxCount()).toBe(before);
    expect(await harness.client.product.findUniqueOrThrow({ where: { id: 5 } })).toEqual(product5);
  });

  it('publishes one ProductCreated for concurrent creates of one SKU, none for the CONFLICTs', async () => {
    const before = await outboxCount();
    const results = await Promise.all(Array.from({ length: 8 }, () => harness.query(CREATE, { input: newProduct('RACE-EVENTS') })));
    expect(results.flatMap(errorCodes)).toEqual(Array(7).fill('CONFLICT'));
    const created = await outbox({ type: 'ProductCreated' });
    expect(await outboxCount()).toBe(before + 1);
    expect(created.at(-1)?.payload).toMatchObject({ sku: 'RACE-EVENTS', revision: 1 });
  });
});

describe('backfill', () => {
  it('publishes one ProductSnapshot per product with its current facts and revision, in batches', async () => {
    const before = await outboxCount();
    const rows = await harness.client.product.findMany({ orderBy: { id: 'asc' } });
    expect(rows.length).toBeGreaterThan(SEED.products);
    // 7 per batch: many batches, the last one partial.
    expect(await backfill(harness.client, 7)).toBe(rows.length);
    const snapshots = await outbox({ type: 'ProductSnapshot' });
    expect(await outboxCount()).toBe(before + rows.length);
    expect(snapshots.map(({ aggregate, payload, version }) => ({ aggregate, payload, version }))).toEqual(
      rows.map((row) => ({
        aggregate: `product:${row.id}`,
        version: 1,
        payload: { productId: row.id, sku: row.sku, name: row.name, priceCents: row.priceCents, revision: row.revision },
      })),
    );
    // The changed products carry their later revisions.
    expect(snapshots.find((e) => e.aggregate === 'product:17')?.payload).toMatchObject({ revision: 13 });
    expect(snapshots.find((e) => e.aggregate === 'product:3')?.payload).toMatchObject({ priceCents: 3100, revision: 3 });
  });

  it('is what the service definition exposes, and an exact batch multiple ends cleanly', async () => {
    const count = await harness.client.product.count();
    const before = await outboxCount();
    expect(await products.backfill?.(harness.client)).toBe(count);
    expect(await backfill(harness.client, count)).toBe(count);
    expect(await outboxCount()).toBe(before + 2 * count);
  });

  it('never puts an older revision of a product after a newer one in the outbox', async () => {
    const byAggregate = new Map<string, number[]>();
    for (const event of await outbox()) {
      const revisions = byAggregate.get(event.aggregate) ?? [];
      revisions.push((event.payload as { revision: number }).revision);
      byAggregate.set(event.aggregate, revisions);
    }
    for (const [aggregate, revisions] of byAggregate) {
      expect({ aggregate, revisions }).toEqual({ aggregate, revisions: [...revisions].sort((a, b) => a - b) });
    }
  });
});

describe('snapshot', () => {
  it('reports every product with its price and revision, in id order', async () => {
    const rows = await harness.client.product.findMany({ orderBy: { id: 'asc' } });
    const snapshot = await products.snapshot?.(harness.client);
    expect(snapshot).toEqual({ products: rows.map((row) => ({ productId: row.id, priceCents: row.priceCents, revision: row.revision })) });
    expect(snapshot).toMatchObject({ products: expect.arrayContaining([{ productId: 1, priceCents: seedProduct(1).priceCents, revision: 1 }]) });
  });
});
