import type { DataShape, RouterDeliveries } from './data.ts';
import type { WriteKind, WriteRecord } from './load.ts';
import type { Operation } from './operations.ts';
import type { Fleet, SystemName } from './systems.ts';

export interface GraphQLResponse {
  status: number;
  body: { data?: unknown; errors?: unknown[] };
}

export async function post(url: string, query: string, variables: Record<string, unknown>, headers: Readonly<Record<string, string>>): Promise<GraphQLResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as GraphQLResponse['body'] };
  } catch {
    throw new Error(`${url} answered ${response.status} with a body that is not JSON: ${text.slice(0, 300)}`);
  }
}

/** The first path where two JSON values differ (object key order ignored), or null when equal. */
export function difference(a: unknown, b: unknown, path = '$'): string | null {
  if (a === b) return null;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') {
    return `${path}: ${JSON.stringify(a)?.slice(0, 120)} ≠ ${JSON.stringify(b)?.slice(0, 120)}`;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: array ≠ object`;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}: ${a.length} items ≠ ${b.length} items`;
    for (let i = 0; i < a.length; i++) {
      const diff = difference(a[i], b[i], `${path}[${i}]`);
      if (diff) return diff;
    }
    return null;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const key of keys) {
    const diff = difference(ao[key], bo[key], `${path}.${key}`);
    if (diff) return diff;
  }
  return null;
}

function requireClean(system: SystemName, operation: Operation, response: GraphQLResponse): Record<string, unknown> {
  if (response.status !== 200 || response.body.errors || !response.body.data || typeof response.body.data !== 'object') {
    throw new Error(`${system} answered ${operation.name} with ${response.status}: ${JSON.stringify(response.body).slice(0, 600)}`);
  }
  return response.body.data as Record<string, unknown>;
}

export interface Cost {
  /** HTTP requests that reached the subgraphs for one client request. */
  subgraphRequests: number;
  /** SQL statements sent by the services' (or the monolith's) Prisma clients for one client request. */
  sqlStatements: number;
  bySubgraph: Record<string, { requests: number; statements: number }>;
}

/** Sums the counters of every process in the fleet (subgraphs and the monolith). */
export async function countersOf(fleet: Fleet): Promise<Map<string, { requests: number; statements: number }>> {
  const processes = [...fleet.subgraphs.values(), ...(fleet.systems.has('monolith') ? [fleet.systems.get('monolith')!] : [])];
  const counters = await Promise.all(processes.map(async (p) => [p.name, await p.counters()] as const));
  return new Map(counters);
}

export function costBetween(
  before: Map<string, { requests: number; statements: number }>,
  after: Map<string, { requests: number; statements: number }>,
  system: SystemName,
  operations: number,
): Cost {
  const bySubgraph: Cost['bySubgraph'] = {};
  let subgraphRequests = 0;
  let sqlStatements = 0;
  for (const [name, end] of after) {
    const start = before.get(name) ?? { requests: 0, statements: 0 };
    const requests = (end.requests - start.requests) / operations;
    const statements = (end.statements - start.statements) / operations;
    if (name !== 'monolith') subgraphRequests += requests;
    // Work the monolith did belongs to the monolith only, the subgraphs' to the other three.
    if ((name === 'monolith') === (system === 'monolith')) sqlStatements += statements;
    if (requests > 0 || statements > 0) bySubgraph[name] = { requests, statements };
  }
  return { subgraphRequests, sqlStatements, bySubgraph };
}

/**
 * Before any timing: every read operation, with the first `samples` variable sets, on every
 * system; no errors allowed and the data must be deep-equal across systems. The cost of one
 * request (subgraph requests, SQL statements) is counted on the way. Reads only: the write is
 * checked by checkWrite, after this, because the supergraph systems share the services' databases.
 */
