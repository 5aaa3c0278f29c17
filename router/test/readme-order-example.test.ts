// The README's "Placing an order", verbatim, on a fresh supergraph (seed data, events pushed over
// HTTP): user 4's order answers at once PENDING with the prices shown, then CONFIRMED; an order of
// product 10 (out of stock) ends REJECTED with the reason shown; cancelling the first releases
// its stock, cancelling the second is the CONFLICT shown; and `npm run consistency` then prints
// the line the README quotes.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './support/eventually.ts';
import { startSupergraph, type Supergraph } from './support/supergraph.ts';

const CONSISTENCY = fileURLToPath(new URL('../../scripts/src/consistency.ts', import.meta.url));
const USER_4 = { userId: 4 };

const PLACE = `mutation {
  placeOrder(input: { items: [{ productId: "1", quantity: 2 }, { productId: "7", quantity: 1 }], idempotencyKey: "4f9c0f5e-order-1" }) {
    order { id status totalCents items { quantity unitPriceCents product { name } } }
  }
}`;
const STATUS = 'query($id: ID!) { order(id: $id) { id status reason } }';

describe("the README's order example", { timeout: 120_000 }, () => {
  let graph: Supergraph;

  beforeAll(async () => {
    graph = await startSupergraph();
  });
  afterAll(() => graph?.close());

  async function settled(id: string) {
    return eventually(
      async () => (await graph.query(STATUS, { id }, USER_4)).data?.order as { id: string; status: string; reason: string | null },
      (order) => order.status !== 'PENDING',
      30_000,
    );
  }

  it('places order 151 PENDING, priced from the replica, and it becomes CONFIRMED', async () => {
    const placed = await graph.query(PLACE, undefined, USER_4);
    expect(placed.errors).toBeUndefined();
    expect(placed.data).toEqual({
      placeOrder: {
        order: {
          id: '151',
          status: 'PENDING',
          totalCents: 29797,
          items: [
            { quantity: 2, unitPriceCents: 13599, product: { name: 'Classic Novel' } },
            { quantity: 1, unitPriceCents: 2599, product: { name: 'Compact Headphones' } },
          ],
        },
      },
    });
    expect(await settled('151')).toEqual({ id: '151', status: 'CONFIRMED', reason: null });
  });

  it('places order 152 of product 10 the same way, and it ends REJECTED with the reason shown', async () => {
    const placed = await graph.query(
      'mutation { placeOrder(input: { items: [{ productId: "10", quantity: 1 }], idempotencyKey: "4f9c0f5e-order-2" }) { order { id status } } }',
      undefined,
      USER_4,
    );
    expect(placed.errors).toBeUndefined();
    expect(placed.data?.placeOrder.order.id).toBe('152');
    expect(await settled('152')).toEqual({ id: '152', status: 'REJECTED', reason: 'INSUFFICIENT_STOCK: product 10 has 0 left, 1 asked' });
  });

  it('cancels 151 (inventory releases both items) and refuses to cancel 152 with the CONFLICT shown', async () => {
    const stockBefore = (await graph.query('{ a: product(id: "1") { stock } b: product(id: "7") { stock } }')).data;
    const cancelled = await graph.query('mutation { cancelOrder(id: "151") { order { status } } }', undefined, USER_4);
    expect(cancelled.data).toEqual({ cancelOrder: { order: { status: 'CANCELLED' } } });
    await graph.settle();
    await eventually(
      async () => (await graph.query('{ a: product(id: "1") { stock } b: product(id: "7") { stock } }')).data as { a: { stock: number }; b: { stock: number } },
      (stock) => stock.a.stock === stockBefore?.a.stock + 2 && stock.b.stock === stockBefore?.b.stock + 1,
      30_000,
    );

    const refused = await graph.query('mutation { cancelOrder(id: "152") { order { status } } }', undefined, USER_4);
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors![0]).toMatchObject({
      message: 'Order 152 was rejected, and a rejected order cannot be cancelled: nothing was reserved for it',
      extensions: { code: 'CONFLICT' },
    });
  });

  it('then `npm run consistency` prints the line the README quotes', async () => {
    await graph.settle();
    const { secrets, endpoints } = graph.eventAccess();
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', NODE_ENV: 'test' };
    for (const [name, url] of endpoints) env[`SUBGRAPH_${name.toUpperCase()}_URL`] = url;
    for (const [name, secret] of secrets) env[`${name.toUpperCase()}_EVENTS_SECRET`] = secret;
    const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [CONSISTENCY], { env });
      let out = '';
      child.stdout.on('data', (chunk) => (out += chunk));
      child.stderr.on('data', (chunk) => (out += chunk));
      child.on('close', (code) => resolve({ code, out }));
    });
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain(
      'Consistent: 152 orders (0 in flight, 142 past the saga and not checked), 0 reservations, 2 decisions, stock of 200 products, 200 products against the replicas of orders (200), inventory (200) and reviews (200).',
    );
  });
});
