import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, httpTransport, jetStreamTransport, PoisonEvent, publishEvent, signatureHeaders, type EventClient } from '@commerce/service-kit';
import { deleteStreams, natsUrl, testStreamPrefix } from '@commerce/service-kit/testing/nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventDatabase, type EventDatabase } from '../../subgraphs/kit/test/support/event-db.ts';
import { startEventService } from '../../subgraphs/kit/test/support/event-service.ts';
import { freePort as closedPort } from '@commerce/db/testing';

/**
 * `npm run events` against real services' internal routes: products (a publisher whose
 * subscribers orders and inventory are down, so its deliveries to them wait) and reviews (a
 * subscriber with parked events), each the kit's startServiceEvents on its own PGlite database
 * behind an HTTP server. The command runs as a child process, as an operator would run it.
 */
const EVENTS = fileURLToPath(new URL('../src/events.ts', import.meta.url));
const SECRETS = { products: 'products-events-secret-for-the-cli-test!', reviews: 'reviews-events-secret-for-the-cli-test!!' };
/** Where orders and inventory would be: a port nothing listens on. */
let DOWN: string;

let productsDb: EventDatabase;
let reviewsDb: EventDatabase;
let products: Awaited<ReturnType<typeof startEventService>>;
let reviews: Awaited<ReturnType<typeof startEventService>>;
let dataDir: string;
let fixed = false;

const product = (productId: number) => ({ productId, sku: `SKU-${productId}`, name: `Product ${productId}`, priceCents: 100, revision: 1 });

beforeAll(async () => {
  DOWN = `http://127.0.0.1:${await closedPort()}/graphql`;
  [productsDb, reviewsDb] = await Promise.all([eventDatabase(), eventDatabase()]);
  dataDir = await mkdtemp(join(tmpdir(), 'events-cli-'));
  // Reviews refuses product 13 until "fixed", and product 66 for good.
  const handler = async (_tx: unknown, event: { payload: unknown }) => {
    const { productId } = event.payload as { productId: number };
    if (productId === 13 && !fixed) throw new PoisonEvent('product 13 is cursed');
    if (productId === 66) throw new PoisonEvent('product 66 is beyond repair');
  };
  reviews = await startEventService('reviews', reviewsDb.client, {
    secret: SECRETS.reviews,
    handlers: { 'products.ProductCreated': handler, 'products.ProductSnapshot': handler },
  });
  products = await startEventService('products', productsDb.client, {
    secret: SECRETS.products,
    transport: httpTransport({
      endpoints: new Map([['reviews', reviews.url], ['orders', DOWN], ['inventory', DOWN]]),
      secrets: new Map([['reviews', SECRETS.reviews], ['orders', SECRETS.reviews], ['inventory', SECRETS.reviews]]),
      timeoutMs: 1_000,
    }),
    relay: { pollMs: 20, retryBaseMs: 20_000, retryMaxMs: 20_000 },
    hooks: { backfill: () => publishAll(productsDb.client, [1, 2, 3], 'ProductSnapshot') },
  });
  await publishAll(productsDb.client, [13, 66], 'ProductCreated');
  // Parked at reviews: product 13, product 66 (delivered by the relay) and a body that is not an event.
  await pushTo(reviews.url, SECRETS.reviews, 'not an event at all');
  const deadline = Date.now() + 15_000;
  while ((await reviews.events.status()).parked < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
});
afterAll(async () => {
  await products?.close();
  await reviews?.close();
  await productsDb?.close();
  await reviewsDb?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function publishAll(db: EventClient, ids: number[], type: 'ProductCreated' | 'ProductSnapshot'): Promise<number> {
  await db.$transaction(async (tx) => {
    for (const id of ids) await publishEvent(tx, { source: 'products', type, aggregate: `product:${id}`, payload: product(id) });
  });
  return ids.length;
}

async function pushTo(url: string, secret: string, body: string) {
  const path = '/internal/events';
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  Object.assign(headers, signatureHeaders(secret, { method: 'POST', path, headers, body }));
  await fetch(new URL(path, url), { method: 'POST', headers, body });
}

/** Every variable the command reads, set here and nowhere else (the machine's own are cleared). */
function environment(overrides: Record<string, string> = {}): Record<string, string> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/_EVENTS_SECRET$|^SUBGRAPH_.*_URL$|^DATA_DIR$|^NODE_ENV$/.test(name)),
  ) as Record<string, string>;
  return {
    ...inherited,
    DATA_DIR: dataDir,
    SUBGRAPH_PRODUCTS_URL: products.url,
    SUBGRAPH_REVIEWS_URL: reviews.url,
    SUBGRAPH_ORDERS_URL: DOWN,
    SUBGRAPH_INVENTORY_URL: DOWN,
    PRODUCTS_EVENTS_SECRET: SECRETS.products,
    REVIEWS_EVENTS_SECRET: SECRETS.reviews,
    ORDERS_EVENTS_SECRET: 'o'.repeat(32),
    INVENTORY_EVENTS_SECRET: 'i'.repeat(32),
    ...overrides,
  };
}

