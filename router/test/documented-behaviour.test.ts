import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signingSecretVariable } from '../src/env.ts';
import { startSupergraph, type Supergraph } from './support/supergraph.ts';

/**
 * Promises of the README and the design notes that no other test held (docs/claims.md), against
 * the whole supergraph over HTTP: the mistakes the gateway would answer with a 500 are refused
 * with 400 BAD_USER_INPUT before any subgraph is asked, and a publisher's event backlog shows on
 * its /metrics as the operator section describes.
 */
let graph: Supergraph;

beforeAll(async () => {
  // Relays retry quickly, so the backlog drains soon after its subscriber is back.
  graph = await startSupergraph({ relay: { pollMs: 20, retryBaseMs: 50, retryMaxMs: 200 } });
});
afterAll(() => graph?.close());

async function post(body: unknown) {
  const response = await fetch(graph.router.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}

describe('mistakes the gateway would answer with a 500', () => {
  it.each([
    ['an unknown operationName', { query: 'query A { __typename }', operationName: 'B' }, 'The document has no operation named "B".'],
    ['several operations and no name', { query: 'query A { __typename } query B { __typename }' }, 'The document has several operations: say which one to run with operationName.'],
    ['a subscription', { query: 'subscription { product(id: "1") { id } }' }, 'This graph has no subscriptions.'],
  ])('answers %s with 400 BAD_USER_INPUT and asks no subgraph', async (_what, body, message) => {
    const { result, requests } = await graph.measure(() => post(body));
    expect(result.status).toBe(400);
    expect(result.body.data).toBeUndefined();
    expect(result.body.errors).toHaveLength(1);
    expect(result.body.errors![0]).toMatchObject({ message, extensions: { code: 'BAD_USER_INPUT' } });
    expect(Object.values(requests).reduce((a, b) => a + b, 0)).toBe(0);
  });
});

describe('an event backlog, as an operator sees it', () => {
  /** The gauges of one service's /metrics, by series. */
  async function metrics(service: 'products'): Promise<Map<string, number>> {
    const response = await fetch(new URL('/metrics', graph.subgraphUrl(service)));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const series = new Map<string, number>();
    for (const line of (await response.text()).split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const at = line.lastIndexOf(' ');
      series.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
    return series;
  }

  it('shows pending deliveries per destination and the oldest pending age on /metrics and /ready while a subscriber is down, and 0 once it is back', async () => {
    await graph.settle();
    const before = await metrics('products');
    // A destination with nothing pending may have no series at all.
    expect(before.get('commerce_events_pending{service="products",destination="reviews"}') ?? 0).toBe(0);
    expect(before.get('commerce_events_oldest_pending_seconds{service="products"}')).toBe(0);
    expect(before.get('commerce_events_parked{service="products"}')).toBe(0);

    await graph.stop('reviews');
    try {
      const created = await graph.query(
        'mutation($input: CreateProductInput!) { createProduct(input: $input) { product { id } } }',
        { input: { sku: 'METRICS-1', name: 'Metrics lamp', description: '', priceCents: 1000, weightGrams: 100, category: 'HOME' } },
        { userId: 1 },
      );
      expect(created.errors).toBeUndefined();
      // orders and inventory take the event; reviews cannot, so it waits in products' outbox.
      let during = await metrics('products');
      const deadline = Date.now() + 10_000;
      while ((during.get('commerce_events_oldest_pending_seconds{service="products"}') ?? 0) < 1 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        during = await metrics('products');
      }
      expect(during.get('commerce_events_pending{service="products",destination="reviews"}')).toBe(1);
      expect(during.get('commerce_events_pending{service="products",destination="orders"}') ?? 0).toBe(0);
      expect(during.get('commerce_events_oldest_pending_seconds{service="products"}')).toBeGreaterThanOrEqual(1);
      const ready = (await (await fetch(new URL('/ready', graph.subgraphUrl('products')))).json()) as { ready: boolean; events: { pending: Record<string, number> } };
      // Never a reason to be unready: delivery catches up by itself.
      expect(ready.ready).toBe(true);
      expect(ready.events.pending.reviews).toBe(1);
    } finally {
      await graph.restart('reviews');
    }
    await graph.settle();
    const after = await metrics('products');
    expect(after.get('commerce_events_pending{service="products",destination="reviews"}') ?? 0).toBe(0);
    expect(after.get('commerce_events_oldest_pending_seconds{service="products"}')).toBe(0);
  });
});

/** The signing secrets the harness's own router uses, by variable name. */
const graphSecrets = () => new Map(Object.entries(graph.routerEnvironment()).filter(([name]) => name.endsWith('_SIGNING_SECRET')));

describe('a subgraph whose signing secret the router does not share (a rotation half done)', () => {
  // The subgraph's 401 is about the router's signature, never the caller's token: an
  // UNAUTHENTICATED here would send clients to sign in again for nothing.
  it('gets 401 from that subgraph once (never retried); its fields are null with one SERVICE_UNAVAILABLE error naming the service, the rest of the answer intact', async () => {
    const wrong = new Map([[signingSecretVariable('inventory'), 'a-secret-inventory-does-not-have-0123456789']]);
    const halfRotated = await graph.startRouter({ signingSecrets: new Map([...graphSecrets(), ...wrong]) });
    try {
      const { result, requests } = await graph.measure(async () => {
        const response = await fetch(halfRotated.graphqlUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ product(id: "1") { name stock } }' }),
        });
        return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[] } };
      });
      expect(result.status).toBe(200);
      expect(result.body.data).toEqual({ product: { name: 'Classic Novel', stock: null } });
      expect(result.body.errors).toHaveLength(1);
      expect(result.body.errors![0]).toEqual({ message: 'The inventory service is unavailable', extensions: { code: 'SERVICE_UNAVAILABLE', requestId: expect.any(String) } });
      expect(requests.inventory).toBe(1);
    } finally {
      await halfRotated.stop();
    }
  });
});
