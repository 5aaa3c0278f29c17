/**
 * What each service reports of its own rows to `npm run consistency` (GET /internal/snapshot,
 * signed with its events secret). The checker compares them across services; no service ever
 * reads another's database, and neither does the checker.
 */

/** A product as a replica knows it: the owner's facts at some revision. */
export interface ReplicaProduct {
  productId: number;
  revision: number;
  /** Present where the replica keeps the price (orders). */
  priceCents?: number;
}

export interface ProductsSnapshot {
  products: { productId: number; priceCents: number; revision: number }[];
}

export interface OrdersSnapshot {
  orders: {
    orderId: number;
    status: string;
    /** Seconds since the order was placed (a PENDING order older than the settle time is stuck). */
    ageSeconds: number;
    items: { productId: number; quantity: number; unitPriceCents: number }[];
  }[];
  catalog: ReplicaProduct[];
}

export interface InventorySnapshot {
  /** Stock on hand per product, and the sum of its ledger of movements (they must agree). */
  stock: { productId: number; stock: number; ledger: number }[];
  /** Reservations still held (not released), per order and product. */
  reservations: { orderId: number; productId: number; quantity: number }[];
  /** Orders inventory decided on: reserved or rejected (a released reservation counts as decided). */
  decisions: { orderId: number; outcome: 'RESERVED' | 'REJECTED' | 'RELEASED' }[];
  catalog: ReplicaProduct[];
}

export interface ReviewsSnapshot {
  catalog: ReplicaProduct[];
}

export interface SnapshotsByService {
  products: ProductsSnapshot;
  orders: OrdersSnapshot;
  inventory: InventorySnapshot;
  reviews: ReviewsSnapshot;
}
