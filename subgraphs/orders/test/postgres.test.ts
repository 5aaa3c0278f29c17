import type { Database } from '@commerce/db';
import { postgresAdminUrl } from '@commerce/db/testing';
import { randomUUID } from 'node:crypto';
import { createReceiver, seedProductPriceCents } from '@commerce/service-kit';
import { asUser, errorCodes, postgresSubgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { orders } from '../src/server.ts';

// PGlite is one connection and runs transactions one after another: concurrent placeOrder calls
// with one key really racing on the unique index, and concurrent cancels on the conditional
// update, are only tested here, on a PostgreSQL server with a pool, as the app role.
if (!postgresAdminUrl) console.warn('postgres.test.ts: TEST_POSTGRES_ADMIN_URL is not set; the PostgreSQL tests of orders are skipped');

describe.skipIf(!postgresAdminUrl)('orders on PostgreSQL', () => {
  let harness: SubgraphHarness<PrismaClient, Database>;
  let client: PrismaClient;

  beforeAll(async () => {
    harness = await postgresSubgraphHarness(orders, postgresAdminUrl!, { pool: 10 });
    client = harness.client;
  });

  afterAll(async () => {
    await harness?.close();
  });

  const run = (userId: number, query: string, variables: Record<string, unknown>) => harness.query(query, variables, asUser(userId));
  const place = (userId: number, key: string, items: { productId: string; quantity: number }[]) =>
    run(userId, `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id status totalCents } } }`, { input: { items, idempotencyKey: key } });
  const events = (aggregate: string) => client.outboxEvent.findMany({ where: { aggregate }, orderBy: { seq: 'asc' }, select: { type: true } });

  it('places one order for 30 concurrent requests with one key: the unique index decides, everyone gets the winner', async () => {
    const results = await Promise.all(Array.from({ length: 30 }, () => place(90, 'pg-race', [{ productId: '3', quantity: 2 }])));
    expect(results.flatMap(errorCodes)).toEqual([]);
    const ids = new Set(results.map((result) => result.data?.placeOrder.order.id));
    expect(ids.size).toBe(1);
    expect(results[0]?.data?.placeOrder.order).toMatchObject({ status: 'PENDING', totalCents: 2 * seedProductPriceCents(3) });
    expect(await client.order.count({ where: { userId: 90 } })).toBe(1);
    expect(await events(`order:${[...ids][0]}`)).toEqual([{ type: 'OrderPlaced' }]);
  });

  it('answers CONFLICT, not an internal error, to the losers that sent other items with the key', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => place(91, 'pg-mixed', [{ productId: '4', quantity: i % 2 === 0 ? 1 : 2 }])),
    );
    const codes = results.map((result) => errorCodes(result)[0] ?? 'OK');
    expect(codes.filter((code) => code !== 'OK' && code !== 'CONFLICT')).toEqual([]);
    expect(await client.order.count({ where: { userId: 91 } })).toBe(1);
    const [order] = await client.order.findMany({ where: { userId: 91 }, include: { items: true } });
    // Every request with the winner's items got the winner; every other one a CONFLICT.
    const winnerQuantity = order!.items[0]!.quantity;
    expect(codes).toEqual(Array.from({ length: 20 }, (_, i) => ((i % 2 === 0 ? 1 : 2) === winnerQuantity ? 'OK' : 'CONFLICT')));
  });

  it('publishes one OrderCancelled for 20 concurrent cancels', async () => {
    const placed = await place(92, 'pg-cancel', [{ productId: '5', quantity: 1 }]);
    const id = placed.data?.placeOrder.order.id as string;
    const results = await Promise.all(Array.from({ length: 20 }, () => run(92, `mutation($id: ID!) { cancelOrder(id: $id) { order { status } } }`, { id })));
    expect(results.flatMap(errorCodes)).toEqual([]);
    expect(results.map((result) => result.data?.cancelOrder.order.status)).toEqual(Array(20).fill('CANCELLED'));
    expect(await events(`order:${id}`)).toEqual([{ type: 'OrderPlaced' }, { type: 'OrderCancelled' }]);
  });

  it('publishes one OrderStatusChanged for 10 concurrent StockReserved answers about one order (the conditional update decides)', async () => {
    const placed = await place(93, 'pg-settle', [{ productId: '6', quantity: 1 }]);
    const orderId = Number(placed.data?.placeOrder.order.id);
    const receive = createReceiver(harness.database.sql, orders.eventHandlers!);
    // Ten deliveries under ten event ids (a publisher that published twice): the inbox cannot tell them apart.
    const receipts = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        receive(
          { id: randomUUID(), source: 'inventory', type: 'StockReserved', version: 1, aggregate: `order:${orderId}`, sequence: i + 1, occurredAt: new Date().toISOString(), payload: { orderId, items: [{ productId: 6, quantity: 1 }] } },
          { attempt: 1, maxAttempts: 5 },
        ),
      ),
    );
    expect(receipts).toEqual(Array(10).fill({ outcome: 'handled' }));
    expect((await client.order.findUniqueOrThrow({ where: { id: orderId } })).status).toBe('CONFIRMED');
    expect(await events(`order:${orderId}`)).toEqual([{ type: 'OrderPlaced' }, { type: 'OrderStatusChanged' }]);
  });
});
