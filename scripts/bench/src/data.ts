import { fileURLToPath } from 'node:url';
import { migrate, openDatabase, type Database, type SqlSession } from '@commerce/db';
import { SEED } from '@commerce/service-kit';
import { loadService, SERVICE_NAMES, type ServiceName } from './services.ts';

/** The monolith's committed migrations (Prisma's folder format). */
const MONOLITH_MIGRATIONS = new URL('../monolith/prisma/migrations/', import.meta.url);

/** How many rows of each kind a data set has; operations pick their ids from it. */
export interface DataShape {
  users: number;
  products: number;
  reviews: number;
  orders: number;
}

export type SizeName = 'seed' | 'large';

export const SEED_SHAPE: DataShape = { users: SEED.users, products: SEED.products, reviews: SEED.reviews, orders: SEED.orders };

/** The large data set: 100k products and 1M reviews at scale 1, users and orders in the seed's proportions. */
export function largeShape(scale: number): DataShape {
  const products = Math.max(100, Math.round((100_000 * scale) / 10) * 10);
  return {
    products,
    users: Math.max(50, Math.round(products / 4)),
    orders: Math.max(50, Math.round((products * 3) / 4)),
    reviews: Math.max(100, Math.round(1_000_000 * scale)),
  };
}

/** Which tables each service owns (the monolith owns them all, in foreign-key order). */
export const TABLES: Record<ServiceName, readonly string[]> = {
  accounts: ['users'],
  products: ['products'],
  inventory: ['inventory_items', 'waitlist_entries'],
  reviews: ['reviews'],
  orders: ['orders', 'order_items'],
};

/** The large data set's extra rows per service that the monolith has no table for: the catalogue replicas. */
const REPLICAS: Partial<Record<ServiceName, string>> = {
  inventory: 'catalog_products:existence',
  reviews: 'catalog_products:existence',
  orders: 'catalog_products:priced',
};
const MONOLITH_TABLES = ['users', 'products', 'inventory_items', 'waitlist_entries', 'reviews', 'orders', 'order_items'];
const SERIAL_TABLES = new Set(['users', 'products', 'waitlist_entries', 'reviews', 'orders', 'order_items']);

export async function migrationsDir(target: ServiceName | 'monolith'): Promise<string> {
  return fileURLToPath(target === 'monolith' ? MONOLITH_MIGRATIONS : (await loadService(target)).migrations);
}

// --- Databases ---------------------------------------------------------------------------------

/** Creates and drops the benchmark's databases through one admin connection; remembers what it made. */
export class DatabaseServer {
  readonly adminUrl: string;
  readonly created: string[] = [];
  private admin: Database | null = null;

  constructor(adminUrl: string) {
    this.adminUrl = adminUrl;
  }

  urlOf(name: string): string {
    const url = new URL(this.adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  }

  private async session<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    this.admin ??= await openDatabase({ service: 'bench-admin', kind: 'postgres', url: this.adminUrl, pool: { max: 2, applicationName: 'bench-admin' } });
    return this.admin.withSession(fn);
  }

  async version(): Promise<string> {
    return this.session(async (s) => String((await s.query<{ server_version: string }>('SHOW server_version'))[0]?.server_version ?? 'unknown'));
  }

