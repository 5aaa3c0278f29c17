import { createHash } from 'node:crypto';
import { badUserInput, conflict, ErrorCode, hasAnyScope, notFound, parseId, publishEvent, requireInt, type Viewer } from '@commerce/service-kit';
import { GraphQLError } from 'graphql';
import type { Order, PrismaClient } from './generated/prisma/client.ts';

/**
 * The order flow's orders side. An order is placed PENDING together with an OrderPlaced event (one
 * transaction, the outbox); inventory answers StockReserved (→ CONFIRMED) or StockRejected
 * (→ REJECTED, see events.ts), each applied with OrderStatusChanged (for the router's entity
 * cache). Cancelling publishes OrderCancelled, inventory's compensation.
 *
 *   placeOrder ─▶ PENDING ──StockReserved──▶ CONFIRMED
 *        │           │  └───StockRejected──▶ REJECTED (reason)
 *        │           └──cancelOrder──▶ CANCELLED ◀──cancelOrder── CONFIRMED
 *        └─ a product not in the replica ─▶ REJECTED at once (OrderStatusChanged only: nothing to reserve)
 */

export const ORDER_LIMITS = {
  maxItems: 20,
  maxQuantity: 100,
  maxIdempotencyKeyLength: 100,
  /** totalCents is a GraphQL Int (32 bits): an order worth more could not be shown. */
  maxTotalCents: 2_147_483_647,
} as const;

/** Printable ASCII, space included; at least one visible character. */
const IDEMPOTENCY_KEY = /^[\x20-\x7e]+$/;

export interface PlaceOrderRequest {
  items: { productId: number; quantity: number }[];
  idempotencyKey: string;
  /** Identifies the request the key stands for: the same items in any order give the same one. */
  fingerprint: string;
}

/** Checks placeOrder's input before any database work; every error names the field at fault. */
export function parsePlaceOrderInput(input: { items: readonly { productId: string; quantity: number }[]; idempotencyKey: string }): PlaceOrderRequest {
  const key = input.idempotencyKey;
  if (key.length < 1 || key.length > ORDER_LIMITS.maxIdempotencyKeyLength || !IDEMPOTENCY_KEY.test(key) || key.trim() === '') {
    throw badUserInput(
      `input.idempotencyKey must be 1 to ${ORDER_LIMITS.maxIdempotencyKeyLength} printable ASCII characters, not all spaces`,
      'input.idempotencyKey',
    );
  }
  if (input.items.length < 1 || input.items.length > ORDER_LIMITS.maxItems) {
    throw badUserInput(`An order has 1 to ${ORDER_LIMITS.maxItems} items, got ${input.items.length}`, 'input.items');
  }
  const seen = new Map<number, number>();
  const items = input.items.map((item, i) => {
    const productId = parseId(item.productId, `input.items[${i}].productId`);
    const quantity = requireInt(item.quantity, `input.items[${i}].quantity`, { min: 1, max: ORDER_LIMITS.maxQuantity });
    const earlier = seen.get(productId);
    if (earlier !== undefined) {
      // Refused rather than merged: the client may have meant either line, and a merged sum could
      // pass the quantity limit that each line was held to.
      throw badUserInput(
        `Product ${productId} is in items ${earlier} and ${i}: order each product once, with its whole quantity`,
        `input.items[${i}].productId`,
      );
    }
    seen.set(productId, i);
    return { productId, quantity };
  });
  const canonical = [...items].sort((a, b) => a.productId - b.productId).map((item) => `${item.productId}x${item.quantity}`);
  const fingerprint = createHash('sha256').update(`placeOrder/v1:${canonical.join(',')}`).digest('hex');
  return { items, idempotencyKey: key, fingerprint };
}

export const unknownProductReason = (productId: number) => `UNKNOWN_PRODUCT: product ${productId} is not in the catalogue`;

/**
 * Places the order, or returns the one this user already placed with this key. One transaction:
 * the order, its items and (when PENDING) its OrderPlaced event commit together or not at all.
 * Concurrent calls with one key race on the unique (user_id, idempotency_key) index: one insert
 * wins, the others fail on it and return the winner's order.
 */
