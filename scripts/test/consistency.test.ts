import { describe, expect, it } from 'vitest';
import { checkConsistency, formatReport, MISMATCH_KINDS, type Mismatch, type MismatchKind, type Snapshots } from '../src/consistency/check.ts';
import { readSnapshot, SnapshotShapeError } from '../src/consistency/snapshots.ts';

/**
 * The consistency check's comparison on hand-made snapshots: a consistent graph first, then each
 * kind of mismatch made by changing one thing in it.
 */
function consistent(): Snapshots {
  return {
    products: {
      products: [
        { productId: 1, priceCents: 1000, revision: 2 },
        { productId: 2, priceCents: 500, revision: 1 },
        { productId: 3, priceCents: 700, revision: 1 },
      ],
    },
    orders: {
      orders: [
        { orderId: 10, status: 'CONFIRMED', ageSeconds: 300, items: [{ productId: 1, quantity: 2, unitPriceCents: 1000 }, { productId: 2, quantity: 1, unitPriceCents: 500 }] },
        { orderId: 11, status: 'REJECTED', ageSeconds: 300, items: [{ productId: 3, quantity: 5, unitPriceCents: 700 }] },
        { orderId: 12, status: 'CANCELLED', ageSeconds: 300, items: [{ productId: 1, quantity: 1, unitPriceCents: 1000 }] },
        { orderId: 13, status: 'PENDING', ageSeconds: 5, items: [{ productId: 2, quantity: 1, unitPriceCents: 500 }] },
        // Seeded history past the saga: no rule applies.
        { orderId: 14, status: 'PAID', ageSeconds: 90_000, items: [{ productId: 2, quantity: 3, unitPriceCents: 450 }] },
        // Cancelled before inventory decided; rejected by orders itself (nothing ever held).
        { orderId: 15, status: 'CANCELLED', ageSeconds: 300, items: [{ productId: 2, quantity: 1, unitPriceCents: 500 }] },
        { orderId: 16, status: 'REJECTED', ageSeconds: 300, items: [{ productId: 9, quantity: 1, unitPriceCents: 0 }] },
        // One product on two lines, held in one reservation: quantities are compared per product.
        { orderId: 17, status: 'CONFIRMED', ageSeconds: 300, items: [{ productId: 1, quantity: 1, unitPriceCents: 1000 }, { productId: 1, quantity: 1, unitPriceCents: 1000 }] },
      ],
      catalog: [
        { productId: 1, priceCents: 1000, revision: 2 },
        { productId: 2, priceCents: 500, revision: 1 },
        { productId: 3, priceCents: 700, revision: 1 },
      ],
    },
    inventory: {
      stock: [
        { productId: 1, stock: 10, ledger: 10 },
        { productId: 2, stock: 0, ledger: 0 },
        { productId: 3, stock: 4, ledger: 4 },
      ],
      reservations: [
        { orderId: 10, productId: 1, quantity: 2 },
        { orderId: 10, productId: 2, quantity: 1 },
        { orderId: 17, productId: 1, quantity: 2 },
      ],
      decisions: [
        { orderId: 10, outcome: 'RESERVED' },
        { orderId: 11, outcome: 'REJECTED' },
        { orderId: 12, outcome: 'RELEASED' },
        { orderId: 17, outcome: 'RESERVED' },
      ],
      catalog: [
        { productId: 1, revision: 2 },
        { productId: 2, revision: 1 },
        { productId: 3, revision: 1 },
      ],
    },
    reviews: {
      catalog: [
        { productId: 1, revision: 2 },
        { productId: 2, revision: 1 },
        { productId: 3, revision: 1 },
      ],
    },
  };
}

const check = (snapshots: Snapshots, settleSeconds = 60) => checkConsistency(snapshots, { settleSeconds });

