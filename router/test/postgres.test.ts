import { postgresAdminUrl } from '@commerce/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineIntegrationSuite } from './support/integration-suite.ts';
import { startSupergraph, type Supergraph } from './support/supergraph.ts';

// The same suite as on PGlite, each service on its own provisioned PostgreSQL database with its
// app role. Skipped (and reported as skipped) without TEST_POSTGRES_ADMIN_URL.
defineIntegrationSuite('supergraph on PostgreSQL (TEST_POSTGRES_ADMIN_URL)', () => startSupergraph({ postgresAdminUrl }), {
  skip: !postgresAdminUrl,
});

describe.skipIf(!postgresAdminUrl)('concurrency on PostgreSQL (TEST_POSTGRES_ADMIN_URL)', () => {
  let graph: Supergraph;

  beforeAll(async () => {
    // 30 sign-ups hash 30 passwords (scrypt) at once: on 2 cores shared with the rest of CI that
    // took over the harness's 5 s subgraph deadline. These tests are about uniqueness and lost
    // updates, not speed.
    graph = await startSupergraph({ postgresAdminUrl, router: { subgraphTimeoutMs: 30_000 } });
  });
  afterAll(() => graph?.close());

  it('loses no update across 200 concurrent restocks of one product', async () => {
    const before = (await graph.client('inventory').inventoryItem.findUnique({ where: { productId: 7 } }))!.stock;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        graph.query(`mutation($q: Int!) { restock(productId: "7", quantity: $q) { product { stock } } }`, { q: (i % 3) + 1 }, { userId: 1 }),
      ),
    );
    expect(results.filter((r) => r.errors)).toEqual([]);
    const added = Array.from({ length: 200 }, (_, i) => (i % 3) + 1).reduce((a, b) => a + b, 0);
    const after = (await graph.client('inventory').inventoryItem.findUnique({ where: { productId: 7 } }))!.stock;
    expect(after).toBe(before + added);
    // Every response saw a stock that some serial order could produce: all distinct, none above the end.
    const seen = results.map((r) => r.data?.restock.product.stock as number);
    expect(new Set(seen).size).toBe(200);
    expect(Math.max(...seen)).toBe(after);
  });

  it('creates exactly one user for concurrent sign-ups with one email; the rest get clean CONFLICTs', async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        graph.query(`mutation($name: String!) { signUp(input: { email: "same@example.com", name: $name, password: "long enough pass" }) { user { id } } }`, {
          name: `Racer ${i}`,
        }),
      ),
    );
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    const failures = results.filter((r) => r.errors);
    expect(failures.map((r) => r.errors!.map((e) => e.extensions?.code))).toEqual(Array(29).fill(['CONFLICT']));
    expect(JSON.stringify(failures)).not.toMatch(/prisma|constraint|P2002|duplicate key/i);
    expect(await graph.client('accounts').user.count({ where: { email: 'same@example.com' } })).toBe(1);
  });
});
