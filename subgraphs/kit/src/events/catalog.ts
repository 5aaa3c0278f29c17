import { z } from 'zod';
import type { EventEnvelope } from './envelope.ts';

/**
 * Every domain event of the graph, written once: who publishes it, who consumes it, and a schema
 * per version. Publishing validates the payload against it and so does receiving, so a service
 * never acts on an event it does not understand: an unknown type or version, or a payload that
 * does not match, is parked (kept, logged, never lost, never blocking the events behind it).
 *
 * Adding a version: add it here beside the old one, make consumers accept both, then let the
 * publisher switch. Removing one: stop publishing it, drain, then remove it.
 */

const id = z.number().int().positive().max(2_147_483_647);
const cents = z.number().int().min(0).max(100_000_000);
const quantity = z.number().int().positive().max(100_000);

/** The catalogue's facts other services keep replicas of: existence and the current price. */
const productFacts = {
  productId: id,
  sku: z.string().min(1).max(32),
  name: z.string().min(1).max(200),
  priceCents: cents,
  /** Increases with every change of the product: replicas apply a fact only if it is newer. */
  revision: z.number().int().positive(),
};

const orderItem = z.object({ productId: id, quantity });

/** An entity of the supergraph by its `id` key (the GraphQL ID, so a string); `created` when the event brings it into being. */
export interface EntityRef {
  type: string;
  id: string;
  created?: boolean;
}

const entity = (type: string, id: number): EntityRef => ({ type, id: String(id) });
/** The product a product's or a stock level's event is about. */
const theProduct = ({ productId }: { productId: number }) => [entity('Product', productId)];
/** Every product of an order's items (their stock moved). */
const itsProducts = ({ items }: { items: readonly { productId: number }[] }) => items.map((item) => entity('Product', item.productId));
/** The order an event is about, and its customer (whose list of orders shows it). */
const theOrder = ({ orderId, userId }: { orderId: number; userId: number }) => [entity('Order', orderId), entity('User', userId)];

export const EVENT_CATALOG = {
  accounts: {
    /** A new account: every cached page of users may now be missing it. For the router's entity cache; no service subscribes. */
    UserCreated: {
      subscribers: [],
      versions: { 1: z.object({ userId: id }).strict() },
      changes: ({ userId }: { userId: number }) => [{ ...entity('User', userId), created: true }],
    },
  },
  products: {
    // A new product: every cached list of products may now be missing it.
    ProductCreated: {
      subscribers: ['orders', 'inventory', 'reviews'],
      versions: { 1: z.object(productFacts).strict() },
      changes: ({ productId }: { productId: number }) => [{ ...entity('Product', productId), created: true }],
    },
    ProductPriceChanged: {
      subscribers: ['orders'],
      versions: { 1: z.object({ ...productFacts, previousPriceCents: cents }).strict() },
      changes: theProduct,
    },
    /** The current state of a product, sent to one new subscriber to fill its replica (backfill). */
    ProductSnapshot: { subscribers: ['orders', 'inventory', 'reviews'], versions: { 1: z.object(productFacts).strict() }, changes: theProduct },
  },
  orders: {
    /** A command to inventory: reserve these items for this order, all or nothing. */
    OrderPlaced: {
      subscribers: ['inventory'],
      versions: { 1: z.object({ orderId: id, userId: id, items: z.array(orderItem).min(1).max(50) }).strict() },
      changes: theOrder,
    },
    /** Compensation: release whatever is reserved for this order. */
    OrderCancelled: { subscribers: ['inventory'], versions: { 1: z.object({ orderId: id, userId: id }).strict() }, changes: theOrder },
    /**
     * An order settled without a request of its own: inventory's answer applied (CONFIRMED, or
     * REJECTED with the reason orders stores), or rejected at once by placeOrder (a product not in
     * the catalogue, so no OrderPlaced). Written in the transaction that changes the status, only
     * when it changed: for the router's entity cache (which cannot act on StockReserved itself: it
     * would race orders applying it). Cancelling announces itself with OrderCancelled.
     */
    OrderStatusChanged: {
      subscribers: [],
      versions: {
        1: z
          .object({
            orderId: id,
            userId: id,
            status: z.enum(['CONFIRMED', 'REJECTED', 'CANCELLED']),
            /** Why, when REJECTED (orders' `reason`); absent otherwise. */
            reason: z.string().min(1).max(1000).optional(),
          })
          .strict(),
      },
      changes: theOrder,
    },
  },
  inventory: {
    StockReserved: {
      subscribers: ['orders'],
      versions: { 1: z.object({ orderId: id, items: z.array(orderItem).min(1).max(50) }).strict() },
      changes: itsProducts,
    },
    StockRejected: {
      subscribers: ['orders'],
      versions: {
        1: z
          .object({
            orderId: id,
            reason: z.enum(['UNKNOWN_PRODUCT', 'INSUFFICIENT_STOCK']),
            productId: id,
            message: z.string().max(500),
          })
          .strict(),
      },
    },
    StockReleased: { subscribers: [], versions: { 1: z.object({ orderId: id, items: z.array(orderItem).max(50) }).strict() }, changes: itsProducts },
    /** A product's stock after a restock (reservations and releases say so with their own events). */
    StockChanged: {
      subscribers: [],
      versions: { 1: z.object({ productId: id, stock: z.number().int().min(0).max(2_147_483_647) }).strict() },
      changes: theProduct,
    },
  },
  reviews: {
    /** A review was written: its product's rating and reviews, and its author's reviews, changed. */
    ReviewAdded: {
      subscribers: [],
      versions: { 1: z.object({ reviewId: id, productId: id, authorId: id, rating: z.number().int().min(1).max(5) }).strict() },
      changes: ({ productId, authorId }: { productId: number; authorId: number }) => [entity('Product', productId), entity('User', authorId)],
    },
  },
} as const satisfies Record<string, Record<string, EventContract>>;

