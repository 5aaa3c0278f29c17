import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cacheInvalidatingEvents, changedEntities, checkEnvelope, EVENT_CATALOG, type EntityRef, type EventEnvelope } from '../src/index.ts';

/**
 * What each event tells the router's entity cache: the supergraph entities whose data it changes
 * (`changes` in the catalogue). Every contract of the catalogue is listed here, so a new event
 * cannot be added without saying whether, and which, entities it changes.
 */
const product = (productId: number) => ({ productId, sku: `SKU-${productId}`, name: `Product ${productId}`, priceCents: 250, revision: 2 });
const items = [
  { productId: 3, quantity: 1 },
  { productId: 5, quantity: 2 },
  { productId: 3, quantity: 4 },
];

/** An envelope as a receiver has it after `checkEnvelope`. */
function checked(source: string, type: string, payload: unknown): EventEnvelope {
  const check = checkEnvelope({ id: randomUUID(), source, type, version: 1, aggregate: 'test:1', sequence: 1, occurredAt: new Date().toISOString(), payload });
  if (!check.ok) throw new Error(check.reason);
  return check.envelope;
}

const CASES: [event: string, payload: unknown, changed: EntityRef[]][] = [
  // A new user: every page of users may now be missing them.
  ['accounts.UserCreated', { userId: 12 }, [{ type: 'User', id: '12', created: true }]],
  ['products.ProductCreated', product(7), [{ type: 'Product', id: '7', created: true }]],
  ['products.ProductPriceChanged', { ...product(7), previousPriceCents: 300 }, [{ type: 'Product', id: '7' }]],
  ['products.ProductSnapshot', product(8), [{ type: 'Product', id: '8' }]],
  // The order, and its customer's list of orders.
  ['orders.OrderPlaced', { orderId: 1, userId: 2, items }, [{ type: 'Order', id: '1' }, { type: 'User', id: '2' }]],
  ['orders.OrderCancelled', { orderId: 1, userId: 2 }, [{ type: 'Order', id: '1' }, { type: 'User', id: '2' }]],
  ['orders.OrderStatusChanged', { orderId: 1, userId: 2, status: 'CONFIRMED' }, [{ type: 'Order', id: '1' }, { type: 'User', id: '2' }]],
  ['orders.OrderStatusChanged', { orderId: 3, userId: 4, status: 'REJECTED', reason: 'INSUFFICIENT_STOCK: product 3 has 0 left, 1 asked' }, [{ type: 'Order', id: '3' }, { type: 'User', id: '4' }]],
  // Each product once, however many lines of the order it is on.
  ['inventory.StockReserved', { orderId: 1, items }, [{ type: 'Product', id: '3' }, { type: 'Product', id: '5' }]],
  ['inventory.StockRejected', { orderId: 1, reason: 'INSUFFICIENT_STOCK', productId: 3, message: 'product 3 has 0 left, 1 asked' }, []],
  ['inventory.StockReleased', { orderId: 1, items }, [{ type: 'Product', id: '3' }, { type: 'Product', id: '5' }]],
  ['inventory.StockReleased', { orderId: 1, items: [] }, []],
  ['inventory.StockChanged', { productId: 9, stock: 0 }, [{ type: 'Product', id: '9' }]],
  ['reviews.ReviewAdded', { reviewId: 501, productId: 4, authorId: 2, rating: 5 }, [{ type: 'Product', id: '4' }, { type: 'User', id: '2' }]],
];

describe('changedEntities', () => {
  it.each(CASES)('%s → %j', (event, payload, changed) => {
    const [source, type] = event.split('.') as [string, string];
    expect(changedEntities(checked(source, type, payload))).toEqual(changed);
  });

  it('covers every contract of the catalogue', () => {
    const contracts = Object.entries(EVENT_CATALOG).flatMap(([source, events]) => Object.keys(events).map((type) => `${source}.${type}`));
    expect(new Set(CASES.map(([event]) => event))).toEqual(new Set(contracts));
  });

  it('is empty for an event outside the catalogue', () => {
    expect(changedEntities({ id: randomUUID(), source: 'nobody', type: 'Nothing', version: 1, aggregate: 'x', sequence: 1, occurredAt: new Date().toISOString(), payload: {} })).toEqual([]);
  });
});

describe('cacheInvalidatingEvents', () => {
  it('names every event whose contract declares changes, and no other', () => {
    expect(cacheInvalidatingEvents().sort()).toEqual(
      [
        'accounts.UserCreated',
        'products.ProductCreated',
        'products.ProductPriceChanged',
        'products.ProductSnapshot',
        'orders.OrderPlaced',
        'orders.OrderCancelled',
        'orders.OrderStatusChanged',
        'inventory.StockReserved',
        'inventory.StockReleased',
        'inventory.StockChanged',
        'reviews.ReviewAdded',
      ].sort(),
    );
  });
});

describe('the new contracts', () => {
  it.each([
    ['accounts', 'UserCreated', { userId: 0 }, 'userId'],
    ['accounts', 'UserCreated', { userId: 3, email: 'no@example.com' }, 'email'],
    ['inventory', 'StockChanged', { productId: 9, stock: -1 }, 'stock'],
    ['inventory', 'StockChanged', { productId: 9, stock: 1.5 }, 'stock'],
    ['inventory', 'StockChanged', { productId: '9', stock: 1 }, 'productId'],
    ['reviews', 'ReviewAdded', { reviewId: 1, productId: 4, authorId: 2, rating: 6 }, 'rating'],
    ['reviews', 'ReviewAdded', { reviewId: 1, productId: 4, authorId: 0, rating: 3 }, 'authorId'],
    ['reviews', 'ReviewAdded', { reviewId: 1, productId: 4, authorId: 2, rating: 3, body: 'no bodies' }, 'body'],
    ['orders', 'OrderStatusChanged', { orderId: 1, userId: 2, status: 'PENDING' }, 'status'],
    ['orders', 'OrderStatusChanged', { orderId: 1, status: 'CONFIRMED' }, 'userId'],
    ['orders', 'OrderStatusChanged', { orderId: 1, userId: 2, status: 'REJECTED', reason: '' }, 'reason'],
    ['orders', 'OrderStatusChanged', { orderId: 1, userId: 2, status: 'CONFIRMED', items: [] }, 'items'],
  ])('refuse %s.%s %j (%s)', (source, type, payload, field) => {
    const check = checkEnvelope({ id: randomUUID(), source, type, version: 1, aggregate: 'x', sequence: 1, occurredAt: new Date().toISOString(), payload });
    expect(check.ok).toBe(false);
    expect(!check.ok && check.reason).toContain(field);
  });
});
