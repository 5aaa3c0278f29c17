import { readFileSync } from 'node:fs';
import { encodeCursor } from '@commerce/service-kit';
import type { DataShape } from './data.ts';

/**
 * The benchmark's operations: one document each (operations/*.graphql), run unchanged against
 * every system, and the variables of the i-th request. Variables rotate over the data so that
 * neither a cache nor one hot row decides the result; the sequence is the same for every system.
 */
export interface Operation {
  name: OperationName;
  title: string;
  query: string;
  write: boolean;
  variables(i: number, shape: DataShape): Record<string, unknown>;
}

/** The full benchmark's operations (the project's own). */
export const OPERATION_NAMES = ['deep-read', 'user-read', 'waitlist', 'restock'] as const;
/** The router-only scenario's: the project's own plus a heavy federated query (tens of KB per answer). */
export const ROUTER_ONLY_OPERATION_NAMES = ['heavy-read', ...OPERATION_NAMES] as const;
export type OperationName = (typeof ROUTER_ONLY_OPERATION_NAMES)[number];

const document = (name: OperationName) => readFileSync(new URL(`../operations/${name}.graphql`, import.meta.url), 'utf8');

const PAGE = 10;

/**
 * Product n with n % 10 == 0 is out of stock (and has a waitlist) in both data sets. Product 10 is
 * left out: its waitlist holds an email with no account, which Hive Gateway answers with an error
 * (the bench reports that separately), and every system must answer these without one.
 */
export const GHOST_WAITLIST_PRODUCT = 10;
function outOfStockProduct(i: number, shape: DataShape): number {
  return 10 * (2 + ((i * 7) % Math.max(1, Math.floor(shape.products / 10) - 1)));
}

/** Writes never touch the out-of-stock products, so the waitlist operation keeps reading stock 0. */
function restockedProduct(i: number, shape: DataShape): number {
  const n = 1 + ((i * 13) % shape.products);
  return n % 10 !== 0 ? n : n === shape.products ? n - 1 : n + 1;
}

export const OPERATIONS: Record<OperationName, Operation> = {
  'heavy-read': {
    name: 'heavy-read',
    title: 'products page → everything on them → reviews → authors → orders → items → products; users page → reviews, orders → products',
    query: document('heavy-read'),
    write: false,
    variables(i, shape) {
      // The page sizes written in heavy-read.graphql.
      const HEAVY_PAGE = 20;
      const USERS_PAGE = 10;
      const pages = Math.max(1, Math.floor(shape.products / HEAVY_PAGE) - 1);
      const offset = ((i * 7) % pages) * HEAVY_PAGE;
      const userPages = Math.max(1, Math.floor(shape.users / USERS_PAGE) - 1);
      const userOffset = ((i * 3) % userPages) * USERS_PAGE;
      return {
        after: offset === 0 ? null : encodeCursor('product', offset),
        usersAfter: userOffset === 0 ? null : encodeCursor('user', userOffset),
      };
    },
  },
  'deep-read': {
    name: 'deep-read',
    title: 'products page → stock, shipping, reviews → author → orders',
    query: document('deep-read'),
    write: false,
    variables(i, shape) {
      const pages = Math.max(1, Math.floor(shape.products / PAGE) - 1);
      const offset = ((i * 7) % pages) * PAGE;
      return { first: PAGE, after: offset === 0 ? null : encodeCursor('product', offset) };
    },
  },
  'user-read': {
    name: 'user-read',
    title: 'user → orders → items → product; user → reviews → product',
    query: document('user-read'),
    write: false,
    variables: (i, shape) => ({ id: String(1 + ((i * 7919) % shape.users)) }),
  },
  waitlist: {
    name: 'waitlist',
    title: "product's waitlist → users by email (second key)",
    query: document('waitlist'),
    write: false,
    variables: (i, shape) => ({ id: String(outOfStockProduct(i, shape)) }),
  },
  restock: {
    name: 'restock',
    title: 'mutation restock(+1) → product name',
    query: document('restock'),
    write: true,
    variables: (i, shape) => ({ productId: String(restockedProduct(i, shape)), quantity: 1 }),
  },
};