export interface EventContract {
  /** The services that receive it. */
  subscribers: readonly string[];
  versions: Readonly<Record<number, z.ZodType>>;
  /**
   * The supergraph entities whose data this event changes: the router's entity cache drops them
   * when the event arrives. Given a payload already checked against its version's schema (every
   * version of an event must carry what this reads).
   */
  changes?: (payload: any) => readonly EntityRef[];
}

type Catalog = typeof EVENT_CATALOG;
export type EventSource = keyof Catalog;
export type EventType<Source extends EventSource> = keyof Catalog[Source] & string;
/** The payload of one version of an event (the first by default). */
export type EventPayload<Source extends EventSource, Type extends EventType<Source>, Version extends number = 1> = Catalog[Source][Type] extends {
  versions: Record<Version, infer Schema extends z.ZodType>;
}
  ? z.infer<Schema>
  : never;

export function contractOf(source: string, type: string): EventContract | null {
  const events = (EVENT_CATALOG as Record<string, Record<string, EventContract> | undefined>)[source];
  return events?.[type] ?? null;
}

export function latestVersion(contract: EventContract): number {
  return Math.max(...Object.keys(contract.versions).map(Number));
}

/** The event types a service consumes, as `source.Type`, from the catalogue. */
export function subscriptionsOf(service: string): string[] {
  return Object.entries(EVENT_CATALOG).flatMap(([source, events]) =>
    Object.entries(events as Record<string, EventContract>)
      .filter(([, contract]) => contract.subscribers.includes(service))
      .map(([type]) => `${source}.${type}`),
  );
}

/**
 * The entities an event changes, each once, for an envelope already checked by `checkEnvelope`
 * (its payload parsed by its schema); [] when its contract declares no `changes`.
 */
export function changedEntities(envelope: EventEnvelope): EntityRef[] {
  const changes = contractOf(envelope.source, envelope.type)?.changes;
  if (!changes) return [];
  const seen = new Map<string, EntityRef>();
  for (const ref of changes(envelope.payload)) {
    const key = `${ref.type}:${ref.id}`;
    const created = ref.created === true || seen.get(key)?.created === true;
    seen.set(key, { type: ref.type, id: ref.id, ...(created ? { created } : {}) });
  }
  return [...seen.values()];
}

/** Every event that changes supergraph entities (its contract declares `changes`), as `source.Type`. */
export function cacheInvalidatingEvents(): string[] {
  return Object.entries(EVENT_CATALOG).flatMap(([source, events]) =>
    Object.entries(events as Record<string, EventContract>)
      .filter(([, contract]) => contract.changes !== undefined)
      .map(([type]) => `${source}.${type}`),
  );
}