export async function placeOrder(db: PrismaClient, userId: number, request: PlaceOrderRequest): Promise<{ order: Order }> {
  const existing = await orderForKey(db, userId, request);
  if (existing) return { order: existing };
  try {
    const order = await db.$transaction(async (tx) => {
      const productIds = request.items.map((item) => item.productId);
      const replica = await tx.catalogProduct.findMany({ where: { productId: { in: productIds } } });
      const priceOf = new Map(replica.map((product) => [product.productId, product.priceCents]));
      const unknown = request.items.find((item) => !priceOf.has(item.productId));
      const items = request.items.map((item) => ({ ...item, unitPriceCents: priceOf.get(item.productId) ?? 0 }));
      const totalCents = items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0);
      if (totalCents > ORDER_LIMITS.maxTotalCents) {
        throw badUserInput(`An order may total at most ${ORDER_LIMITS.maxTotalCents} cents; this one would total ${totalCents}`, 'input.items');
      }
      const created = await tx.order.create({
        data: {
          userId,
          status: unknown ? 'REJECTED' : 'PENDING',
          rejectionReason: unknown ? unknownProductReason(unknown.productId) : null,
          idempotencyKey: request.idempotencyKey,
          requestFingerprint: request.fingerprint,
          items: { create: items },
        },
      });
      // Inventory is asked to reserve only what could be priced; an order rejected here never
      // reaches it (there is nothing to reserve, and so nothing to release). It is still a new
      // order in its customer's list: OrderStatusChanged tells the router's entity cache.
      if (!unknown) {
        await publishEvent(tx, {
          source: 'orders',
          type: 'OrderPlaced',
          aggregate: `order:${created.id}`,
          payload: { orderId: created.id, userId, items: request.items },
        });
      } else {
        await publishEvent(tx, {
          source: 'orders',
          type: 'OrderStatusChanged',
          aggregate: `order:${created.id}`,
          payload: { orderId: created.id, userId, status: 'REJECTED', reason: unknownProductReason(unknown.productId) },
        });
      }
      return created;
    });
    return { order };
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const winner = await orderForKey(db, userId, request);
    if (!winner) throw error;
    return { order: winner };
  }
}

/** The order this user placed with this key, if any; CONFLICT when the key was used for another request. */
async function orderForKey(db: PrismaClient, userId: number, request: PlaceOrderRequest): Promise<Order | null> {
  const order = await db.order.findUnique({ where: { userId_idempotencyKey: { userId, idempotencyKey: request.idempotencyKey } } });
  if (order && order.requestFingerprint !== request.fingerprint) {
    throw conflict(`idempotencyKey was already used for order ${order.id}, with other items: use a new key for a new order`, 'input.idempotencyKey');
  }
  return order;
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'P2002';
}

const CANCELLABLE = ['PENDING', 'CONFIRMED'] as const;

/**
 * Cancels an order for its owner or an admin: PENDING or CONFIRMED → CANCELLED with an
 * OrderCancelled event (inventory releases what it reserved), in one transaction. The conditional
 * UPDATE decides between concurrent cancels, so only one of them publishes. Already CANCELLED: the
 * order as it is, nothing published. Any other status: CONFLICT, nothing changed.
 */
export async function cancelOrder(db: PrismaClient, viewer: Viewer, rawId: string): Promise<{ order: Order }> {
  const id = parseId(rawId, 'id');
  const order = await db.order.findUnique({ where: { id } });
  if (!order) throw notFound('Order', id);
  if (order.userId !== viewer.userId && !hasAnyScope(viewer, ['admin'])) {
    throw new GraphQLError('Only the customer who placed an order, or an admin, may cancel it', { extensions: { code: ErrorCode.FORBIDDEN } });
  }
  const cancelled = await db.$transaction(async (tx) => {
    const changed = await tx.order.updateMany({ where: { id, status: { in: [...CANCELLABLE] } }, data: { status: 'CANCELLED' } });
    if (changed.count === 0) return null;
    await publishEvent(tx, {
      source: 'orders',
      type: 'OrderCancelled',
      aggregate: `order:${id}`,
      payload: { orderId: id, userId: order.userId },
    });
    return tx.order.findUniqueOrThrow({ where: { id } });
  });
  if (cancelled) return { order: cancelled };
  const current = await db.order.findUniqueOrThrow({ where: { id } });
  switch (current.status) {
    case 'CANCELLED':
      return { order: current };
    case 'REJECTED':
      throw conflict(`Order ${id} was rejected, and a rejected order cannot be cancelled: nothing was reserved for it`);
    default:
      throw conflict(`Order ${id} is ${current.status} and can no longer be cancelled`);
  }
}