export async function checkReads(
  fleet: Fleet,
  operation: Operation,
  shape: DataShape,
  samples: number,
  /**
   * Systems asked twice per variable set: first, before any other (cold), and again last (warm),
   * both answers compared with everyone's (router-cached). Their cost is the warm request's; the
   * cold one's is under `cold`.
   */
  twice: readonly SystemName[] = [],
  cold: Map<SystemName, Cost> = new Map(),
): Promise<Map<SystemName, Cost>> {
  const costs = new Map<SystemName, Cost>();
  const order: [SystemName, string, 'cold' | 'warm' | null][] = [
    ...[...fleet.systems].filter(([s]) => twice.includes(s)).map(([s, p]) => [s, p.url, 'cold'] as [SystemName, string, 'cold']),
    ...[...fleet.systems].filter(([s]) => !twice.includes(s)).map(([s, p]) => [s, p.url, null] as [SystemName, string, null]),
    ...[...fleet.systems].filter(([s]) => twice.includes(s)).map(([s, p]) => [s, p.url, 'warm'] as [SystemName, string, 'warm']),
  ];
  for (let i = 0; i < samples; i++) {
    const variables = operation.variables(i, shape);
    let reference: { system: string; data: unknown } | null = null;
    for (const [system, url, pass] of order) {
      const before = await countersOf(fleet);
      const data = requireClean(system, operation, await post(url, operation.query, variables, fleet.clientHeaders));
      if (i === 0) (pass === 'cold' ? cold : costs).set(system, costBetween(before, await countersOf(fleet), system, 1));
      const label = pass ? `${system} (${pass})` : system;
      if (!reference) {
        reference = { system: label, data };
        continue;
      }
      const diff = difference(reference.data, data);
      if (diff) {
        throw new Error(`${operation.name} ${JSON.stringify(variables)}: ${label} differs from ${reference.system} at ${diff}`);
      }
    }
  }
  return costs;
}

/** The entity cache's counters at a router's /metrics (commerce_router_cache_*); null when it has none (cache off). */
export interface CacheCounters {
  /** Lookups by type (`Query`: root fetches) and result; `stale`: misses that found an entry an event had made stale. */
  lookups: Record<string, { hits: number; misses: number; stale: number }>;
  invalidations: number;
  storeErrors: number;
  /** The in-memory store: entries held and their estimated bytes (at the reading), entries dropped to make room (a counter). */
  entries: number;
  bytes: number;
  evictions: number;
}

export async function cacheCountersOf(graphqlUrl: string): Promise<CacheCounters | null> {
  const response = await fetch(new URL('/metrics', graphqlUrl), { signal: AbortSignal.timeout(5_000) });
  if (response.status === 404) return null;
  const text = await response.text();
  if (!response.ok) throw new Error(`${graphqlUrl}: /metrics answered ${response.status}: ${text.slice(0, 200)}`);
  const counters: CacheCounters = { lookups: {}, invalidations: 0, storeErrors: 0, entries: 0, bytes: 0, evictions: 0 };
  const lookupOf = (type: string) => (counters.lookups[type] ??= { hits: 0, misses: 0, stale: 0 });
  for (const line of text.split('\n')) {
    const lookup = /^commerce_router_cache_lookups_total\{type="([^"]*)",result="(hit|miss)"\} (\d+(?:\.\d+)?)$/.exec(line);
    const stale = /^commerce_router_cache_stale_total\{type="([^"]*)"\} (\d+(?:\.\d+)?)$/.exec(line);
    if (lookup) {
      lookupOf(lookup[1]!)[lookup[2] === 'hit' ? 'hits' : 'misses'] += Number(lookup[3]);
    } else if (stale) {
      lookupOf(stale[1]!).stale += Number(stale[2]);
    } else if (line.startsWith('commerce_router_cache_entries ')) {
      counters.entries = Number(line.split(' ')[1]);
    } else if (line.startsWith('commerce_router_cache_bytes ')) {
      counters.bytes = Number(line.split(' ')[1]);
    } else if (line.startsWith('commerce_router_cache_evictions_total ')) {
      counters.evictions = Number(line.split(' ')[1]);
    } else if (line.startsWith('commerce_router_cache_invalidations_total ')) {
      counters.invalidations += Number(line.split(' ')[1]);
    } else if (line.startsWith('commerce_router_cache_store_errors_total')) {
      counters.storeErrors += Number(line.split(' ').at(-1));
    }
  }
  return counters;
}

/** What happened between two readings of the same router's cache counters. */
export function cacheDelta(before: CacheCounters, after: CacheCounters): CacheCounters {
  const lookups: CacheCounters['lookups'] = {};
  for (const [type, end] of Object.entries(after.lookups)) {
    const start = before.lookups[type] ?? { hits: 0, misses: 0, stale: 0 };
    lookups[type] = { hits: end.hits - start.hits, misses: end.misses - start.misses, stale: end.stale - start.stale };
  }
  return {
    lookups,
    invalidations: after.invalidations - before.invalidations,
    storeErrors: after.storeErrors - before.storeErrors,
    entries: after.entries,
    bytes: after.bytes,
    evictions: after.evictions - before.evictions,
  };
}

/**
 * The write on every system: two restocks of one product (+1, then +2) must succeed, the second
 * must report exactly 2 more units than the first, and everything but the stock must be the same
 * on every system (the supergraph systems share inventory's database, the monolith has its own).
 */
