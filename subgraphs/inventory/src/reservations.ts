import { publishEvent, type EventPayload, type SqlClient } from '@commerce/service-kit';

/**
 * inventory's side of the order flow. For each order it takes one decision, recorded in
 * `order_decisions` together with its effects and its answer to orders (the outbox), all in the
 * inbox's transaction:
 *
 *   OrderPlaced    ─▶ RESERVED  every item reserved (stock down, reservations, ledger) + StockReserved
 *                  └▶ REJECTED  nothing reserved + StockRejected (the first failing product)
 *   OrderCancelled ─▶ RELEASED  from RESERVED: every reservation back on the shelf + StockReleased
 *                               with no decision yet: a tombstone, so nothing is ever reserved for it
 *
 * Once an order has a decision, a repeated or late OrderPlaced does nothing (even one the inbox
 * would not recognise, under another event id), and an OrderCancelled does something only to a
 * RESERVED order. So an order is never half-reserved, never reserved twice, and nothing stays
 * reserved for a cancelled order. Locks, always in this order: the order's decision lock (one per
 * transaction), then its products' stock rows by product id.
 */

type OrderLine = { productId: number; quantity: number };
type RejectionReason = EventPayload<'inventory', 'StockRejected'>['reason'];

export async function reserve(tx: SqlClient, order: { orderId: number; items: readonly OrderLine[] }): Promise<void> {
  const { orderId } = order;
  if (await lockDecision(tx, orderId)) return;
  const items = inProductOrder(order.items);
  const productIds = items.map((item) => item.productId);
  const quantities = items.map((item) => item.quantity);

  // A product inventory has not heard of cannot have stock here either (restock refuses unknown
  // products), so waiting for the replica to catch up could only turn this into INSUFFICIENT_STOCK.
  const known = await tx.$queryRawUnsafe<{ product_id: number }[]>(
    `SELECT product_id FROM catalog_products WHERE product_id = ANY($1::int[])`,
    productIds,
  );
  const knownIds = new Set(known.map((row) => row.product_id));
  const unknown = items.find((item) => !knownIds.has(item.productId));
  if (unknown) return reject(tx, orderId, 'UNKNOWN_PRODUCT', unknown.productId, `product ${unknown.productId} is not in the catalogue`);

  // All or nothing, without deadlocks: lock every stock row the order needs, in product order,
  // then decide on what the locks guarantee, then apply. Every transaction that locks several of
  // these rows (reserve, release) takes them in this one order, and restock takes only one, so no
  // two can wait on each other in a cycle. Until commit nobody else can change these rows, so the
  // decision cannot go stale and the decrements below cannot fail half-way. (Decrementing item by
  // item and undoing on the first failure would need a savepoint inside the inbox's transaction;
  // deciding first needs none.) Under READ COMMITTED, a lock that had to wait reads the row as the
  // other transaction left it. A product without a stock row has 0.
  const locked = await tx.$queryRawUnsafe<{ product_id: number; stock: number }[]>(
    `SELECT product_id, stock FROM inventory_items WHERE product_id = ANY($1::int[]) ORDER BY product_id FOR NO KEY UPDATE`,
    productIds,
  );
  const stockOf = new Map(locked.map((row) => [row.product_id, row.stock]));
  const short = items.find((item) => (stockOf.get(item.productId) ?? 0) < item.quantity);
  if (short) {
    const left = stockOf.get(short.productId) ?? 0;
    return reject(tx, orderId, 'INSUFFICIENT_STOCK', short.productId, `product ${short.productId} has ${left} left, ${short.quantity} asked`);
  }

  // Still conditional, and CHECK (stock >= 0) behind it: a bug here fails the event, it never oversells.
  const decremented = await tx.$executeRawUnsafe(
    `UPDATE inventory_items i SET stock = i.stock - r.quantity, updated_at = now()
       FROM unnest($1::int[], $2::int[]) AS r(product_id, quantity)
      WHERE i.product_id = r.product_id AND i.stock >= r.quantity`,
    productIds,
    quantities,
  );
  if (decremented !== items.length) throw new Error(`order ${orderId}: ${decremented} of ${items.length} locked stock rows could be decremented`);
  await tx.$executeRawUnsafe(`INSERT INTO order_decisions (order_id, outcome) VALUES ($1, 'RESERVED')`, orderId);
  await tx.$executeRawUnsafe(
    `INSERT INTO reservations (order_id, product_id, quantity) SELECT $1, product_id, quantity FROM unnest($2::int[], $3::int[]) AS r(product_id, quantity)`,
    orderId,
    productIds,
    quantities,
  );
  await recordMovements(tx, 'RESERVE', orderId, productIds, quantities.map((quantity) => -quantity));
  await publishEvent(tx, { source: 'inventory', type: 'StockReserved', aggregate: `order:${orderId}`, payload: { orderId, items } });
}

