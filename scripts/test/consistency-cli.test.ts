import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventDatabase, type EventDatabase } from '../../subgraphs/kit/test/support/event-db.ts';
import { startEventService } from '../../subgraphs/kit/test/support/event-service.ts';
import type { Snapshots } from '../src/consistency/check.ts';

/**
 * `npm run consistency` fetching real snapshots: products, orders, inventory and reviews are each
 * the kit's startServiceEvents with a snapshot hook, behind an HTTP server (one PGlite database
 * holds their event tables; the snapshots themselves are what each hook answers). The command runs
 * as a child process and signs every request with each service's own events secret.
 */
const CONSISTENCY = fileURLToPath(new URL('../src/consistency.ts', import.meta.url));
const NAMES = ['products', 'orders', 'inventory', 'reviews'] as const;
const secretOf = (name: string) => `${name}-events-secret-for-the-consistency-cli`;

let db: EventDatabase;
const services: Awaited<ReturnType<typeof startEventService>>[] = [];
const urls = new Map<string, string>();
let current: Snapshots;
/** What a service's hook answers instead of its snapshot, when set. */
const answerInstead = new Map<string, unknown>();

function consistent(): Snapshots {
  return {
    products: { products: [{ productId: 1, priceCents: 1000, revision: 2 }, { productId: 2, priceCents: 500, revision: 1 }] },
    orders: {
      orders: [
        { orderId: 7, status: 'CONFIRMED', ageSeconds: 30, items: [{ productId: 1, quantity: 2, unitPriceCents: 1000 }] },
        { orderId: 8, status: 'PENDING', ageSeconds: 2, items: [{ productId: 2, quantity: 1, unitPriceCents: 500 }] },
      ],
      catalog: [{ productId: 1, priceCents: 1000, revision: 2 }, { productId: 2, priceCents: 500, revision: 1 }],
    },
    inventory: {
      stock: [{ productId: 1, stock: 8, ledger: 8 }, { productId: 2, stock: 3, ledger: 3 }],
      reservations: [{ orderId: 7, productId: 1, quantity: 2 }],
      decisions: [{ orderId: 7, outcome: 'RESERVED' }],
      catalog: [{ productId: 1, revision: 2 }, { productId: 2, revision: 1 }],
    },
    reviews: { catalog: [{ productId: 1, revision: 2 }, { productId: 2, revision: 1 }] },
  };
}

beforeAll(async () => {
  db = await eventDatabase();
  current = consistent();
  for (const name of NAMES) {
    const service = await startEventService(name, db.client, {
      secret: secretOf(name),
      hooks: { snapshot: async () => (answerInstead.has(name) ? answerInstead.get(name) : current[name]) },
    });
    services.push(service);
    urls.set(name, service.url);
  }
});
afterAll(async () => {
  for (const service of services) await service.close();
  await db?.close();
});

function environment(overrides: Record<string, string> = {}): Record<string, string> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/_EVENTS_SECRET$|^SUBGRAPH_.*_URL$|^NODE_ENV$/.test(name))) as Record<string, string>;
  const services = Object.fromEntries(NAMES.flatMap((name) => [[`SUBGRAPH_${name.toUpperCase()}_URL`, urls.get(name)!], [`${name.toUpperCase()}_EVENTS_SECRET`, secretOf(name)]]));
  return { ...inherited, DATA_DIR: '/nonexistent-consistency-test', ...services, ...overrides };
}

function consistency(args: string[], env = environment()): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CONSISTENCY, ...args], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('npm run consistency', () => {
  it('exits 0 and says what it compared when the services agree', async () => {
    current = consistent();
    const run = await consistency([]);
    expect(run).toEqual({
      code: 0,
      err: '',
      out: 'Consistent: 2 orders (1 in flight, 0 past the saga and not checked), 1 reservations, 1 decisions, stock of 2 products, 2 products against the replicas of orders (2), inventory (2) and reviews (2).\n',
    });
  });

  it('exits 1 and lists every mismatch with its ids; --settle-seconds 0 makes young PENDING orders stuck', async () => {
    current = consistent();
    current.inventory.reservations = [{ orderId: 7, productId: 1, quantity: 1 }];
    // orders follows every change of the catalogue, so an older revision there is lag.
    current.orders.catalog = current.orders.catalog.map((copy) => (copy.productId === 1 ? { ...copy, revision: 1 } : copy));
    const run = await consistency(['--settle-seconds', '0']);
    expect(run.code).toBe(1);
    expect(run.out).toContain('STUCK_PENDING (1): an order still PENDING after the settle time: the saga did not finish\n  order 8 is PENDING after 2 s (settle time 0 s); inventory has no decision for it\n');
    expect(run.out).toContain('RESERVATION_MISMATCH (1): a CONFIRMED order whose held reservations differ from its items\n  order 7 is CONFIRMED but its reservations differ from its items: product 1: ordered 2, held 1\n');
    expect(run.out).toContain('REPLICA_LAGGING (1): a replica behind products’ revision\n  the replica in orders has product 1 at revision 1, products at revision 2\n');
    expect(run.out).toMatch(/\n3 mismatches in 2 orders/);

    const json = await consistency(['--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.out) as { ok: boolean; settleSeconds: number; mismatches: { kind: string; orderId?: number; productId?: number; replica?: string }[] };
    expect(report.ok).toBe(false);
    expect(report.settleSeconds).toBe(60);
    expect(report.mismatches.map(({ kind, orderId, productId, replica }) => ({ kind, orderId, productId, replica }))).toEqual([
      { kind: 'RESERVATION_MISMATCH', orderId: 7, productId: undefined, replica: undefined },
      { kind: 'REPLICA_LAGGING', orderId: undefined, productId: 1, replica: 'orders' },
    ]);
  });

  it('checks nothing and exits 1 when a service refuses the signature or answers as another service', async () => {
    current = consistent();
    const refused = await consistency([], environment({ INVENTORY_EVENTS_SECRET: 'a-secret-inventory-does-not-run-with-at-all' }));
    expect(refused.code).toBe(1);
    expect(refused.out).toBe('');
    expect(refused.err).toMatch(/^inventory at http:\/\/127\.0\.0\.1:\d+ \(from SUBGRAPH_INVENTORY_URL\) refused the signature: the events secret from INVENTORY_EVENTS_SECRET is not the one it runs with/m);
    expect(refused.err).toContain('Not checked: every one of products, orders, inventory and reviews must answer.');

    const missing = await consistency(['--json'], environment({ SUBGRAPH_REVIEWS_URL: urls.get('orders')!, REVIEWS_EVENTS_SECRET: secretOf('orders') }));
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.out)).toEqual({ ok: false, errors: [expect.stringMatching(/^reviews: its snapshot is not what this check reads \(the answer is from "orders", not reviews: is the URL right\?\)/)] });
  });

  it('names a snapshot that is not what it reads', async () => {
    answerInstead.set('orders', { orders: [{ orderId: 'seven' }], catalog: [] });
    try {
      const run = await consistency([]);
      expect(run.code).toBe(1);
      expect(run.err).toContain('orders: its snapshot is not what this check reads (orders[0].orderId: expected an integer, got "seven")');
    } finally {
      answerInstead.delete('orders');
    }
  });

  it('refuses a wrong command line with exit 2', async () => {
    const runs = await Promise.all([consistency(['--settle-seconds=-5']), consistency(['extra'])]);
    expect(runs.map((run) => run.code)).toEqual([2, 2]);
    expect(runs[0]!.err).toContain('--settle-seconds must be a number of seconds ≥ 0, not "-5"');
    for (const run of runs) expect(run.err).toContain('usage: npm run consistency');
  });
});