export async function checkWrite(fleet: Fleet, operation: Operation, shape: DataShape): Promise<Map<SystemName, Cost>> {
  const costs = new Map<SystemName, Cost>();
  const base = operation.variables(0, shape);
  const stockOf = (data: Record<string, unknown>) => Number((data.restock as { product: { stock: number } }).product.stock);
  let reference: { system: SystemName; data: unknown } | null = null;
  // The first write to each database starts from the same stock: +1 must give the same number.
  const firstWrite = new Map<'services' | 'monolith', { system: SystemName; stock: number }>();
  for (const [system, process] of fleet.systems) {
    const before = await countersOf(fleet);
    const first = requireClean(system, operation, await post(process.url, operation.query, { ...base, quantity: 1 }, fleet.clientHeaders));
    costs.set(system, costBetween(before, await countersOf(fleet), system, 1));
    const database = system === 'monolith' ? 'monolith' : 'services';
    if (!firstWrite.has(database)) firstWrite.set(database, { system, stock: stockOf(first) });
    const second = requireClean(system, operation, await post(process.url, operation.query, { ...base, quantity: 2 }, fleet.clientHeaders));
    if (stockOf(second) !== stockOf(first) + 2) {
      throw new Error(`${system}: restock +2 after +1 went from stock ${stockOf(first)} to ${stockOf(second)}`);
    }
    const withoutStock = (data: Record<string, unknown>) => {
      const { product } = data.restock as { product: Record<string, unknown> };
      const { stock: _stock, ...rest } = product;
      return rest;
    };
    if (!reference) {
      reference = { system, data: withoutStock(second) };
      continue;
    }
    const diff = difference(reference.data, withoutStock(second));
    if (diff) throw new Error(`${operation.name}: ${system} differs from ${reference.system} at ${diff}`);
  }
  const [services, monolith] = [firstWrite.get('services'), firstWrite.get('monolith')];
  if (services && monolith && services.stock !== monolith.stock) {
    throw new Error(`restock +1: ${services.system} gave stock ${services.stock}, ${monolith.system} gave ${monolith.stock} from the same data`);
  }
  return costs;
}

/** Which event each write publishes (the kit's catalogue): its publisher and type. */
const EVENT_OF_WRITE: Record<WriteKind, { source: string; type: string }> = {
  updateProductPrice: { source: 'products', type: 'ProductPriceChanged' },
  restock: { source: 'inventory', type: 'StockChanged' },
  addReview: { source: 'reviews', type: 'ReviewAdded' },
};

/** How the stale reads after each write compare with the delivery of that write's event to the router. */
export interface StaleReadsVsDelivery {
  /** Writes with at least one stale read after their mutation answered. */
  withStaleReads: number;
  /** Of those, writes whose last stale read was sent after their event had been delivered (a stale read beyond the bound). */
  afterDelivery: number;
  /** Writes whose event was not found or not delivered (not judged). */
  unmatched: number;
  /** Largest (last stale read sent − event delivered), ms: negative means every stale read was sent before the delivery. */
  maxExcessMs: number | null;
  /** Per write matched to its event: occurred_at → delivered_at, ms. */
  deliveryMs: number[];
}

/**
 * Matches every write to its event (same publisher, type and `product:<id>` aggregate, occurred
 * while the mutation was in flight; timestamps have millisecond precision) and checks the bound:
 * once a write's event has been delivered to the router (delivered_at is set after the router
 * answered, so after it invalidated), every read sent afterwards must be fresh. `toleranceMs`
 * covers the timestamps' rounding.
 */
export function staleReadsVsDelivery(records: readonly WriteRecord[], events: RouterDeliveries['events'], toleranceMs = 2): StaleReadsVsDelivery {
  const result: StaleReadsVsDelivery = { withStaleReads: 0, afterDelivery: 0, unmatched: 0, maxExcessMs: null, deliveryMs: [] };
  for (const record of records) {
    const { source, type } = EVENT_OF_WRITE[record.kind];
    const event = events.find(
      (e) =>
        e.source === source &&
        e.type === type &&
        e.aggregate === `product:${record.productId}` &&
        e.occurredAt >= record.sentAt - toleranceMs &&
        e.occurredAt <= record.answeredAt + toleranceMs,
    );
    if (event?.deliveredAt != null) result.deliveryMs.push(event.deliveredAt - event.occurredAt);
    if (record.lastStaleSentAt === null) continue;
    result.withStaleReads++;
    if (!event || event.deliveredAt === null) {
      result.unmatched++;
      continue;
    }
    const excess = record.lastStaleSentAt - event.deliveredAt;
    result.maxExcessMs = Math.max(result.maxExcessMs ?? excess, excess);
    if (excess > toleranceMs) result.afterDelivery++;
  }
  return result;
}