export async function release(tx: SqlClient, order: { orderId: number }): Promise<void> {
  const { orderId } = order;
  const decision = await lockDecision(tx, orderId);
  if (!decision) {
    // Cancelled before inventory heard of the order (its OrderPlaced parked, or a seeded order):
    // decide RELEASED now, with nothing held, so that OrderPlaced, should it come, reserves nothing.
    await tx.$executeRawUnsafe(`INSERT INTO order_decisions (order_id, outcome) VALUES ($1, 'RELEASED')`, orderId);
    await publishEvent(tx, { source: 'inventory', type: 'StockReleased', aggregate: `order:${orderId}`, payload: { orderId, items: [] } });
    return;
  }
  // REJECTED: nothing was reserved. RELEASED: released already.
  if (decision !== 'RESERVED') return;
  const held = await tx.$queryRawUnsafe<{ product_id: number; quantity: number }[]>(
    `SELECT product_id, quantity FROM reservations WHERE order_id = $1 AND released_at IS NULL ORDER BY product_id`,
    orderId,
  );
  const productIds = held.map((row) => row.product_id);
  const quantities = held.map((row) => row.quantity);
  // Same lock order as reserve. No upper bound here: a release must always succeed, even if a
  // restock has meanwhile brought the product to restock's cap.
  await tx.$queryRawUnsafe(`SELECT product_id FROM inventory_items WHERE product_id = ANY($1::int[]) ORDER BY product_id FOR NO KEY UPDATE`, productIds);
  await tx.$executeRawUnsafe(
    `UPDATE inventory_items i SET stock = i.stock + r.quantity, updated_at = now()
       FROM unnest($1::int[], $2::int[]) AS r(product_id, quantity)
      WHERE i.product_id = r.product_id`,
    productIds,
    quantities,
  );
  await tx.$executeRawUnsafe(`UPDATE reservations SET released_at = now() WHERE order_id = $1 AND released_at IS NULL`, orderId);
  await recordMovements(tx, 'RELEASE', orderId, productIds, quantities);
  await tx.$executeRawUnsafe(`UPDATE order_decisions SET outcome = 'RELEASED', decided_at = now() WHERE order_id = $1`, orderId);
  await publishEvent(tx, {
    source: 'inventory',
    type: 'StockReleased',
    aggregate: `order:${orderId}`,
    payload: { orderId, items: held.map((row) => ({ productId: row.product_id, quantity: row.quantity })) },
  });
}

async function reject(tx: SqlClient, orderId: number, reason: RejectionReason, productId: number, message: string): Promise<void> {
  await tx.$executeRawUnsafe(`INSERT INTO order_decisions (order_id, outcome, reason) VALUES ($1, 'REJECTED', $2)`, orderId, `${reason}: ${message}`);
  await publishEvent(tx, { source: 'inventory', type: 'StockRejected', aggregate: `order:${orderId}`, payload: { orderId, reason, productId, message } });
}

/** Arbitrary, fixed: the first half of the advisory lock key of an order's decision ("ordr"). */
const DECISION_LOCK_CLASS = 0x6f726472;

/**
 * Takes this order's decision lock (until the transaction ends) and reads its decision, if any.
 * Orders' events of one order arrive one after another, but should two ever be handled at once
 * (a cancel racing its placement on a replay), they take turns here instead of both finding no
 * decision and colliding on its primary key. The lock is taken before any stock row, and only one
 * per transaction, so it adds no lock-order cycle.
 */
async function lockDecision(tx: SqlClient, orderId: number): Promise<string | null> {
  await tx.$queryRawUnsafe(`SELECT 1 AS locked FROM pg_advisory_xact_lock($1::int, $2::int)`, DECISION_LOCK_CLASS, orderId);
  const rows = await tx.$queryRawUnsafe<{ outcome: string }[]>(`SELECT outcome::text AS outcome FROM order_decisions WHERE order_id = $1`, orderId);
  return rows[0]?.outcome ?? null;
}

async function recordMovements(tx: SqlClient, reason: 'RESERVE' | 'RELEASE', orderId: number, productIds: number[], deltas: number[]): Promise<void> {
  await tx.$executeRawUnsafe(
    `INSERT INTO stock_movements (product_id, delta, reason, order_id)
     SELECT product_id, delta, $1::stock_movement_reason, $2 FROM unnest($3::int[], $4::int[]) AS m(product_id, delta)`,
    reason,
    orderId,
    productIds,
    deltas,
  );
}

/** One line per product (orders sends each product once; two lines of one product are added up), by product id. */
function inProductOrder(lines: readonly OrderLine[]): OrderLine[] {
  const byProduct = new Map<number, number>();
  for (const line of lines) byProduct.set(line.productId, (byProduct.get(line.productId) ?? 0) + line.quantity);
  return [...byProduct].map(([productId, quantity]) => ({ productId, quantity })).sort((a, b) => a.productId - b.productId);
}
