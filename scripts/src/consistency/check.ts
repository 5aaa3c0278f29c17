// The consistency check's comparison: what each service reports of its own rows (its snapshot),
// compared across services. Pure: no I/O, so tests give it hand-made snapshots. The services'
// databases are never read by anyone but their owner; the snapshots come over their internal routes.
import { subscriptionsOf, type InventorySnapshot, type OrdersSnapshot, type ProductsSnapshot, type ReplicaProduct, type ReviewsSnapshot } from '@commerce/service-kit';

/** Whether a replica receives every event that moves a product's revision on (so it must be at that revision). */
function followsEveryChange(replica: string): boolean {
  const subscribed = subscriptionsOf(replica);
  return ['products.ProductCreated', 'products.ProductPriceChanged'].every((type) => subscribed.includes(type));
}

export interface Snapshots {
  products: ProductsSnapshot;
  orders: OrdersSnapshot;
  inventory: InventorySnapshot;
  reviews: ReviewsSnapshot;
}

/** Every way the services can disagree, one code each (stable: `--json` consumers match on them). */
export const MISMATCH_KINDS = {
  STUCK_PENDING: 'an order still PENDING after the settle time: the saga did not finish',
  CONFIRMED_NOT_RESERVED: 'a CONFIRMED order inventory did not decide RESERVED',
  RESERVATION_MISMATCH: 'a CONFIRMED order whose held reservations differ from its items',
  REJECTED_BUT_HELD: 'a REJECTED order inventory holds stock for',
  CANCELLED_BUT_HELD: 'a CANCELLED order inventory holds stock for, or has not released',
  UNKNOWN_ORDER: 'stock held for an order orders does not know',
  STOCK_LEDGER_MISMATCH: 'stock on hand differs from the sum of its ledger',
  NEGATIVE_STOCK: 'stock below zero',
  REPLICA_MISSING: 'a product a replica does not have',
  REPLICA_EXTRA: 'a product in a replica that products does not have',
  REPLICA_LAGGING: 'a replica behind products’ revision',
  REPLICA_AHEAD: 'a replica ahead of products’ revision',
  REPLICA_PRICE_MISMATCH: 'a replica price differing from products’ at the same revision',
} as const;

export type MismatchKind = keyof typeof MISMATCH_KINDS;
export type Replica = 'orders' | 'inventory' | 'reviews';

export interface Mismatch {
  kind: MismatchKind;
  /** One line an operator can act on, with every id involved. */
  message: string;
  orderId?: number;
  productId?: number;
  /** The service whose replica disagrees (replica kinds). */
  replica?: Replica;
}

export interface ConsistencyReport {
  ok: boolean;
  settleSeconds: number;
  /** What was compared: a report of nothing is not a clean bill of health. */
  counted: {
    products: number;
    orders: number;
    /** Orders in a state the check has no rule for (e.g. seeded PAID history). */
    ordersNotChecked: number;
    ordersInFlight: number;
    reservations: number;
    decisions: number;
    stockRows: number;
    replicas: Record<Replica, number>;
  };
  mismatches: Mismatch[];
}

export interface CheckOptions {
  /** A PENDING order younger than this is in flight, not stuck. */
  settleSeconds: number;
}

type Held = Map<number, number>;

/** Quantities per product: an order may list a product twice, inventory may hold it in two rows. */
function quantities(lines: readonly { productId: number; quantity: number }[]): Held {
  const totals: Held = new Map();
  for (const line of lines) totals.set(line.productId, (totals.get(line.productId) ?? 0) + line.quantity);
  return totals;
}

function describeHeld(held: Held): string {
  return [...held.entries()]
    .sort(([a], [b]) => a - b)
    .map(([productId, quantity]) => `product ${productId} × ${quantity}`)
    .join(', ');
}