  /** PostgreSQL backend processes serving databases whose names start with `prefix` (and, if given, connected with that application name). */
  async backendPids(prefix: string, applicationName?: string): Promise<number[]> {
    const rows = await this.session((s) =>
      applicationName === undefined
        ? s.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname LIKE $1`, [`${prefix}%`])
        : s.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname LIKE $1 AND application_name = $2`, [`${prefix}%`, applicationName]),
    );
    return rows.map((row) => Number(row.pid));
  }

  async create(name: string): Promise<string> {
    if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`not a safe database name: ${name}`);
    this.created.push(name);
    await this.session((s) => s.exec(`CREATE DATABASE "${name}"`));
    return this.urlOf(name);
  }

  /** Drops one database, cutting any connection still open to it. */
  async drop(name: string): Promise<void> {
    await this.session((s) => s.exec(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    const index = this.created.indexOf(name);
    if (index >= 0) this.created.splice(index, 1);
  }

  /** Drops everything this run created; every failure is collected, none stops the rest. */
  async dropAll(): Promise<string[]> {
    const failures: string[] = [];
    for (const name of [...this.created]) {
      try {
        await this.drop(name);
      } catch (error) {
        failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return failures;
  }

  async close(): Promise<void> {
    await this.admin?.close();
    this.admin = null;
  }
}

export interface DataSet {
  size: SizeName;
  shape: DataShape;
  /** Database URL per service, plus the monolith's. */
  urls: Record<ServiceName | 'monolith', string>;
  names: string[];
}

const open = (service: string, url: string) => openDatabase({ service, kind: 'postgres', url, pool: { max: 4, applicationName: `bench-${service}` } });

/**
 * Creates one database per service plus the monolith's, applies each one's committed migrations
 * with the repository's migrator, fills them with the same rows, and vacuums/analyzes them so the
 * planner sees the data it will serve.
 */
export async function prepareDataSet(
  server: DatabaseServer,
  runId: string,
  size: SizeName,
  shape: DataShape,
  log: (message: string) => void,
): Promise<DataSet> {
  const targets = [...SERVICE_NAMES, 'monolith'] as const;
  const urls = {} as Record<ServiceName | 'monolith', string>;
  const names: string[] = [];
  for (const target of targets) {
    const name = `bench_${runId}_${size}_${target}`;
    urls[target] = await server.create(name);
    names.push(name);
  }
  const databases = new Map<ServiceName | 'monolith', Database>();
  try {
    for (const target of targets) {
      const database = await open(target, urls[target]);
      databases.set(target, database);
      await migrate(database, await migrationsDir(target));
    }
    log(`${size}: created and migrated ${names.length} databases (bench_${runId}_${size}_*)`);
    const started = Date.now();
    const monolith = databases.get('monolith')!;
    if (size === 'seed') {
      for (const service of SERVICE_NAMES) {
        const definition = await loadService(service);
        const client = definition.createClient(databases.get(service)!.adapter);
        try {
          await definition.seed?.(client);
        } finally {
          await client.$disconnect();
        }
      }
      await copyIntoMonolith(databases, monolith);
      log(`${size}: seeded each service with its own seed, copied the rows into the monolith (${Date.now() - started} ms)`);
    } else {
      await Promise.all([
        ...SERVICE_NAMES.map((service) => generate(databases.get(service)!, [...TABLES[service], ...(REPLICAS[service] ? [REPLICAS[service]] : [])], shape)),
        generateMonolith(monolith, shape),
      ]);
      log(
        `${size}: generated ${shape.products} products, ${shape.reviews} reviews, ${shape.users} users, ${shape.orders} orders ` +
          `in every database (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
    }
    await Promise.all([...databases.values()].map((database) => database.withSession((s) => s.exec('VACUUM (ANALYZE)'))));
  } finally {
    await Promise.all([...databases.values()].map((database) => database.close()));
  }
  return { size, shape, urls, names };
}

/** The seed data as the services wrote it, copied row for row into the monolith's same-named tables. */
async function copyIntoMonolith(databases: Map<ServiceName | 'monolith', Database>, monolith: Database): Promise<void> {
  const owner = new Map(SERVICE_NAMES.flatMap((service) => TABLES[service].map((table) => [table, service] as const)));
  await monolith.withSession(async (target) => {
    for (const table of MONOLITH_TABLES) {
      const source = databases.get(owner.get(table)!)!;
      const [row] = await source.withSession((s) => s.query<{ rows: unknown }>(`SELECT coalesce(json_agg(t), '[]'::json) AS rows FROM "${table}" t`));
      await target.query(`INSERT INTO "${table}" SELECT * FROM json_populate_recordset(NULL::"${table}", $1::json)`, [JSON.stringify(row?.rows ?? [])]);
      if (SERIAL_TABLES.has(table)) await target.query(resetSequence(table));
    }
  });
}

const resetSequence = (table: string) => `SELECT setval(pg_get_serial_sequence('${table}', 'id'), GREATEST((SELECT max(id) FROM "${table}"), 1))`;

async function generate(database: Database, tables: readonly string[], shape: DataShape): Promise<void> {
  await database.withSession(async (session) => {
    for (const table of tables) {
      await session.exec(GENERATE[table]!(shape));
      if (SERIAL_TABLES.has(table)) await session.query(resetSequence(table));
    }
  });
}

/** The monolith's tables in foreign-key order: parents first, then the three children in parallel. */
async function generateMonolith(database: Database, shape: DataShape): Promise<void> {
  await Promise.all([generate(database, ['users'], shape), generate(database, ['products', 'inventory_items'], shape)]);
  await Promise.all([
    generate(database, ['waitlist_entries'], shape),
    generate(database, ['reviews'], shape),
    generate(database, ['orders', 'order_items'], shape),
  ]);
}

// --- Large data: set-based SQL -----------------------------------------------------------------
//
// Every value is a pure function of the row number through PostgreSQL's hashint4, so running the
// same statement in a service's database and in the monolith's gives identical rows.

/** A number in [0, n) from hashint4(expr): deterministic, well spread. */
const h = (expr: string, n: number) => `((hashint4((${expr})::int)::bigint + 2147483648) % ${n})`;
const EPOCH = `TIMESTAMPTZ '2026-01-01 00:00:00+00'`;
const price = (productId: string) => `((${h(productId, 500)} + 1) * 100 - 1)`;
const sqlArray = (values: readonly string[]) => `ARRAY[${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ')}]`;

const FIRST = ['Ada', 'Grace', 'Alan', 'Barbara', 'Edsger', 'Frances', 'Donald', 'Margaret', 'Ken', 'Radia'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Liskov', 'Dijkstra', 'Allen', 'Knuth', 'Hamilton', 'Thompson', 'Perlman'];
const CATEGORIES = ['BOOKS', 'ELECTRONICS', 'HOME', 'OUTDOOR', 'TOYS'];
const ADJECTIVES = ['Classic', 'Compact', 'Deluxe', 'Rugged', 'Sleek', 'Vintage', 'Cosy', 'Smart'];
const NOUNS = [
  ['Novel', 'Atlas', 'Cookbook', 'Journal', 'Anthology'],
  ['Headphones', 'Speaker', 'Charger', 'Keyboard', 'Camera'],
  ['Lamp', 'Kettle', 'Blanket', 'Vase', 'Clock'],
  ['Tent', 'Backpack', 'Lantern', 'Hammock', 'Compass'],
  ['Puzzle', 'Robot', 'Kite', 'Yo-yo', 'Train Set'],
].flat();
const BODIES = [
  ['Broke within a week. Would not buy again.', 'Nothing like the description.'],
  ['Disappointing quality for the price.', 'Works, barely. Expected more.'],
  ['Does the job, nothing special.', 'Average: some good points, some bad.'],
  ['Good value, would recommend.', 'Solid and well made, minor quibbles.'],
  ['Excellent, exactly as described!', 'Love it. Five stars.'],
].flat();

const GENERATE: Record<string, (shape: DataShape) => string> = {
  users: ({ users }) => `
    INSERT INTO users (id, email, name, created_at)
    SELECT i, 'user' || i || '@example.com',
           (${sqlArray(FIRST)})[(i - 1) % 10 + 1] || ' ' || (${sqlArray(LAST)})[((i - 1) / 10) % 10 + 1],
           ${EPOCH} + i * INTERVAL '1 minute'
    FROM generate_series(1, ${users}) AS i`,

  products: ({ products }) => `
    INSERT INTO products (id, sku, name, description, price_cents, weight_grams, category, created_at)
    SELECT i, 'SKU-' || lpad(i::text, 6, '0'), adjective || ' ' || noun,
           adjective || ' ' || lower(noun) || ', from our ' || lower(category) || ' range.',
           ${price('i')}, 50 + ${h('i + 100000000', 24_951)}, category::category, ${EPOCH} + i * INTERVAL '1 second'
    FROM (
      SELECT i,
             (${sqlArray(CATEGORIES)})[(i - 1) % 5 + 1] AS category,
             (${sqlArray(ADJECTIVES)})[((i - 1) / 5) % 8 + 1] AS adjective,
             (${sqlArray(NOUNS)})[((i - 1) % 5) * 5 + ((i - 1) / 40) % 5 + 1] AS noun
      FROM generate_series(1, ${products}) AS i
    ) p`,

  // The services' replicas of the catalogue, as their seeds fill them: every product at revision 1.
  'catalog_products:existence': ({ products }) => `
    INSERT INTO catalog_products (product_id, revision) SELECT i, 1 FROM generate_series(1, ${products}) AS i`,
  'catalog_products:priced': ({ products }) => `
    INSERT INTO catalog_products (product_id, price_cents, revision) SELECT i, ${price('i')}, 1 FROM generate_series(1, ${products}) AS i`,

  // Every tenth product is out of stock, as in the seed.
  inventory_items: ({ products }) => `
    INSERT INTO inventory_items (product_id, stock, updated_at)
    SELECT i, CASE WHEN i % 10 = 0 THEN 0 ELSE 1 + ${h('i + 200000000', 120)} END, ${EPOCH}
    FROM generate_series(1, ${products}) AS i`,

  // Three users wait for each out-of-stock product; product 10 also has an email with no account.
  waitlist_entries: ({ products, users }) => `
    INSERT INTO waitlist_entries (id, product_id, email, created_at)
    SELECT row_number() OVER (ORDER BY product_id, j), product_id, email, created_at FROM (
      SELECT p AS product_id, j, 'user' || ((p * 7 + j * 13) % ${users} + 1) || '@example.com' AS email,
             ${EPOCH} + INTERVAL '30 days' + (p * 4 + j) * INTERVAL '1 minute' AS created_at
      FROM generate_series(10, ${products}, 10) AS p CROSS JOIN generate_series(0, 2) AS j
      UNION ALL
      SELECT 10, 3, 'ghost@example.com', ${EPOCH} + INTERVAL '30 days' + 43 * INTERVAL '1 minute'
    ) w`,

  reviews: ({ reviews, products, users }) => `
    INSERT INTO reviews (id, product_id, author_id, rating, body, created_at)
    SELECT i, product_id, author_id, rating, (${sqlArray(BODIES)})[(rating - 1) * 2 + (i - 1) % 2 + 1],
           ${EPOCH} + INTERVAL '30 days' + i * INTERVAL '1 second'
    FROM (
      SELECT i, 1 + ${h('i', products)} AS product_id, 1 + ${h('i + 300000000', users)} AS author_id,
             CASE WHEN roll < 5 THEN 1 WHEN roll < 15 THEN 2 WHEN roll < 30 THEN 3 WHEN roll < 60 THEN 4 ELSE 5 END AS rating
      FROM (SELECT i, ${h('i + 400000000', 100)} AS roll FROM generate_series(1, ${reviews}) AS i) r
    ) r`,

  orders: ({ orders, users }) => `
    INSERT INTO orders (id, user_id, status, created_at)
    SELECT i, 1 + ${h('i + 500000000', users)},
           (CASE WHEN roll <= 9 THEN 'DELIVERED' WHEN roll <= 14 THEN 'SHIPPED' WHEN roll <= 19 THEN 'PAID'
                 ELSE 'CANCELLED' END)::order_status,
           ${EPOCH} + INTERVAL '60 days' + i * INTERVAL '1 second'
    FROM (SELECT i, 1 + ${h('i + 600000000', 20)} AS roll FROM generate_series(1, ${orders}) AS i) o`,

  // One to four items per order, one to three units each, at the catalogue's list price.
  order_items: ({ orders, products }) => `
    INSERT INTO order_items (id, order_id, product_id, quantity, unit_price_cents)
    SELECT row_number() OVER (ORDER BY o, k), o, product_id, 1 + ${h('o * 4 + k + 700000000', 3)}, ${price('product_id')}
    FROM (
      SELECT o, k, 1 + ${h('o * 4 + k + 800000000', products)} AS product_id
      FROM generate_series(1, ${orders}) AS o
      CROSS JOIN LATERAL generate_series(1, 1 + ${h('o + 900000000', 4)}::int) AS k
    ) items`,
};

// --- Mixed scenario: reading the owners' databases ---------------------------------------------

/** Event deliveries to the router, from the publishers' outboxes. */
export interface RouterDeliveries {
  /** Per event published in the window and delivered: occurred_at (in the write's transaction) → delivered_at (the router answered 200), ms. */
  delivered: number[];
  /** Events published in the window not delivered to the router yet. */
  pending: number;
  /** Each event: its publisher, type, aggregate, and occurred_at / delivered_at in epoch ms (null: not delivered). */
  events: { source: string; type: string; aggregate: string; occurredAt: number; deliveredAt: number | null }[];
}

/**
 * What the mixed scenario reads from the databases directly: the truth of a product's review
 * count once addReview has answered (the services' reviews database, or the monolith's), and how
 * long the publishers took to deliver their events to the router (their outboxes, destination
 * `router`). One small pool per database.
 */
export async function openTruth(data: DataSet): Promise<{
  reviewCount(where: 'services' | 'monolith', productId: number): Promise<number>;
  routerDeliveries(from: Date, to: Date): Promise<RouterDeliveries>;
  close(): Promise<void>;
}> {
  const publishers = ['products', 'inventory', 'reviews'] as const;
  const databases = new Map<string, Database>();
  for (const name of [...publishers, 'monolith'] as const) databases.set(name, await open(`truth-${name}`, data.urls[name]));
  const count = async (name: string, productId: number) => {
    const rows = await databases.get(name)!.withSession((s) => s.query<{ n: unknown }>('SELECT count(*) AS n FROM reviews WHERE product_id = $1', [productId]));
    return Number(rows[0]?.n ?? Number.NaN);
  };
  return {
    reviewCount: (where, productId) => count(where === 'monolith' ? 'monolith' : 'reviews', productId),
    async routerDeliveries(from, to) {
      const result: RouterDeliveries = { delivered: [], pending: 0, events: [] };
      for (const publisher of publishers) {
        const rows = await databases.get(publisher)!.withSession((s) =>
          s.query<{ source: string; type: string; aggregate: string; occurred: unknown; delivered: unknown; routed: boolean; expanded: boolean }>(
            `SELECT e.source, e.type, e.aggregate, d.event_id IS NOT NULL AS routed, e.expanded_at IS NOT NULL AS expanded,
                    extract(epoch FROM e.occurred_at) * 1000 AS occurred, extract(epoch FROM d.delivered_at) * 1000 AS delivered
               FROM outbox_events e LEFT JOIN outbox_deliveries d ON d.event_id = e.id AND d.destination = 'router'
              WHERE e.occurred_at >= $1 AND e.occurred_at <= $2`,
            [from.toISOString(), to.toISOString()],
          ),
        );
        for (const row of rows) {
          // Expanded without a delivery to the router: an event the router is not sent (it changes no entity).
          if (row.expanded && !row.routed) continue;
          const occurredAt = Number(row.occurred);
          const deliveredAt = row.delivered === null ? null : Number(row.delivered);
          result.events.push({ source: row.source, type: row.type, aggregate: row.aggregate, occurredAt, deliveredAt });
          if (deliveredAt === null) result.pending++;
          else result.delivered.push(deliveredAt - occurredAt);
        }
      }
      return result;
    },
    async close() {
      await Promise.all([...databases.values()].map((database) => database.close()));
    },
  };
}
