import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './eventually.ts';
import type { Caller, Supergraph } from './supergraph.ts';

/**
 * Placing orders across private databases, through the router, with the real event backbone
 * between the services (HTTP pushes or JetStream, PGlite or PostgreSQL: the caller decides).
 * Every scenario ends by running `npm run consistency`'s command against the running services
 * and expecting no mismatch.
 */
export interface OrderFlowOptions {
  /** Restart the broker mid-test (JetStream runs only). */
  restartBroker?: () => Promise<void>;
}

const CONSISTENCY = fileURLToPath(new URL('../../../scripts/src/consistency.ts', import.meta.url));
const ADMIN: Caller = { userId: 1 };
const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id status reason totalCents items { quantity unitPriceCents product { id } } } } }`;
const CANCEL = `mutation($id: ID!) { cancelOrder(id: $id) { order { id status } } }`;
const ORDER = `query($id: ID!) { order(id: $id) { id status reason totalCents } }`;

export function defineOrderFlowSuite(title: string, start: () => Promise<Supergraph>, options: OrderFlowOptions & { skip?: boolean } = {}) {
  // Generous: a busy 2-core CI machine runs these while other packages' suites run too, and a
  // broker restart takes its reconnects and retries (measured 12 s alone, 30+ s under load).
  describe.skipIf(options.skip ?? false)(title, { timeout: 120_000 }, () => {
    let graph: Supergraph;
    let nextSku = 0;

    beforeAll(async () => {
      graph = await start();
    });
    afterAll(() => graph?.close());

    /** A new product with `stock` units, known to every replica once its event is delivered. */
    async function newProduct(stock: number, priceCents = 1_000): Promise<string> {
      const sku = `FLOW-${process.pid}-${++nextSku}`;
      const created = await graph.query(
        `mutation($input: CreateProductInput!) { createProduct(input: $input) { product { id } } }`,
        { input: { sku, name: `Flow ${nextSku}`, description: '', priceCents, weightGrams: 100, category: 'TOYS' } },
        ADMIN,
      );
      expect(created.errors).toBeUndefined();
      const id = created.data?.createProduct.product.id as string;
      await graph.settle();
      if (stock > 0) {
        const restocked = await graph.query(`mutation($id: ID!, $q: Int!) { restock(productId: $id, quantity: $q) { product { stock } } }`, { id, q: stock }, ADMIN);
        expect(restocked.errors).toBeUndefined();
      }
      return id;
    }

    const place = (userId: number, items: { productId: string; quantity: number }[], idempotencyKey = randomUUID()) =>
      graph.query(PLACE, { input: { items, idempotencyKey } }, { userId });

    /**
     * Waits (reading orders' own database, one cheap count at a time) until none of these orders is
     * PENDING, then reads each one's final state through the router as its owner would.
     */
    async function finalStates(orders: readonly { id: string; userId: number }[]): Promise<{ status: string; reason: string | null; totalCents: number }[]> {
      const ids = orders.map((order) => Number(order.id));
      await eventually(() => graph.client('orders').order.count({ where: { id: { in: ids }, status: 'PENDING' } }), (pending) => pending === 0, 60_000);
      // Twenty at a time: two hundred at once is a load test of embedded PGlite, not this check.
      const states = [];
      for (let i = 0; i < orders.length; i += 20) {
        const answers = await Promise.all(orders.slice(i, i + 20).map((order) => graph.query(ORDER, { id: order.id }, { userId: order.userId })));
        for (const answer of answers) {
          expect(answer.errors, JSON.stringify(answer.errors)).toBeUndefined();
          states.push(answer.data?.order);
        }
      }
      return states;
    }

    const finalStatus = async (id: string, userId: number) => (await finalStates([{ id, userId }]))[0]!;

    async function stockOf(productId: string): Promise<number> {
      return (await graph.query(`query($id: ID!) { product(id: $id) { stock } }`, { id: productId })).data?.product.stock;
    }

    /** Runs the operator's consistency command against the running services; it must find nothing. */
    async function expectConsistent() {
      await graph.settle();
      const { secrets, endpoints } = graph.eventAccess();
      const env: Record<string, string> = { PATH: process.env.PATH ?? '', NODE_ENV: 'test' };
      for (const [name, url] of endpoints) env[`SUBGRAPH_${name.toUpperCase()}_URL`] = url;
      for (const [name, secret] of secrets) env[`${name.toUpperCase()}_EVENTS_SECRET`] = secret;
      const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, [CONSISTENCY, '--settle-seconds', '0', '--json'], { env });
        let out = '';
        child.stdout.on('data', (chunk) => (out += chunk));
        child.stderr.on('data', (chunk) => (out += chunk));
        child.on('close', (code) => resolve({ code, out }));
      });
      expect(run.out, run.out.slice(0, 3_000)).not.toMatch(/"mismatches":\s*\[\s*\{/);
      expect(run.code, run.out).toBe(0);
    }

    it('confirms exactly as many one-unit orders as there is stock: 200 concurrent orders for 10 units', async () => {
      const productId = await newProduct(10);
      const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => place(2 + (i % 40), [{ productId, quantity: 1 }])));
      expect(answers.filter((a) => a.errors)).toEqual([]);
      expect(new Set(answers.map((a) => a.data?.placeOrder.order.status))).toEqual(new Set(['PENDING']));
      const finals = await finalStates(answers.map((a, i) => ({ id: a.data?.placeOrder.order.id, userId: 2 + (i % 40) })));
      const tally = JSON.stringify(Object.entries(Object.groupBy(finals, (f) => `${f.status} ${f.reason?.split(':')[0] ?? ''}`)).map(([k, v]) => [k, v?.length]));
      expect(finals.filter((f) => f.status === 'CONFIRMED'), tally).toHaveLength(10);
      expect(finals.filter((f) => f.status === 'REJECTED')).toHaveLength(190);
      expect(finals.filter((f) => f.status === 'REJECTED').every((f) => f.reason?.startsWith('INSUFFICIENT_STOCK'))).toBe(true);
      expect(await stockOf(productId)).toBe(0);
      await expectConsistent();
    });

    it('rejects a multi-item order with one item short, and changes no item’s stock', async () => {
      const plenty = await newProduct(50);
      const scarce = await newProduct(1);
      const answer = await place(3, [
        { productId: plenty, quantity: 5 },
        { productId: scarce, quantity: 2 },
      ]);
      const final = await finalStatus(answer.data?.placeOrder.order.id, 3);
      expect(final.status).toBe('REJECTED');
      expect(final.reason).toMatch(new RegExp(`^INSUFFICIENT_STOCK.*${scarce}`));
      expect([await stockOf(plenty), await stockOf(scarce)]).toEqual([50, 1]);
      await expectConsistent();
    });

    it('prices from the catalogue: a price change reaches orders, and the next order uses it', async () => {
      const productId = await newProduct(100, 1_500);
      const first = await place(4, [{ productId, quantity: 2 }]);
      expect(first.data?.placeOrder.order.totalCents).toBe(3_000);
      const changed = await graph.query(`mutation($id: ID!) { updateProductPrice(id: $id, priceCents: 2_099) { product { priceCents } } }`.replace('2_099', '2099'), { id: productId }, ADMIN);
      expect(changed.errors).toBeUndefined();
      await graph.settle();
      const second = await place(4, [{ productId, quantity: 2 }]);
      expect(second.data?.placeOrder.order.items).toEqual([{ quantity: 2, unitPriceCents: 2_099, product: { id: productId } }]);
      expect(second.data?.placeOrder.order.totalCents).toBe(4_198);
      await expectConsistent();
    });

    it('answers a replayed idempotency key with the same order, cancels once, and refuses to cancel a rejected order', async () => {
      const productId = await newProduct(5);
      const key = randomUUID();
      const [a, b] = await Promise.all([place(5, [{ productId, quantity: 1 }], key), place(5, [{ productId, quantity: 1 }], key)]);
      expect(a.data?.placeOrder.order.id).toBe(b.data?.placeOrder.order.id);
      const orderId = a.data?.placeOrder.order.id as string;
      expect((await finalStatus(orderId, 5)).status).toBe('CONFIRMED');
      expect(await stockOf(productId)).toBe(4);
      const cancelled = await graph.query(CANCEL, { id: orderId }, { userId: 5 });
      expect(cancelled.data?.cancelOrder.order.status).toBe('CANCELLED');
      const again = await graph.query(CANCEL, { id: orderId }, { userId: 5 });
      expect(again.errors).toBeUndefined();
      expect(again.data?.cancelOrder.order.status).toBe('CANCELLED');
      await eventually(() => stockOf(productId), (stock) => stock === 5);
      const rejected = await place(5, [{ productId, quantity: 99 }]);
      expect((await finalStatus(rejected.data?.placeOrder.order.id, 5)).status).toBe('REJECTED');
      const refused = await graph.query(CANCEL, { id: rejected.data?.placeOrder.order.id }, { userId: 5 });
      expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['CONFLICT']);
      await expectConsistent();
    });

    it('rejects an unknown product, and refuses bad quantities with BAD_USER_INPUT', async () => {
      const unknown = await place(6, [{ productId: '99999', quantity: 1 }]);
      expect(unknown.data?.placeOrder.order).toMatchObject({ status: 'REJECTED', reason: expect.stringMatching(/^UNKNOWN_PRODUCT/) });
      const productId = await newProduct(5);
      for (const quantity of [0, -1, 101]) {
        const answer = await place(6, [{ productId, quantity }]);
        expect(answer.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
        expect(answer.errors?.[0]?.extensions?.field).toBe('input.items[0].quantity');
      }
      await expectConsistent();
    });

    it('settles every order once inventory is back after being down while orders were in flight', async () => {
      const productId = await newProduct(20);
      await graph.stop('inventory');
      let placed: { id: string; userId: number }[] = [];
      try {
        const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => place(10 + (i % 5), [{ productId, quantity: 1 }])));
        expect(answers.filter((a) => a.errors)).toEqual([]);
        placed = answers.map((a, i) => ({ id: a.data?.placeOrder.order.id, userId: 10 + (i % 5) }));
        // Nothing can be decided while inventory is away.
        expect((await graph.query(ORDER, { id: placed[0]!.id }, { userId: placed[0]!.userId })).data?.order.status).toBe('PENDING');
      } finally {
        await graph.restart('inventory');
      }
      const finals = await finalStates(placed);
      expect(finals.filter((f) => f.status === 'CONFIRMED')).toHaveLength(20);
      expect(finals.filter((f) => f.status === 'REJECTED')).toHaveLength(10);
      expect(await stockOf(productId)).toBe(0);
      await expectConsistent();
    });

    it('delivers the command of an order written just before orders stopped, once, after it starts again', async () => {
      const productId = await newProduct(3);
      // Orders' relay waits a minute between looks: the order is written, its command is not sent.
      await graph.stop('orders');
      await graph.restart('orders', { pollMs: 60_000 });
      const answer = await place(7, [{ productId, quantity: 2 }]);
      const orderId = answer.data?.placeOrder.order.id as string;
      await graph.stop('orders');
      await graph.restart('orders');
      expect((await finalStatus(orderId, 7)).status).toBe('CONFIRMED');
      expect(await stockOf(productId)).toBe(1);
      await expectConsistent();
    });

    it.skipIf(!options.restartBroker)('settles every order across a restart of the broker', async () => {
      const productId = await newProduct(10);
      const before = await Promise.all(Array.from({ length: 10 }, () => place(8, [{ productId, quantity: 1 }])));
      await options.restartBroker!();
      const after = await Promise.all(Array.from({ length: 10 }, () => place(8, [{ productId, quantity: 1 }])));
      const finals = await finalStates([...before, ...after].map((a) => ({ id: a.data?.placeOrder.order.id, userId: 8 })));
      expect(finals.filter((f) => f.status === 'CONFIRMED')).toHaveLength(10);
      expect(finals.filter((f) => f.status === 'REJECTED')).toHaveLength(10);
      expect(await stockOf(productId)).toBe(0);
      await expectConsistent();
    });
  });
}
