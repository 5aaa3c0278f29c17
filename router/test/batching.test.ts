import { encodeCursor } from '@commerce/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSupergraph, type Supergraph, type SubgraphName } from './support/supergraph.ts';

/**
 * One SQL statement per plan step: the SQL each service runs for an operation must not grow with
 * the number of entities. Counted through the database layer's hook (every statement a service's
 * Prisma client sends), at 10, 100 and 1000 entities per plan step. An N+1 anywhere fails here.
 */

let graph: Supergraph;

// Beyond the seed: users 51..150, each with 10 orders of one item, over products 1..1000, each
// product with one review by one of those users. So `n` users → 10n orders, items and products.
const EXTRA_USERS = 100;
const ORDERS_PER_USER = 10;
const PRODUCTS = 1000;

beforeAll(async () => {
  // These operations are far past the default node limit on purpose (up to 100 × 10 × 50 items).
  // Relays idle (a look a minute) so their outbox polling is not counted as the operations' SQL.
  graph = await startSupergraph({ router: { limits: { maxNodes: 1_000_000 } }, relay: { pollMs: 60_000 } });
  await graph.client('accounts').user.createMany({
    data: Array.from({ length: EXTRA_USERS }, (_, i) => ({ email: `bulk${i + 51}@example.com`, name: `Bulk ${i + 51}` })),
  });
  const seededProducts = await graph.client('products').product.count();
  await graph.client('products').product.createMany({
    data: Array.from({ length: PRODUCTS - seededProducts }, (_, i) => {
      const n = seededProducts + i + 1;
      return { sku: `BULK-${n}`, name: `Bulk product ${n}`, description: '', priceCents: 500 + n, weightGrams: 100 + n, category: 'HOME' as const };
    }),
  });
  await graph.client('inventory').inventoryItem.createMany({
    data: Array.from({ length: PRODUCTS - seededProducts }, (_, i) => ({ productId: seededProducts + i + 1, stock: i % 7 })),
  });
  await graph.client('reviews').review.createMany({
    data: Array.from({ length: PRODUCTS }, (_, i) => ({ productId: i + 1, authorId: 51 + (i % EXTRA_USERS), rating: (i % 5) + 1, body: 'Bulk' })),
  });
  let order = 0;
  for (let u = 0; u < EXTRA_USERS; u++) {
    for (let k = 0; k < ORDERS_PER_USER; k++) {
      const created = await graph.client('orders').order.create({
        data: { userId: 51 + u, status: 'PAID', items: { create: [{ productId: (order % PRODUCTS) + 1, quantity: 1, unitPriceCents: 100 }] } },
      });
      expect(created.id).toBeGreaterThan(0);
      order++;
    }
  }
});
afterAll(() => graph?.close());

const DEEP = `query($n: Int!, $after: String) {
  users(first: $n, after: $after) {
    nodes {
      name
      orders(first: ${ORDERS_PER_USER}) {
        id totalCents
        items { quantity product { name stock shippingEstimateCents reviewCount reviews(first: 1) { rating author { name } } } }
      }
    }
  }
}`;

// What the query plan implies, per service: fetches (HTTP requests) and loader batches (SQL).
//   accounts  → the users page (1 statement); later _entities User for the reviewers (1)
//   orders    → _entities User: orders per user (1) + items per order, shared by totalCents (1)
//   products  → _entities Product: products by id (1)
//   inventory → one request for two fetches: `stock`, planned in parallel with products since it
//               needs only the id (1), waits for `shippingEstimateCents`, planned after products has
//               supplied price and weight (@requires, arithmetic on the representation: no SQL), and
//               goes out merged with it (fetch-plan.ts)
//   reviews   → _entities Product: rating stats (1) + newest review per product (1)
const EXPECTED_REQUESTS: Record<SubgraphName, number> = { accounts: 2, orders: 1, products: 1, inventory: 1, reviews: 1 };
const EXPECTED_STATEMENTS: Record<SubgraphName, number> = { accounts: 2, orders: 2, products: 1, inventory: 1, reviews: 2 };

