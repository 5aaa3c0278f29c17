// Reads what a service's GET /internal/snapshot answered into the kit's snapshot shapes, checking
// every field on the way in: a service on another version that answers something else is named,
// with the first field that does not fit, instead of being compared as if it were right.
import type { InventorySnapshot, OrdersSnapshot, ProductsSnapshot, ReplicaProduct, ReviewsSnapshot } from '@commerce/service-kit';
import type { Snapshots } from './check.ts';

export class SnapshotShapeError extends Error {
  override name = 'SnapshotShapeError';
}

type Fields = Record<string, unknown>;

function object(value: unknown, path: string): Fields {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new SnapshotShapeError(`${path}: expected an object`);
  return value as Fields;
}

function list<T>(value: unknown, path: string, each: (item: Fields, path: string) => T): T[] {
  if (!Array.isArray(value)) throw new SnapshotShapeError(`${path}: expected a list`);
  return value.map((item, index) => each(object(item, `${path}[${index}]`), `${path}[${index}]`));
}

function integer(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new SnapshotShapeError(`${path}: expected an integer, got ${JSON.stringify(value)}`);
  return value;
}

function number(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new SnapshotShapeError(`${path}: expected a number, got ${JSON.stringify(value)}`);
  return value;
}

function text(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new SnapshotShapeError(`${path}: expected a string, got ${JSON.stringify(value)}`);
  return value;
}

function replica(value: unknown, path: string): ReplicaProduct[] {
  return list(value, path, (item, at) => ({
    productId: integer(item.productId, `${at}.productId`),
    revision: integer(item.revision, `${at}.revision`),
    ...(item.priceCents === undefined ? {} : { priceCents: integer(item.priceCents, `${at}.priceCents`) }),
  }));
}

const OUTCOMES = new Set(['RESERVED', 'REJECTED', 'RELEASED']);

const readers = {
  products(raw: unknown): ProductsSnapshot {
    const root = object(raw, 'snapshot');
    return {
      products: list(root.products, 'products', (item, at) => ({
        productId: integer(item.productId, `${at}.productId`),
        priceCents: integer(item.priceCents, `${at}.priceCents`),
        revision: integer(item.revision, `${at}.revision`),
      })),
    };
  },
  orders(raw: unknown): OrdersSnapshot {
    const root = object(raw, 'snapshot');
    return {
      orders: list(root.orders, 'orders', (item, at) => ({
        orderId: integer(item.orderId, `${at}.orderId`),
        status: text(item.status, `${at}.status`),
        ageSeconds: number(item.ageSeconds, `${at}.ageSeconds`),
        items: list(item.items, `${at}.items`, (line, lineAt) => ({
          productId: integer(line.productId, `${lineAt}.productId`),
          quantity: integer(line.quantity, `${lineAt}.quantity`),
          unitPriceCents: integer(line.unitPriceCents, `${lineAt}.unitPriceCents`),
        })),
      })),
      catalog: replica(root.catalog, 'catalog'),
    };
  },
  inventory(raw: unknown): InventorySnapshot {
    const root = object(raw, 'snapshot');
    return {
      stock: list(root.stock, 'stock', (item, at) => ({
        productId: integer(item.productId, `${at}.productId`),
        stock: integer(item.stock, `${at}.stock`),
        ledger: integer(item.ledger, `${at}.ledger`),
      })),
      reservations: list(root.reservations, 'reservations', (item, at) => ({
        orderId: integer(item.orderId, `${at}.orderId`),
        productId: integer(item.productId, `${at}.productId`),
        quantity: integer(item.quantity, `${at}.quantity`),
      })),
      decisions: list(root.decisions, 'decisions', (item, at) => {
        const outcome = text(item.outcome, `${at}.outcome`);
        if (!OUTCOMES.has(outcome)) throw new SnapshotShapeError(`${at}.outcome: expected RESERVED, REJECTED or RELEASED, got ${JSON.stringify(outcome)}`);
        return { orderId: integer(item.orderId, `${at}.orderId`), outcome: outcome as InventorySnapshot['decisions'][number]['outcome'] };
      }),
      catalog: replica(root.catalog, 'catalog'),
    };
  },
  reviews(raw: unknown): ReviewsSnapshot {
    return { catalog: replica(object(raw, 'snapshot').catalog, 'catalog') };
  },
} satisfies { [Service in keyof Snapshots]: (raw: unknown) => Snapshots[Service] };

export const SNAPSHOT_SERVICES = Object.keys(readers) as (keyof Snapshots)[];

/** The snapshot inside a service's answer (`{ service, snapshot }`), checked field by field. */
export function readSnapshot<Service extends keyof Snapshots>(service: Service, answer: unknown): Snapshots[Service] {
  const body = object(answer, 'answer');
  if (body.service !== service) throw new SnapshotShapeError(`the answer is from ${JSON.stringify(body.service)}, not ${service}: is the URL right?`);
  return readers[service](body.snapshot) as Snapshots[Service];
}
