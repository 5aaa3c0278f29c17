import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ATTEMPT_HEADER,
  ConfigError,
  createLogger,
  createSignatureVerifier,
  EVENTS_PATH,
  httpTransport,
  loadEventEndpoints,
  memoryNonceStore,
  outboxBacklog,
  publishEvent,
  startRelay,
  type EventEnvelope,
  type Relay,
} from '../src/index.ts';
import { eventDatabase, type EventDatabase } from './support/event-db.ts';

/**
 * The router as a destination of events, in the embedded (HTTP) mode: with ROUTER_URL and
 * ROUTER_EVENTS_SECRET set, a publisher's relay pushes every event whose contract declares
 * `changes` to the router's /internal/events, signed with the router's events secret, in order
 * per aggregate and retried like any delivery; other events never go there. Publisher: inventory,
 * on a real (PGlite) outbox; the router and orders are small HTTP servers standing in for them.
 */
const ROUTER_SECRET = 'the-routers-events-secret-for-these-tests';
const ORDERS_SECRET = 'the-orders-events-secret-for-these-tests!';
const logger = createLogger('events-router-test', 'silent');

interface Arrival {
  envelope: EventEnvelope;
  attempt: string | undefined;
  path: string | undefined;
  signed: boolean;
}

/** Answers 200 to each signed push it accepts; `refuse` may turn one away with a 503 first. */
async function standIn(secret: string, refuse: (envelope: EventEnvelope, attempt: number) => boolean = () => false) {
  const arrivals: Arrival[] = [];
  const verify = createSignatureVerifier({ secret, nonces: memoryNonceStore() });
  const read = async (request: IncomingMessage) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    return body;
  };
  const server: Server = createServer(async (request, response) => {
    const body = await read(request);
    const check = await verify({ method: request.method ?? 'GET', path: request.url ?? '/', headers: request.headers, body });
    const envelope = JSON.parse(body) as EventEnvelope;
    const attempt = request.headers[ATTEMPT_HEADER] as string | undefined;
    arrivals.push({ envelope, attempt, path: request.url, signed: check.ok });
    if (!check.ok) return void response.writeHead(401).end();
    response.writeHead(refuse(envelope, Number(attempt)) ? 503 : 200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    arrivals,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('ROUTER_URL and ROUTER_EVENTS_SECRET', () => {
  const subscribers = { SUBGRAPH_ORDERS_URL: 'http://127.0.0.1:4005/graphql', ORDERS_EVENTS_SECRET: ORDERS_SECRET };

  it('both set: the router is a destination of every event that changes supergraph entities, beside the subscribers', () => {
    const endpoints = loadEventEndpoints(['orders'], { ...subscribers, ROUTER_URL: 'http://localhost:4000', ROUTER_EVENTS_SECRET: ROUTER_SECRET });
    expect(endpoints.router).toEqual({ url: 'http://localhost:4000', secret: ROUTER_SECRET });
    const transport = httpTransport(endpoints);
    expect(transport.destinations('inventory', 'StockReserved')).toEqual(['orders', 'router']);
    expect(transport.destinations('inventory', 'StockChanged')).toEqual(['router']);
    expect(transport.destinations('reviews', 'ReviewAdded')).toEqual(['router']);
    expect(transport.destinations('products', 'ProductPriceChanged')).toEqual(['orders', 'router']);
    expect(transport.destinations('inventory', 'StockRejected')).toEqual(['orders']);
    expect(transport.destinations('orders', 'OrderPlaced')).toEqual(['inventory', 'router']);
    expect(transport.destinations('orders', 'OrderStatusChanged')).toEqual(['router']);
  });

  it('neither set (or set empty): no router destination, as before', () => {
    for (const router of [{}, { ROUTER_URL: '', ROUTER_EVENTS_SECRET: '' }]) {
      const endpoints = loadEventEndpoints(['orders'], { ...subscribers, ...router });
      expect(endpoints.router).toBeUndefined();
      const transport = httpTransport(endpoints);
      expect(transport.destinations('inventory', 'StockReserved')).toEqual(['orders']);
      expect(transport.destinations('inventory', 'StockChanged')).toEqual([]);
    }
  });

  it.each([
    ['ROUTER_URL alone', { ROUTER_URL: 'http://localhost:4000' }, 'ROUTER_EVENTS_SECRET: is required when ROUTER_URL is set'],
    ['ROUTER_EVENTS_SECRET alone', { ROUTER_EVENTS_SECRET: ROUTER_SECRET }, 'ROUTER_URL: is required when ROUTER_EVENTS_SECRET is set'],
    ['a short secret', { ROUTER_URL: 'http://localhost:4000', ROUTER_EVENTS_SECRET: 'short' }, 'ROUTER_EVENTS_SECRET: must be at least 32 characters (got 5 characters)'],
    ['a URL that is not http', { ROUTER_URL: 'localhost:4000', ROUTER_EVENTS_SECRET: ROUTER_SECRET }, 'ROUTER_URL: must be an http:// or https:// URL'],
  ])('%s is a ConfigError naming what is missing or wrong', (_name, router, message) => {
    let error: unknown;
    try {
      loadEventEndpoints(['orders'], { ...subscribers, ...router });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
    // Never the secret itself.
    expect((error as Error).message).not.toContain(ROUTER_SECRET);
  });

  it('reports a router problem together with the subscribers’ ones', () => {
    expect(() => loadEventEndpoints(['orders'], { ROUTER_URL: 'http://localhost:4000' })).toThrow(
      /SUBGRAPH_ORDERS_URL[\s\S]*ORDERS_EVENTS_SECRET[\s\S]*ROUTER_EVENTS_SECRET|ROUTER_EVENTS_SECRET[\s\S]*SUBGRAPH_ORDERS_URL[\s\S]*ORDERS_EVENTS_SECRET/,
    );
  });
});

describe('a relay with the router configured', () => {
  let database: EventDatabase;
  let router: Awaited<ReturnType<typeof standIn>>;
  let orders: Awaited<ReturnType<typeof standIn>>;
  let relay: Relay;

  beforeAll(async () => {
    database = await eventDatabase();
    // The router refuses the first push of product 3's stock of 5 once: it must come again, before the next one of product 3.
    router = await standIn(ROUTER_SECRET, (envelope, attempt) => envelope.type === 'StockChanged' && (envelope.payload as { stock: number }).stock === 5 && attempt === 1);
    orders = await standIn(ORDERS_SECRET);
    const endpoints = loadEventEndpoints(['orders'], {
      SUBGRAPH_ORDERS_URL: `${orders.url}/graphql`,
      ORDERS_EVENTS_SECRET: ORDERS_SECRET,
      ROUTER_URL: router.url,
      ROUTER_EVENTS_SECRET: ROUTER_SECRET,
    });
    relay = startRelay({ db: database.client, transport: httpTransport({ ...endpoints, timeoutMs: 2_000 }), logger, pollMs: 20, retryBaseMs: 50, retryMaxMs: 200 });
  });
  afterAll(async () => {
    await relay?.stop();
    await router?.close();
    await orders?.close();
    await database?.close();
  });

  it('pushes the events that change entities to the router, signed with its secret, in order per aggregate after a retry; the others only to their subscribers', async () => {
    await database.client.$transaction(async (tx) => {
      await publishEvent(tx, { source: 'inventory', type: 'StockChanged', aggregate: 'product:3', payload: { productId: 3, stock: 5 } });
      await publishEvent(tx, { source: 'inventory', type: 'StockReserved', aggregate: 'order:1', payload: { orderId: 1, items: [{ productId: 3, quantity: 2 }] } });
      await publishEvent(tx, { source: 'inventory', type: 'StockRejected', aggregate: 'order:2', payload: { orderId: 2, reason: 'INSUFFICIENT_STOCK', productId: 3, message: 'product 3 has 3 left, 9 asked' } });
      await publishEvent(tx, { source: 'inventory', type: 'StockChanged', aggregate: 'product:3', payload: { productId: 3, stock: 6 } });
    });
    await relay.drain();

    const ofProduct3 = router.arrivals.filter((a) => a.envelope.aggregate === 'product:3').map(({ envelope, attempt }) => ({ type: envelope.type, payload: envelope.payload, attempt }));
    // Refused once (503), sent again, and only then the next change of product 3.
    expect(ofProduct3).toEqual([
      { type: 'StockChanged', payload: { productId: 3, stock: 5 }, attempt: '1' },
      { type: 'StockChanged', payload: { productId: 3, stock: 5 }, attempt: '2' },
      { type: 'StockChanged', payload: { productId: 3, stock: 6 }, attempt: '1' },
    ]);
    expect(router.arrivals.map((a) => a.envelope.type).sort()).toEqual(['StockChanged', 'StockChanged', 'StockChanged', 'StockReserved']);
    expect(router.arrivals.every((a) => a.signed && a.path === EVENTS_PATH)).toBe(true);
    expect(router.arrivals.find((a) => a.envelope.type === 'StockReserved')?.envelope).toMatchObject({
      source: 'inventory',
      version: 1,
      aggregate: 'order:1',
      payload: { orderId: 1, items: [{ productId: 3, quantity: 2 }] },
    });
    // Orders gets what it subscribes to, and nothing of the router's.
    expect(orders.arrivals.map((a) => a.envelope.type)).toEqual(['StockReserved', 'StockRejected']);
    expect(orders.arrivals.every((a) => a.signed)).toBe(true);
    expect((await outboxBacklog(database.client)).pending).toEqual({});
    const deliveries = await database.client.$queryRawUnsafe<{ destination: string; n: bigint }[]>(
      'SELECT destination, count(*) AS n FROM outbox_deliveries GROUP BY destination ORDER BY destination',
    );
    expect(deliveries.map((row) => [row.destination, Number(row.n)])).toEqual([
      ['orders', 2],
      ['router', 3],
    ]);
  });
});