describe('statements per operation do not grow with the number of entities', () => {
  it.each([1, 10, 100])('a deep read over %i users (10× as many orders, items, products, reviewers)', async (users) => {
    const { result, statements, requests } = await graph.measure(() =>
      graph.query(DEEP, { n: users, after: encodeCursor('user', 50) }, { userId: 1 }),
    );
    expect(result.errors).toBeUndefined();
    const nodes = result.data?.users.nodes as { orders: { items: { product: { name: string; reviews: { author: { name: string } }[] } }[] }[] }[];
    expect(nodes).toHaveLength(users);
    const items = nodes.flatMap((u) => u.orders.flatMap((o) => o.items));
    expect(items).toHaveLength(users * ORDERS_PER_USER);
    expect(items.every((i) => i.product.name && i.product.reviews[0]?.author.name.startsWith('Bulk'))).toBe(true);
    expect(requests).toEqual(EXPECTED_REQUESTS);
    expect(statements).toEqual(EXPECTED_STATEMENTS);
  });
});

/** `_entities` exactly as the router sends one plan step (signed, as an admin), straight to the subgraph over HTTP. */
async function entities(service: SubgraphName, representations: unknown[], selection: string) {
  const response = await graph.callSubgraph(service, {
    query: `query($r: [_Any!]!) { _entities(representations: $r) { ${selection} } }`,
    variables: { r: representations },
  });
  return (await response.json()) as { data?: { _entities: unknown[] }; errors?: unknown[] };
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1));

describe('every entity lookup is one batch per loader, at 10, 100 and 1000 keys', () => {
  const cases: [string, SubgraphName, (n: number) => unknown[], string, number][] = [
    ['User by id', 'accounts', (n) => ids(n).map((id) => ({ __typename: 'User', id })), '... on User { name email }', 1],
    ['User by email', 'accounts', (n) => ids(n).map((id) => ({ __typename: 'User', email: `user${id}@example.com` })), '... on User { id name }', 1],
    ['Product by id', 'products', (n) => ids(n).map((id) => ({ __typename: 'Product', id })), '... on Product { name priceCents }', 1],
    ['Product by sku', 'products', (n) => ids(n).map((id) => ({ __typename: 'Product', sku: `SKU-${id.padStart(4, '0')}` })), '... on Product { id name }', 1],
    [
      'Product stock, shipping and waitlist',
      'inventory',
      (n) => ids(n).map((id) => ({ __typename: 'Product', id, priceCents: 999, weightGrams: 1200 })),
      '... on Product { stock inStock shippingEstimateCents waitlist { email } }',
      2,
    ],
    ['Review by id', 'reviews', (n) => ids(n).map((id) => ({ __typename: 'Review', id })), '... on Review { rating author { id } product { id } }', 1],
    [
      'Product reviews and stats',
      'reviews',
      (n) => ids(n).map((id) => ({ __typename: 'Product', id })),
      '... on Product { averageRating reviewCount reviews(first: 3) { rating } }',
      2,
    ],
    ['User reviews', 'reviews', (n) => ids(n).map((id) => ({ __typename: 'User', id })), '... on User { reviews(first: 2) { id } }', 1],
    ['Order with items and total', 'orders', (n) => ids(n).map((id) => ({ __typename: 'Order', id })), '... on Order { totalCents items { quantity product { id } } user { id } }', 2],
    ['User orders', 'orders', (n) => ids(n).map((id) => ({ __typename: 'User', id })), '... on User { orders(first: 3) { id totalCents } }', 2],
  ];

  it.each(cases)('%s (%s)', async (_name, service, representations, selection, expected) => {
    const counts: number[] = [];
    for (const n of [10, 100, 1000]) {
      const { result, statements } = await graph.measure(() => entities(service, representations(n), selection));
      expect(result.errors).toBeUndefined();
      expect(result.data?._entities).toHaveLength(n);
      counts.push(statements[service]);
    }
    expect(counts).toEqual([expected, expected, expected]);
  });
});
