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

// --- Mixed scenario: skewed keys ------------------------------------------------------------------

/** How the mixed scenario picks keys: Zipf with this exponent over the key space, from this seed. */
export interface Skew {
  exponent: number;
  seed: number;
}

/** A 32-bit hash of (seed, i) as a number in [0, 1): the i-th draw, the same in every run and system. */
function uniform(seed: number, i: number): number {
  let x = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b) >>> 0;
  return ((x ^ (x >>> 16)) >>> 0) / 2 ** 32;
}

const cumulative = new Map<string, Float64Array>();
/**
 * The rank (0 = most popular) of draw i from Zipf(exponent) over n keys: P(rank k) ∝ 1 / (k + 1)^s,
 * by inverse transform on the cumulative table (built once per n and s).
 */
export function zipfRank(n: number, skew: Skew, i: number): number {
  const key = `${n}:${skew.exponent}`;
  let table = cumulative.get(key);
  if (!table) {
    table = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) table[k] = sum += 1 / (k + 1) ** skew.exponent;
    for (let k = 0; k < n; k++) table[k]! /= sum;
    cumulative.set(key, table);
  }
  const u = uniform(skew.seed, i);
  let [lo, hi] = [0, n - 1];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (table[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Spreads ranks over the key space (rank 0 stays key 0): k ↦ k·m mod n with m coprime to n. */
function spread(rank: number, n: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  let m = 7919;
  while (gcd(m, n) !== 1) m++;
  return (rank * m) % n;
}

/** The products pages deep-read reads (the same count as its rotating variables use). */
const pagesOf = (shape: DataShape) => Math.max(1, Math.floor(shape.products / PAGE) - 1);

/** deep-read's page or user-read's user for draw i: Zipf over pages / user ids. */
export function skewedOperation(name: 'deep-read' | 'user-read', skew: Skew): Operation {
  const base = OPERATIONS[name];
  if (name === 'deep-read') {
    return {
      ...base,
      variables(i, shape) {
        const offset = spread(zipfRank(pagesOf(shape), skew, i), pagesOf(shape)) * PAGE;
        return { first: PAGE, after: offset === 0 ? null : encodeCursor('product', offset) };
      },
    };
  }
  return { ...base, variables: (i, shape) => ({ id: String(1 + spread(zipfRank(shape.users, skew, i), shape.users)) }) };
}

/**
 * The product the i-th write changes: Zipf over the products on deep-read's pages, ranked with
 * their page (the ten most written products are the ten on the most read page), so writes land
 * where the reads are.
 */
export function skewedProduct(i: number, shape: DataShape, skew: Skew): number {
  const pages = pagesOf(shape);
  const rank = zipfRank(pages * PAGE, { ...skew, seed: skew.seed ^ 0x5bd1e995 }, i);
  return spread(Math.floor(rank / PAGE), pages) * PAGE + (rank % PAGE) + 1;
}

/** The writer's documents: each write, and the read that checks its value came through. */
export const MIXED_DOCUMENTS = {
  updatePrice: `mutation BenchPrice($id: ID!, $priceCents: Int!) { updateProductPrice(id: $id, priceCents: $priceCents) { product { id priceCents } } }`,
  restock: `mutation BenchRestock($productId: ID!) { restock(productId: $productId, quantity: 1) { product { id stock } } }`,
  addReview: `mutation BenchReview($input: AddReviewInput!) { addReview(input: $input) { review { id } } }`,
  probe: `query BenchProbe($id: ID!) { product(id: $id) { id priceCents stock reviewCount } }`,
} as const;
