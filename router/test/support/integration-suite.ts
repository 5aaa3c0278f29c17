import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './eventually.ts';
import type { Caller, Supergraph } from './supergraph.ts';

/** Seeded user 1 is the admin. */
const ADMIN: Caller = { userId: 1 };

/**
 * The integration suite: every behaviour a client relies on, against a whole supergraph started by
 * `start` (embedded PGlite, or PostgreSQL with provisioned app roles). Same assertions for both.
 */
export function defineIntegrationSuite(title: string, start: () => Promise<Supergraph>, { skip = false } = {}) {
  describe.skipIf(skip)(title, () => {
    let graph: Supergraph;

    beforeAll(async () => {
      graph = await start();
    });
    afterAll(() => graph?.close());

    const codes = (errors: { extensions?: Record<string, unknown> }[] | undefined) => (errors ?? []).map((e) => e.extensions?.code);

    describe('cross-service reads', () => {
      it('joins a product with its stock, shipping estimate, reviews, their authors and rating stats', async () => {
        const result = await graph.query(`{
          product(id: "1") {
            id sku name priceCents weightGrams category
            stock inStock shippingEstimateCents
            reviewCount averageRating
            reviews(first: 3) { id rating author { id name email } }
          }
        }`, undefined, ADMIN);
        expect(result.status).toBe(200);
        expect(result.errors).toBeUndefined();
        expect(result.data?.product).toEqual({
          id: '1',
          sku: 'SKU-0001',
          name: 'Classic Novel',
          priceCents: 13599,
          weightGrams: 8797,
          category: 'BOOKS',
          stock: 100,
          inStock: true,
          // 135.99 is over the free-shipping threshold.
          shippingEstimateCents: 0,
          reviewCount: 6,
          averageRating: 3.5,
          reviews: [
            { id: '474', rating: expect.any(Number), author: expect.objectContaining({ id: expect.any(String) }) },
            { id: '472', rating: expect.any(Number), author: expect.objectContaining({ id: expect.any(String) }) },
            { id: '461', rating: expect.any(Number), author: expect.objectContaining({ id: expect.any(String) }) },
          ],
        });

        // Every nested value equals what the owning service's own database says.
        const rows = await graph.client('reviews').review.findMany({ where: { id: { in: [474, 472, 461] } } });
        const users = await graph.client('accounts').user.findMany({ where: { id: { in: rows.map((r) => r.authorId) } } });
        for (const review of result.data?.product.reviews ?? []) {
          const row = rows.find((r) => String(r.id) === review.id)!;
          const author = users.find((u) => u.id === row.authorId)!;
          expect(review).toEqual({ id: review.id, rating: row.rating, author: { id: String(author.id), name: author.name, email: author.email } });
        }
      });

      it('computes the shipping estimate from the price and weight products holds (@requires)', async () => {
        const cheap = await graph.client('products').product.findMany({ where: { priceCents: { lt: 10_000 } }, orderBy: { id: 'asc' }, take: 3 });
        expect(cheap.length).toBeGreaterThan(0);
        const result = await graph.query(`query($id: ID!) { a: product(id: $id) { weightGrams shippingEstimateCents } }`, { id: String(cheap[0]!.id) });
        expect(result.errors).toBeUndefined();
        expect(result.data?.a).toEqual({
          weightGrams: cheap[0]!.weightGrams,
          shippingEstimateCents: 499 + 99 * Math.ceil(cheap[0]!.weightGrams / 500),
        });
      });

      it('joins a user with their orders, the items’ product names and their reviews', async () => {
        const result = await graph.query(`{
          user(id: "1") {
            name email
            orders {
              id status totalCents
              items { quantity unitPriceCents product { id name sku } }
            }
            reviews(first: 5) { id rating product { id name } }
          }
        }`, undefined, { userId: 1 });
        expect(result.errors).toBeUndefined();
        const user = result.data?.user;
        expect(user.name).toBe('Ada Lovelace');
        expect(user.email).toBe('user1@example.com');
        expect(user.orders.map((o: { id: string; status: string; totalCents: number }) => [o.id, o.status, o.totalCents])).toEqual([
          ['101', 'PAID', 83998],
          ['2', 'DELIVERED', 173393],
          ['1', 'DELIVERED', 84197],
        ]);
        expect(user.orders[2].items).toEqual([
          { quantity: 2, unitPriceCents: 26799, product: { id: '189', name: expect.any(String), sku: 'SKU-0189' } },
          { quantity: 1, unitPriceCents: 30599, product: { id: '110', name: expect.any(String), sku: 'SKU-0110' } },
        ]);
        expect(user.reviews.map((r: { id: string }) => r.id)).toEqual(['576', '571', '471', '350', '340']);

        // Product names come from products' own rows, matched by key.
        const productIds = [
          ...user.orders.flatMap((o: { items: { product: { id: string } }[] }) => o.items.map((i) => Number(i.product.id))),
          ...user.reviews.map((r: { product: { id: string } }) => Number(r.product.id)),
        ];
        const products = await graph.client('products').product.findMany({ where: { id: { in: productIds } } });
        const nameOf = new Map(products.map((p) => [String(p.id), p.name]));
        for (const order of user.orders) for (const item of order.items) expect(item.product.name).toBe(nameOf.get(item.product.id));
        for (const review of user.reviews) expect(review.product.name).toBe(nameOf.get(review.product.id));
      });

      it('resolves users referenced only by email through accounts’ email key, null for an email without an account', async () => {
        const result = await graph.query(`{ product(id: "10") { stock inStock waitlist { id name email } } }`, undefined, ADMIN);
        expect(result.errors).toBeUndefined();
        expect(result.data?.product).toEqual({
          stock: 0,
          inStock: false,
          waitlist: [
            { id: '21', name: 'Ada Turing', email: 'user21@example.com' },
            { id: '34', name: 'Barbara Liskov', email: 'user34@example.com' },
            { id: '47', name: 'Donald Dijkstra', email: 'user47@example.com' },
            null,
          ],
        });
      });

      it('follows keys several services deep: waitlisted users’ orders and reviews', async () => {
        const result = await graph.query(`{ product(id: "20") { waitlist { email orders(first: 1) { id } reviews(first: 1) { id } } } }`, undefined, ADMIN);
        expect(result.errors).toBeUndefined();
        const waitlist = result.data?.product.waitlist as { email: string; orders: { id: string }[]; reviews: { id: string }[] }[];
        expect(waitlist.map((u) => u.email)).toEqual(['user41@example.com', 'user4@example.com', 'user17@example.com']);
        for (const entry of waitlist) {
          const userId = Number(entry.email.match(/\d+/)![0]);
          const newestOrder = await graph.client('orders').order.findFirst({ where: { userId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
          expect(entry.orders.map((o) => o.id)).toEqual(newestOrder ? [String(newestOrder.id)] : []);
        }
      });

      it('pages through products by category with cursors', async () => {
        const first = await graph.query(`{ products(category: TOYS, first: 2) { nodes { id category stock } pageInfo { hasNextPage endCursor } } }`);
        expect(first.errors).toBeUndefined();
        expect(first.data?.products.nodes).toEqual([
          { id: '5', category: 'TOYS', stock: expect.any(Number) },
          { id: '10', category: 'TOYS', stock: 0 },
        ]);
        const next = await graph.query(`query($after: String) { products(category: TOYS, first: 2, after: $after) { nodes { id } } }`, {
          after: first.data?.products.pageInfo.endCursor,
        });
        expect(next.data?.products.nodes).toEqual([{ id: '15' }, { id: '20' }]);
      });
    });

    describe('writes through the router', () => {
      it('adds a review and the product’s stats change', async () => {
        const before = await graph.query(`{ product(id: "12") { reviewCount averageRating reviews { id } } }`);
        expect(before.data?.product).toEqual({ reviewCount: 0, averageRating: null, reviews: [] });
        const added = await graph.query(
          `mutation { addReview(input: { productId: "12", rating: 4, body: "Sturdy." }) { review { id rating author { name } product { name } } } }`,
          undefined,
          { userId: 3 },
        );
        expect(added.errors).toBeUndefined();
        expect(added.data?.addReview.review).toMatchObject({ id: '601', rating: 4, author: { name: 'Alan Lovelace' } });
        const after = await graph.query(`{ product(id: "12") { reviewCount averageRating reviews { id body } } }`);
        expect(after.data?.product).toEqual({ reviewCount: 1, averageRating: 4, reviews: [{ id: '601', body: 'Sturdy.' }] });
      });

      it('restocks a product and it is back in stock', async () => {
        const result = await graph.query(`mutation { restock(productId: "30", quantity: 7) { product { id name stock inStock } } }`, undefined, ADMIN);
        expect(result.errors).toBeUndefined();
        expect(result.data?.restock.product).toEqual({ id: '30', name: expect.any(String), stock: 7, inStock: true });
      });

      it('changes a price and the shipping estimate follows it', async () => {
        const result = await graph.query(`mutation { updateProductPrice(id: "2", priceCents: 999) { product { priceCents weightGrams shippingEstimateCents } } }`, undefined, ADMIN);
        expect(result.errors).toBeUndefined();
        const { weightGrams } = result.data?.updateProductPrice.product;
        expect(result.data?.updateProductPrice.product).toEqual({
          priceCents: 999,
          weightGrams,
          shippingEstimateCents: 499 + 99 * Math.ceil(weightGrams / 500),
        });
      });

      it('signs a new user up, who can then read their own account with the token', async () => {
        const created = await graph.query(
          `mutation { signUp(input: { email: "grace@example.com", name: "Grace", password: "a long enough secret" }) { accessToken user { id } } }`,
        );
        expect(created.errors).toBeUndefined();
        const { accessToken, user } = created.data?.signUp;
        const found = await graph.query(`{ me { id email orders { id } reviews { id } } }`, undefined, { authorization: `Bearer ${accessToken}` });
        expect(found.errors).toBeUndefined();
        expect(found.data?.me).toEqual({ id: user.id, email: 'grace@example.com', orders: [], reviews: [] });
      });
    });

    describe('bad input through the router', () => {
      it.each([
        ['a malformed id', 'BAD_USER_INPUT', `{ product(id: "abc") { name } }`],
        ['an unknown id', 'NOT_FOUND', `{ user(id: "9999") { name } }`],
        ['an out-of-range rating', 'BAD_USER_INPUT', `mutation { addReview(input: { productId: "1", rating: 6, body: "x" }) { review { id } } }`],
        ['an empty review body', 'BAD_USER_INPUT', `mutation { addReview(input: { productId: "1", rating: 3, body: "  " }) { review { id } } }`],
        ['a negative quantity', 'BAD_USER_INPUT', `mutation { restock(productId: "1", quantity: -5) { product { stock } } }`],
        ['a page size over the bound', 'BAD_USER_INPUT', `{ products(first: 500) { nodes { id } } }`],
        ['an oversized name', 'BAD_USER_INPUT', `mutation { signUp(input: { email: "x@y.io", name: "${'n'.repeat(500)}", password: "long enough pass" }) { user { id } } }`],
        ['a duplicate email', 'CONFLICT', `mutation { signUp(input: { email: "user5@example.com", name: "Dup", password: "long enough pass" }) { user { id } } }`],
        ['a nested list size over the bound', 'BAD_USER_INPUT', `{ product(id: "1") { name reviews(first: 1000) { id } } }`],
    ])('%s gives %s, a 200 and no internals', async (_what, code, query) => {
        const result = await graph.query(query, undefined, ADMIN);
        expect(result.status).toBe(200);
        expect(codes(result.errors)).toEqual([code]);
        expect(JSON.stringify(result.errors)).not.toMatch(/stacktrace|prisma|\.ts:\d+|127\.0\.0\.1|localhost/i);
      });

      it('keeps the rest of the answer when one nested field is refused', async () => {
        const result = await graph.query(`{ product(id: "1") { name reviews(first: 1000) { id } } }`);
        expect(result.data?.product).toEqual({ name: 'Classic Novel', reviews: null });
      });

      it('answers a query against an unknown field with GRAPHQL_VALIDATION_FAILED', async () => {
        const result = await graph.query(`{ product(id: "1") { nope } }`);
        expect(result.status).toBe(400);
        expect(codes(result.errors)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      });

      it('answers malformed JSON with 400 and a JSON error', async () => {
        const response = await fetch(graph.router.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":' });
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
      });
    });

    describe('a subgraph failing', () => {
      it('reports every subgraph up when all are running', async () => {
        const response = await fetch(`${graph.router.url}/ready`);
        expect(response.status).toBe(200);
        const up = { status: 'up', breaker: 'closed' };
        expect(await response.json()).toEqual({
          ready: true,
          subgraphs: { accounts: up, products: up, inventory: up, reviews: up, orders: up },
        });
      });

      it('returns partial data and an error while inventory is down, and recovers when it is back', async () => {
        await graph.stop('inventory');
        try {
          const result = await graph.query(`{ product(id: "1") { name priceCents stock shippingEstimateCents reviewCount } }`);
          expect(result.status).toBe(200);
          expect(result.data?.product).toEqual({ name: 'Classic Novel', priceCents: 13599, stock: null, shippingEstimateCents: null, reviewCount: 6 });
          expect(result.errors).toEqual([
            expect.objectContaining({ message: 'The inventory service is unavailable', extensions: expect.objectContaining({ code: 'SERVICE_UNAVAILABLE' }) }),
          ]);

          // The router itself is alive and ready, and says which subgraph is missing.
          expect((await fetch(`${graph.router.url}/health`)).status).toBe(200);
          const ready = await fetch(`${graph.router.url}/ready`);
          expect(ready.status).toBe(200);
          expect(((await ready.json()) as { subgraphs: Record<string, { status: string }> }).subgraphs.inventory?.status).toBe('down');

          // Queries that do not touch inventory are unaffected.
          const other = await graph.query(`{ user(id: "2") { name orders(first: 1) { id } } }`, undefined, { userId: 2 });
          expect(other.errors).toBeUndefined();
        } finally {
          await graph.restart('inventory');
        }
        // The breaker opened while inventory was down; it lets a trial request through after its
        // half-open delay, and closes again when that succeeds.
        const recovered = await eventually(() => graph.query(`{ product(id: "1") { stock } }`), (r) => !r.errors);
        expect(recovered.data?.product.stock).toBe(100);
      });

      it('nulls review authors, not the reviews, while accounts is down', async () => {
        await graph.stop('accounts');
        try {
          const result = await graph.query(`{ product(id: "1") { name reviews(first: 2) { id author { name } } } }`);
          expect(result.data?.product).toEqual({
            name: 'Classic Novel',
            reviews: [
              { id: '474', author: null },
              { id: '472', author: null },
            ],
          });
          expect(codes(result.errors)).toEqual(['SERVICE_UNAVAILABLE']);
        } finally {
          await graph.restart('accounts');
        }
        await eventually(() => graph.query(`{ user(id: "1") { name } }`), (r) => !r.errors);
      });
    });
  });
}