function events(args: string[], env = environment()): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [EVENTS, ...args], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('npm run events', () => {
  it('status: pending deliveries per destination, oldest pending age and parked events per service', async () => {
    const shown = await events(['status', 'products', 'reviews']);
    expect(shown).toMatchObject({ code: 0, err: '' });
    const lines = shown.out.split('\n');
    expect(lines[0]).toMatch(/^service +pending deliveries +oldest pending +parked$/);
    // Reviews has had everything (parked counts as delivered); orders and inventory are down.
    // Reviews publishes too (ReviewAdded), and has nothing pending.
    expect(lines[1]).toMatch(/^products +inventory 2, orders 2 +\d+(\.\d)? s +0$/);
    expect(lines[2]).toMatch(/^reviews +none +- +3$/);
    expect(shown.out).toContain('3 parked: see `npm run events -- parked <service>`');

    const json = await events(['status', 'products', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toEqual([
      { service: 'products', backlog: { pending: { inventory: 2, orders: 2 }, oldestPendingSeconds: expect.any(Number), unexpanded: 0 }, parked: 0 },
    ]);
  });

  it('status of every service: the ones that are down are named, and it exits 1', async () => {
    const shown = await events(['status']);
    expect(shown.code).toBe(1);
    expect(shown.out).toMatch(/^orders +UNREACHABLE \(see below\)$/m);
    expect(shown.out).toMatch(/^reviews +none +- +3$/m);
    const { origin } = new URL(DOWN);
    expect(shown.err).toContain(`orders is unreachable at ${origin} (from SUBGRAPH_ORDERS_URL): ECONNREFUSED. Is it running?`);
    expect(shown.err).toContain(`inventory is unreachable at ${origin} (from SUBGRAPH_INVENTORY_URL): ECONNREFUSED. Is it running?`);
  });

  it('parked: every parked event with its reason', async () => {
    const shown = await events(['parked', 'reviews']);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/^reviews: 3 parked events$/m);
    expect(shown.out).toMatch(/^ {2}[0-9a-f-]{36} {2}products\.ProductCreated@1$/m);
    expect(shown.out).toContain('    reason: rejected by its handler: product 13 is cursed');
    expect(shown.out).toContain('    reason: rejected by its handler: product 66 is beyond repair');
    expect(shown.out).toMatch(/^ {2}unidentified-\S+ {2}\(unreadable\)\n {4}parked \S+, 1 attempt\n {4}reason: malformed envelope: /m);
    const json = JSON.parse((await events(['parked', 'reviews', '--json'])).out) as { count: number; events: { eventId: string; reason: string }[] };
    expect(json.count).toBe(3);
    expect((await events(['parked', 'products'])).out).toBe('products: no parked events.\n');
  });

  it('replay: handles what was fixed, reports what is parked again or was never parked, exit 1 unless all went through', async () => {
    const parked = (JSON.parse((await events(['parked', 'reviews', '--json'])).out) as { events: { eventId: string; reason: string }[] }).events;
    const cursed = parked.find((event) => event.reason.includes('cursed'))!.eventId;
    const hopeless = parked.find((event) => event.reason.includes('beyond repair'))!.eventId;
    fixed = true;
    const one = await events(['replay', 'reviews', '--id', cursed]);
    expect(one).toMatchObject({ code: 0, out: `${cursed}  handled\n\nreviews: 1 replayed, 1 done, 0 parked again.\n` });

    const unknown = randomUUID();
    const two = await events(['replay', 'reviews', '--id', hopeless, '--id', unknown]);
    expect(two.code).toBe(1);
    expect(two.out).toContain(`${hopeless}  parked again: rejected by its handler: product 66 is beyond repair`);
    expect(two.out).toContain(`${unknown}  not parked (unknown id, or already replayed)`);

    const all = await events(['replay', 'reviews']);
    expect(all.code).toBe(1);
    expect(all.out).toContain('reviews: 2 replayed, 0 done, 2 parked again.');
    expect((await events(['status', 'reviews', '--json'])).out).toContain('"parked": 2');
  });

  it('backfill: the publisher publishes its snapshot events and says how many', async () => {
    const before = (await products.events.status()).pending;
    const shown = await events(['backfill', 'products']);
    expect(shown).toMatchObject({ code: 0, out: 'products published 3 snapshot events; its relay delivers them to every subscriber (watch with `npm run events -- status`).\n' });
    const after = (await products.events.status()).pending;
    expect(after.orders).toBe((before.orders ?? 0) + 3);
    expect(after.inventory).toBe((before.inventory ?? 0) + 3);
  });

  it('refuses to go on with a secret the service does not accept, and says which secret it used', async () => {
    const shown = await events(['parked', 'reviews'], environment({ REVIEWS_EVENTS_SECRET: 'not-the-secret-reviews-runs-with-at-all' }));
    expect(shown.code).toBe(1);
    expect(shown.err).toMatch(/^reviews at http:\/\/127\.0\.0\.1:\d+ \(from SUBGRAPH_REVIEWS_URL\) refused the signature: the events secret from REVIEWS_EVENTS_SECRET is not the one it runs with/);
  });

  it('reads development secrets from <DATA_DIR>/development-secrets.json, never in production', async () => {
    await writeFile(join(dataDir, 'development-secrets.json'), JSON.stringify({ REVIEWS_EVENTS_SECRET: SECRETS.reviews, PRODUCTS_SIGNING_SECRET: 'x' }));
    const env = environment();
    delete env.REVIEWS_EVENTS_SECRET;
    const development = await events(['parked', 'reviews'], env);
    expect(development.code).toBe(0);
    expect(development.out).toMatch(/^reviews: 2 parked events$/m);
    const production = await events(['parked', 'reviews'], { ...env, NODE_ENV: 'production' });
    expect(production).toMatchObject({ code: 1, out: '', err: 'reviews: no events secret: set REVIEWS_EVENTS_SECRET to the events secret reviews runs with\n' });
  });

  it('answers a wrong command line with its usage and exit 2', async () => {
    const runs = await Promise.all([
      events([]),
      events(['frobnicate']),
      events(['parked', 'router']),
      events(['backfill', 'router']),
      events(['status', '--id', 'x']),
    ]);
    expect(runs.map((run) => [run.code, run.err.split('\n')[0]])).toEqual([
      [2, 'missing command'],
      [2, 'unknown command "frobnicate"'],
      [2, 'parked: "router" is not a service that takes part in events; one of: accounts, products, inventory, reviews, orders'],
      [2, 'backfill: "router" is not a publisher; one of: accounts, products, inventory, reviews, orders'],
      [2, '--id is an option of replay only'],
    ]);
    for (const run of runs) expect(run.err).toContain('usage: npm run events -- <command>');
  });
});

/**
 * On JetStream a subscriber's backlog is in the broker, not in any outbox: status shows, per
 * source stream, how many events each subscriber's consumer has not yet been given and how many
 * it is handling. Inventory here fails its first event (to be delivered again) until released,
 * and takes one at a time, so the rest of products' wait. (A handler that just waited would hold
 * PGlite's one connection, and the status query with it.)
 */
describe.skipIf(!natsUrl)(`npm run events on JetStream${natsUrl ? '' : ' (skipped: set TEST_NATS_URL)'}`, () => {
  const prefix = testStreamPrefix();
  const secrets = { products: 'p'.repeat(32), inventory: 'i'.repeat(32) };
  let released = false;
  const release = () => (released = true);
  let publisherDb: EventDatabase;
  let subscriberDb: EventDatabase;
  let publisher: Awaited<ReturnType<typeof startEventService>>;
  let subscriber: Awaited<ReturnType<typeof startEventService>>;
  const on = (service: string) => jetStreamTransport({ url: natsUrl!, service, logger: createLogger(service, 'silent'), maxAttempts: 1_000, streamPrefix: prefix });

  beforeAll(async () => {
    [publisherDb, subscriberDb] = await Promise.all([eventDatabase(), eventDatabase()]);
    publisher = await startEventService('products', publisherDb.client, { secret: secrets.products, transport: await on('products'), relay: { pollMs: 20 } });
    subscriber = await startEventService('inventory', subscriberDb.client, {
      secret: secrets.inventory,
      transport: await on('inventory'),
      maxAttempts: 1_000,
      handlers: {
        'products.ProductCreated': async () => {
          if (!released) throw new Error('inventory is not ready for it yet');
        },
      },
    });
    await publishAll(publisherDb.client, [1, 2, 3], 'ProductCreated');
  });
  afterAll(async () => {
    release();
    await subscriber?.close();
    await publisher?.close();
    await publisherDb?.close();
    await subscriberDb?.close();
    await deleteStreams(natsUrl!, prefix);
  });

  const env = () => environment({
    SUBGRAPH_PRODUCTS_URL: publisher.url,
    SUBGRAPH_INVENTORY_URL: subscriber.url,
    PRODUCTS_EVENTS_SECRET: secrets.products,
    INVENTORY_EVENTS_SECRET: secrets.inventory,
  });
  async function until(predicate: (out: string) => boolean, args: string[]): Promise<string> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { out } = await events(args, env());
      if (predicate(out) || Date.now() > deadline) return out;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it("status: each subscriber's events not yet handled per source, until it has caught up", async () => {
    const behind = await until((out) => /^inventory .* products 2 \(\+1 being handled\)$/m.test(out), ['status', 'inventory', 'products']);
    const lines = behind.split('\n');
    expect(lines[0]).toMatch(/^service +pending deliveries +oldest pending +parked +not yet handled \(JetStream\)$/);
    expect(lines[1]).toMatch(/^inventory +none +- +0 +products 2 \(\+1 being handled\)$/);
    // Products subscribes to nothing: its column stays empty; its relay has published everything.
    expect(lines[2]).toMatch(/^products +none +- +0$/);
    const json = JSON.parse((await events(['status', 'inventory', '--json'], env())).out) as { consumerLag?: unknown }[];
    expect(json[0]!.consumerLag).toEqual({ products: { pending: 2, unacknowledged: 1 }, orders: { pending: 0, unacknowledged: 0 } });

    release();
    const caughtUp = await until((out) => /^inventory .* none$/m.test(out), ['status', 'inventory']);
    expect(caughtUp.split('\n')[1]).toMatch(/^inventory +none +- +0 +none$/);
  });
});
