import { ADMIN, errorCodes, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { seedStock } from '../src/seed.ts';
import { inventory } from '../src/server.ts';

/**
 * restock tells the router's entity cache what changed: StockChanged with the new stock, written in
 * the transaction that changes it. Its own database: these tests count every event in the outbox.
 */
let harness: SubgraphHarness<PrismaClient>;

beforeAll(async () => {
  harness = await subgraphHarness(inventory, { viewer: ADMIN });
});
afterAll(() => harness?.close());

const RESTOCK = `mutation($id: ID!, $q: Int!) { restock(productId: $id, quantity: $q) { product { id stock } } }`;
const restock = (productId: number | string, quantity: number) => harness.query(RESTOCK, { id: String(productId), q: quantity });

/** The events of one product in the outbox, in publication order. */
async function stockEvents(productId: number) {
  const rows = await harness.client.outboxEvent.findMany({ where: { aggregate: `product:${productId}` }, orderBy: { seq: 'asc' } });
  return rows.map(({ source, type, version, payload }) => ({ source, type, version, payload }));
}
const outboxCount = () => harness.client.outboxEvent.count();
const stockOf = async (productId: number) => (await harness.client.inventoryItem.findUnique({ where: { productId } }))?.stock;
const ledgerOf = (productId: number) => harness.client.stockMovement.count({ where: { productId } });

describe('restock publishes StockChanged', () => {
  it('once, with the new stock, for the product, in the transaction of the change', async () => {
    const before = await outboxCount();
    const result = await restock(1, 5);
    expect(result.errors).toBeUndefined();
    expect(result.data?.restock.product).toEqual({ id: '1', stock: seedStock(1) + 5 });
    expect(await outboxCount()).toBe(before + 1);
    expect(await stockEvents(1)).toEqual([{ source: 'inventory', type: 'StockChanged', version: 1, payload: { productId: 1, stock: seedStock(1) + 5 } }]);
  });

  it('in the order of the stock levels it set, under concurrent restocks of one product', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => restock(2, 1)));
    expect(results.flatMap(errorCodes)).toEqual([]);
    const stocks = (await stockEvents(2)).map((event) => (event.payload as { stock: number }).stock);
    expect(stocks).toEqual(Array.from({ length: 20 }, (_, i) => seedStock(2) + i + 1));
    expect(await stockOf(2)).toBe(stocks.at(-1));
  });

  it.each([
    ['an unknown product', 5000, 1, 'NOT_FOUND'],
    ['a quantity over the bound', 3, 100_001, 'BAD_USER_INPUT'],
    ['a malformed id', 'x', 1, 'BAD_USER_INPUT'],
  ])('not for %s (%s)', async (_name, productId, quantity, code) => {
    const before = await outboxCount();
    expect(errorCodes(await restock(productId, quantity))).toEqual([code]);
    expect(await outboxCount()).toBe(before);
  });

  it('not when the cap refuses the restock, and the stock stays', async () => {
    await harness.client.inventoryItem.update({ where: { productId: 4 }, data: { stock: 999_999 } });
    const before = await outboxCount();
    expect(errorCodes(await restock(4, 2))).toEqual(['BAD_USER_INPUT']);
    expect(await outboxCount()).toBe(before);
    expect(await stockOf(4)).toBe(999_999);
  });

  it('rolled back with the stock change when the event cannot be written, and written with it once it can', async () => {
    // The outbox refuses every insert: the restock fails, and its stock change and ledger row go with it.
    await harness.client.$executeRawUnsafe(`CREATE FUNCTION refuse_events() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'outbox unavailable'; END $$`);
    await harness.client.$executeRawUnsafe(`CREATE TRIGGER refuse_events BEFORE INSERT ON outbox_events FOR EACH ROW EXECUTE FUNCTION refuse_events()`);
    const [stock, ledger, events] = [await stockOf(5), await ledgerOf(5), await outboxCount()];
    try {
      expect(errorCodes(await restock(5, 7))).toEqual(['INTERNAL_SERVER_ERROR']);
      expect([await stockOf(5), await ledgerOf(5), await outboxCount()]).toEqual([stock, ledger, events]);
    } finally {
      await harness.client.$executeRawUnsafe('DROP TRIGGER refuse_events ON outbox_events');
      await harness.client.$executeRawUnsafe('DROP FUNCTION refuse_events()');
    }
    expect((await restock(5, 7)).errors).toBeUndefined();
    expect([await stockOf(5), await ledgerOf(5), await outboxCount()]).toEqual([stock! + 7, ledger + 1, events + 1]);
    expect((await stockEvents(5)).map((event) => event.payload)).toEqual([{ productId: 5, stock: stock! + 7 }]);
  });
});
