// The README's example, verbatim: the answer it shows (seed data on a fresh start) and what it
// says the plan costs: two parallel branches, seven subgraph fetches in all, each answered with
// one SQL statement per batch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSupergraph, type Supergraph } from './support/supergraph.ts';

const EXAMPLE = `{
  product(id: "1") {
    name priceCents stock shippingEstimateCents averageRating reviewCount
    reviews(first: 2) { rating author { name } }
  }
  user(id: "1") {
    name
    orders(first: 1) { id totalCents items { quantity product { name } } }
  }
}`;

const ANSWER = {
  data: {
    product: {
      name: 'Classic Novel',
      priceCents: 13599,
      stock: 100,
      shippingEstimateCents: 0,
      averageRating: 3.5,
      reviewCount: 6,
      reviews: [
        { rating: 4, author: { name: 'Alan Hopper' } },
        { rating: 4, author: { name: 'Frances Dijkstra' } },
      ],
    },
    user: {
      name: 'Ada Lovelace',
      orders: [
        {
          id: '101',
          totalCents: 83998,
          items: [
            { quantity: 1, product: { name: 'Vintage Hammock' } },
            { quantity: 1, product: { name: 'Cosy Novel' } },
          ],
        },
      ],
    },
  },
};

describe("the README's example", () => {
  let graph: Supergraph;

  beforeAll(async () => {
    // Relays idle (a look a minute), so their outbox polling is not counted as the example's SQL.
    graph = await startSupergraph({ relay: { pollMs: 60_000 } });
  });
  afterAll(() => graph?.close());

  it('answers exactly what the README shows, signed in as user 1', async () => {
    const { status, ...answer } = await graph.query(EXAMPLE, undefined, { userId: 1 });
    expect(status).toBe(200);
    expect(answer).toEqual(ANSWER);
  });

  it('without a token: the same product, and user.orders null with UNAUTHENTICATED', async () => {
    const answer = await graph.query(EXAMPLE);
    expect(answer.data).toEqual({ product: ANSWER.data.product, user: { name: 'Ada Lovelace', orders: null } });
    expect(answer.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['user', 'orders'], 'UNAUTHENTICATED']]);
  });

  it('costs seven subgraph fetches, one SQL statement per batch', async () => {
    const { result, requests, statements } = await graph.measure(() => graph.query(EXAMPLE, undefined, { userId: 1 }));
    expect(result.errors).toBeUndefined();
    // products: the product, then the items' names; accounts: the reviewers, and the user.
    expect(requests).toEqual({ accounts: 2, products: 2, inventory: 1, reviews: 1, orders: 1 });
    expect(statements).toEqual({ accounts: 2, products: 2, inventory: 1, reviews: 2, orders: 2 });
  });
});