describe('the consistency check', () => {
  it('finds nothing wrong in a consistent graph, and says what it compared', () => {
    const report = check(consistent());
    expect(report.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.counted).toEqual({
      products: 3,
      orders: 8,
      ordersNotChecked: 1,
      ordersInFlight: 1,
      reservations: 3,
      decisions: 4,
      stockRows: 3,
      replicas: { orders: 3, inventory: 3, reviews: 3 },
    });
    expect(formatReport(report)).toBe(
      'Consistent: 8 orders (1 in flight, 1 past the saga and not checked), 3 reservations, 4 decisions, stock of 3 products, ' +
        '3 products against the replicas of orders (3), inventory (3) and reviews (3).\n',
    );
  });

  const cases: { name: string; change: (s: Snapshots) => void; settleSeconds?: number; expected: Mismatch[] }[] = [
    {
      name: 'a PENDING order older than the settle time is stuck',
      change: () => {},
      settleSeconds: 0,
      expected: [{ kind: 'STUCK_PENDING', orderId: 13, message: 'order 13 is PENDING after 5 s (settle time 0 s); inventory has no decision for it' }],
    },
    {
      name: 'a CONFIRMED order inventory rejected',
      change: (s) => {
        s.inventory.decisions[0] = { orderId: 10, outcome: 'REJECTED' };
        s.inventory.reservations = s.inventory.reservations.filter((r) => r.orderId !== 10);
      },
      expected: [{ kind: 'CONFIRMED_NOT_RESERVED', orderId: 10, message: 'order 10 is CONFIRMED but inventory decided REJECTED; inventory holds nothing for it' }],
    },
    {
      name: 'a CONFIRMED order inventory never decided',
      change: (s) => {
        s.inventory.decisions = s.inventory.decisions.filter((d) => d.orderId !== 17);
      },
      expected: [{ kind: 'CONFIRMED_NOT_RESERVED', orderId: 17, message: 'order 17 is CONFIRMED but inventory has no decision for it; inventory holds product 1 × 2' }],
    },
    {
      name: 'a CONFIRMED order whose reservations differ from its items',
      change: (s) => {
        s.inventory.reservations[0] = { orderId: 10, productId: 1, quantity: 1 };
        s.inventory.reservations.push({ orderId: 10, productId: 3, quantity: 1 });
      },
      expected: [
        {
          kind: 'RESERVATION_MISMATCH',
          orderId: 10,
          message: 'order 10 is CONFIRMED but its reservations differ from its items: product 1: ordered 2, held 1; product 3: ordered 0, held 1',
        },
      ],
    },
    {
      name: 'a REJECTED order inventory holds stock for',
      change: (s) => {
        s.inventory.decisions[1] = { orderId: 11, outcome: 'RESERVED' };
        s.inventory.reservations.push({ orderId: 11, productId: 3, quantity: 5 });
      },
      expected: [{ kind: 'REJECTED_BUT_HELD', orderId: 11, message: 'order 11 is REJECTED but inventory holds product 3 × 5 (inventory decided RESERVED)' }],
    },
    {
      name: 'a CANCELLED order whose stock was never released',
      change: (s) => {
        s.inventory.reservations.push({ orderId: 12, productId: 1, quantity: 1 });
        s.inventory.decisions.push({ orderId: 15, outcome: 'RESERVED' });
      },
      expected: [
        { kind: 'CANCELLED_BUT_HELD', orderId: 12, message: 'order 12 is CANCELLED but inventory decided RELEASED; inventory holds product 1 × 1' },
        { kind: 'CANCELLED_BUT_HELD', orderId: 15, message: 'order 15 is CANCELLED but inventory still has it RESERVED; inventory holds nothing for it' },
      ],
    },
    {
      name: 'stock held for an order orders does not know',
      change: (s) => {
        s.inventory.reservations.push({ orderId: 99, productId: 2, quantity: 1 }, { orderId: 99, productId: 3, quantity: 2 });
        s.inventory.decisions.push({ orderId: 99, outcome: 'RESERVED' });
      },
      expected: [{ kind: 'UNKNOWN_ORDER', orderId: 99, message: 'inventory holds product 2 × 1, product 3 × 2 for order 99, which orders does not know' }],
    },
    {
      name: 'stock that differs from its ledger, and stock below zero',
      change: (s) => {
        s.inventory.stock[0] = { productId: 1, stock: 10, ledger: 12 };
        s.inventory.stock[1] = { productId: 2, stock: -1, ledger: -1 };
      },
      expected: [
        { kind: 'STOCK_LEDGER_MISMATCH', productId: 1, message: 'product 1: stock 10, but its ledger adds up to 12' },
        { kind: 'NEGATIVE_STOCK', productId: 2, message: 'product 2: stock -1' },
      ],
    },
    {
      name: 'a replica missing a product, and one with a product products does not have',
      change: (s) => {
        s.reviews.catalog = s.reviews.catalog.filter((p) => p.productId !== 3);
        s.inventory.catalog.push({ productId: 4, revision: 1 });
      },
      expected: [
        { kind: 'REPLICA_EXTRA', replica: 'inventory', productId: 4, message: 'the replica in inventory has product 4 (revision 1), which products does not have' },
        { kind: 'REPLICA_MISSING', replica: 'reviews', productId: 3, message: 'the replica in reviews has no product 3 (products has it at revision 1)' },
      ],
    },
    {
      name: 'a lagging replica (its older price is not reported twice), and one ahead of the owner',
      change: (s) => {
        s.orders.catalog[0] = { productId: 1, priceCents: 900, revision: 1 };
        s.reviews.catalog[1] = { productId: 2, revision: 2 };
      },
      expected: [
        { kind: 'REPLICA_LAGGING', replica: 'orders', productId: 1, message: 'the replica in orders has product 1 at revision 1, products at revision 2' },
        { kind: 'REPLICA_AHEAD', replica: 'reviews', productId: 2, message: "the replica in reviews has product 2 at revision 2, ahead of products' revision 1" },
      ],
    },
    {
      name: 'a replica price that differs at the same revision',
      change: (s) => {
        s.orders.catalog[2] = { productId: 3, priceCents: 650, revision: 1 };
      },
      expected: [
        { kind: 'REPLICA_PRICE_MISMATCH', replica: 'orders', productId: 3, message: 'the replica in orders prices product 3 at 650 cents, products at 700 cents (both revision 1)' },
      ],
    },
  ];

  it.each(cases)('reports $name', ({ change, settleSeconds, expected }) => {
    const snapshots = consistent();
    change(snapshots);
    const report = check(snapshots, settleSeconds);
    expect(report.ok).toBe(false);
    expect(report.mismatches).toEqual(expected);
  });

  it('has a case above for every kind of mismatch', () => {
    const covered = new Set(cases.flatMap((c) => c.expected.map((m) => m.kind)));
    expect([...covered].sort()).toEqual((Object.keys(MISMATCH_KINDS) as MismatchKind[]).sort());
  });

  it('prints every mismatch under its kind, and the total', () => {
    const snapshots = consistent();
    snapshots.inventory.stock[0] = { productId: 1, stock: 10, ledger: 12 };
    snapshots.orders.catalog[0] = { productId: 1, priceCents: 900, revision: 1 };
    // inventory keeps existence only (it receives no price changes): an older revision is not lag.
    snapshots.inventory.catalog[0] = { productId: 1, revision: 1 };
    expect(formatReport(check(snapshots))).toBe(
      [
        'STOCK_LEDGER_MISMATCH (1): stock on hand differs from the sum of its ledger',
        '  product 1: stock 10, but its ledger adds up to 12',
        'REPLICA_LAGGING (1): a replica behind products’ revision',
        '  the replica in orders has product 1 at revision 1, products at revision 2',
        '',
        '2 mismatches in 8 orders (1 in flight, 1 past the saga and not checked), 3 reservations, 4 decisions, stock of 3 products, ' +
          '3 products against the replicas of orders (3), inventory (3) and reviews (3).',
        '',
      ].join('\n'),
    );
  });
});

describe('reading a service’s snapshot answer', () => {
  it('takes a well-formed answer as it is', () => {
    const snapshot = consistent().inventory;
    expect(readSnapshot('inventory', { service: 'inventory', snapshot })).toEqual(snapshot);
  });

  it('names the first field that does not fit, and an answer from another service', () => {
    const orders = consistent().orders;
    (orders.orders[1]!.items[0] as { quantity: unknown }).quantity = '5';
    expect(() => readSnapshot('orders', { service: 'orders', snapshot: orders })).toThrow(new SnapshotShapeError('orders[1].items[0].quantity: expected an integer, got "5"'));
    expect(() => readSnapshot('inventory', { service: 'inventory', snapshot: { ...consistent().inventory, decisions: [{ orderId: 1, outcome: 'MAYBE' }] } })).toThrow(
      'decisions[0].outcome: expected RESERVED, REJECTED or RELEASED, got "MAYBE"',
    );
    expect(() => readSnapshot('reviews', { service: 'reviews', snapshot: {} })).toThrow('catalog: expected a list');
    expect(() => readSnapshot('products', { service: 'orders', snapshot: consistent().orders })).toThrow('the answer is from "orders", not products');
  });
});