function differences(ordered: Held, held: Held): string[] {
  const products = [...new Set([...ordered.keys(), ...held.keys()])].sort((a, b) => a - b);
  return products
    .filter((productId) => (ordered.get(productId) ?? 0) !== (held.get(productId) ?? 0))
    .map((productId) => `product ${productId}: ordered ${ordered.get(productId) ?? 0}, held ${held.get(productId) ?? 0}`);
}

export function checkConsistency(snapshots: Snapshots, options: CheckOptions): ConsistencyReport {
  const mismatches: Mismatch[] = [];
  const { products, orders, inventory, reviews } = snapshots;

  // ---- The order saga: orders' status against inventory's decision and what it holds.
  const heldByOrder = new Map<number, { productId: number; quantity: number }[]>();
  for (const reservation of inventory.reservations) {
    const list = heldByOrder.get(reservation.orderId) ?? [];
    list.push(reservation);
    heldByOrder.set(reservation.orderId, list);
  }
  const decisions = new Map(inventory.decisions.map((decision) => [decision.orderId, decision.outcome]));
  const known = new Set<number>();
  let notChecked = 0;
  let inFlight = 0;
  for (const order of orders.orders) {
    known.add(order.orderId);
    const decision = decisions.get(order.orderId);
    const decided = decision ? `inventory decided ${decision}` : 'inventory has no decision for it';
    const held = quantities(heldByOrder.get(order.orderId) ?? []);
    const holding = held.size > 0 ? `inventory holds ${describeHeld(held)}` : 'inventory holds nothing for it';
    const at = { orderId: order.orderId };
    switch (order.status) {
      case 'PENDING':
        if (order.ageSeconds > options.settleSeconds) {
          mismatches.push({ kind: 'STUCK_PENDING', ...at, message: `order ${order.orderId} is PENDING after ${order.ageSeconds} s (settle time ${options.settleSeconds} s); ${decided}` });
        } else inFlight++;
        break;
      case 'CONFIRMED': {
        if (decision !== 'RESERVED') {
          mismatches.push({ kind: 'CONFIRMED_NOT_RESERVED', ...at, message: `order ${order.orderId} is CONFIRMED but ${decided}; ${holding}` });
          break;
        }
        const wrong = differences(quantities(order.items), held);
        if (wrong.length > 0) {
          mismatches.push({ kind: 'RESERVATION_MISMATCH', ...at, message: `order ${order.orderId} is CONFIRMED but its reservations differ from its items: ${wrong.join('; ')}` });
        }
        break;
      }
      case 'REJECTED':
        if (held.size > 0) mismatches.push({ kind: 'REJECTED_BUT_HELD', ...at, message: `order ${order.orderId} is REJECTED but ${holding} (${decided})` });
        break;
      case 'CANCELLED':
        if (held.size > 0 || decision === 'RESERVED') {
          mismatches.push({ kind: 'CANCELLED_BUT_HELD', ...at, message: `order ${order.orderId} is CANCELLED but ${decision === 'RESERVED' ? 'inventory still has it RESERVED' : decided}; ${holding}` });
        }
        break;
      default:
        // Statuses past the saga (seeded PAID, SHIPPED, DELIVERED history) have no rule here.
        notChecked++;
    }
  }
  for (const [orderId, lines] of [...heldByOrder.entries()].sort(([a], [b]) => a - b)) {
    if (known.has(orderId)) continue;
    mismatches.push({ kind: 'UNKNOWN_ORDER', orderId, message: `inventory holds ${describeHeld(quantities(lines))} for order ${orderId}, which orders does not know` });
  }

  // ---- Stock: what is on hand must be what its ledger adds up to, and never below zero.
  for (const row of inventory.stock) {
    if (row.stock !== row.ledger) {
      mismatches.push({ kind: 'STOCK_LEDGER_MISMATCH', productId: row.productId, message: `product ${row.productId}: stock ${row.stock}, but its ledger adds up to ${row.ledger}` });
    }
    if (row.stock < 0) mismatches.push({ kind: 'NEGATIVE_STOCK', productId: row.productId, message: `product ${row.productId}: stock ${row.stock}` });
  }

  // ---- Replicas of the catalogue: exactly products' products, at products' revision (and price).
  const owner = new Map(products.products.map((product) => [product.productId, product]));
  const replicas: [Replica, readonly ReplicaProduct[]][] = [
    ['orders', orders.catalog],
    ['inventory', inventory.catalog],
    ['reviews', reviews.catalog],
  ];
  for (const [replica, catalog] of replicas) {
    const copies = new Map(catalog.map((copy) => [copy.productId, copy]));
    for (const product of products.products) {
      const at = { replica, productId: product.productId };
      const copy = copies.get(product.productId);
      if (!copy) {
        mismatches.push({ kind: 'REPLICA_MISSING', ...at, message: `the replica in ${replica} has no product ${product.productId} (products has it at revision ${product.revision})` });
        continue;
      }
      // A replica that keeps only existence (it does not receive price changes, per the event
      // catalogue) is not behind when a price change moved products' revision on.
      if (copy.revision < product.revision && followsEveryChange(replica)) {
        mismatches.push({ kind: 'REPLICA_LAGGING', ...at, message: `the replica in ${replica} has product ${product.productId} at revision ${copy.revision}, products at revision ${product.revision}` });
      } else if (copy.revision > product.revision) {
        mismatches.push({ kind: 'REPLICA_AHEAD', ...at, message: `the replica in ${replica} has product ${product.productId} at revision ${copy.revision}, ahead of products' revision ${product.revision}` });
      } else if (copy.priceCents !== undefined && copy.priceCents !== product.priceCents) {
        mismatches.push({
          kind: 'REPLICA_PRICE_MISMATCH',
          ...at,
          message: `the replica in ${replica} prices product ${product.productId} at ${copy.priceCents} cents, products at ${product.priceCents} cents (both revision ${product.revision})`,
        });
      }
    }
    for (const copy of catalog) {
      if (owner.has(copy.productId)) continue;
      mismatches.push({ kind: 'REPLICA_EXTRA', replica, productId: copy.productId, message: `the replica in ${replica} has product ${copy.productId} (revision ${copy.revision}), which products does not have` });
    }
  }

  return {
    ok: mismatches.length === 0,
    settleSeconds: options.settleSeconds,
    counted: {
      products: products.products.length,
      orders: orders.orders.length,
      ordersNotChecked: notChecked,
      ordersInFlight: inFlight,
      reservations: inventory.reservations.length,
      decisions: inventory.decisions.length,
      stockRows: inventory.stock.length,
      replicas: { orders: orders.catalog.length, inventory: inventory.catalog.length, reviews: reviews.catalog.length },
    },
    mismatches,
  };
}

/** The report as an operator reads it: one line per mismatch, grouped by kind, then a summary. */
export function formatReport(report: ConsistencyReport): string {
  const { counted } = report;
  const compared =
    `${counted.orders} orders (${counted.ordersInFlight} in flight, ${counted.ordersNotChecked} past the saga and not checked), ` +
    `${counted.reservations} reservations, ${counted.decisions} decisions, stock of ${counted.stockRows} products, ` +
    `${counted.products} products against the replicas of orders (${counted.replicas.orders}), inventory (${counted.replicas.inventory}) and reviews (${counted.replicas.reviews})`;
  if (report.ok) return `Consistent: ${compared}.\n`;
  const lines: string[] = [];
  for (const kind of Object.keys(MISMATCH_KINDS) as MismatchKind[]) {
    const found = report.mismatches.filter((mismatch) => mismatch.kind === kind);
    if (found.length === 0) continue;
    lines.push(`${kind} (${found.length}): ${MISMATCH_KINDS[kind]}`);
    for (const mismatch of found) lines.push(`  ${mismatch.message}`);
  }
  const total = report.mismatches.length;
  lines.push('', `${total} mismatch${total === 1 ? '' : 'es'} in ${compared}.`);
  return `${lines.join('\n')}\n`;
}
