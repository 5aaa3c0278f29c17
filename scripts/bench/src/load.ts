import autocannon, { type Instance, type RequestParams, type Result } from 'autocannon';
import type { DataShape } from './data.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { MIXED_DOCUMENTS, type Operation } from './operations.ts';
import { cpuMsOf, machineCpuMs, memoryOf, processTree } from './systems.ts';

export interface LoadResult {
  durationS: number;
  requests: number;
  rps: number;
  /** Latencies of every completed request, in ms (autocannon's per-response timing). */
  latencies: number[];
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Responses with status 200 whose body carried `errors` (every one is checked for the word). */
  errorBodies: number;
  /** Responses parsed in full (one in SAMPLE_EVERY) whose `data` was missing or null. */
  badSamples: number;
  firstBadBody: string | null;
  /** Highest VmRSS of the measured process (with its descendants) seen during the run (sampled every 100 ms). */
  maxRssMb: number;
  /** Highest sum of the subgraphs' VmRSS during the run. */
  maxSubgraphsRssMb: number;
  /**
   * CPU ms per completed request: the measured process, the five subgraphs together, the
   * PostgreSQL backends serving the benchmark's databases, this process (autocannon, the load
   * generator), and everything else on the machine (other users' work, the kernel);
   * machineBusy is the share of all cores that was busy during the run.
   */
  cpu: { system: number; subgraphs: number; postgres: number; loadGenerator: number; rest: number; machineBusy: number };
}

const SAMPLE_EVERY = 25;

/** The currently running load, so Ctrl-C can stop it at once. */
let current: Instance | null = null;
export function stopCurrentLoad(): void {
  current?.stop();
}

/**
 * Drives one operation against one system for `durationS` seconds with `connections` keep-alive
 * connections (autocannon, loopback only). Request i carries the operation's i-th variables, the
 * same sequence for every system, a unique x-request-id header so no layer can share one client
 * request's work with another's, and the same `headers` (the admin's token) on every system.
 */
export async function runLoad(options: {
  url: string;
  operation: Operation;
  shape: DataShape;
  durationS: number;
  connections: number;
  /** Headers every request carries besides content-type and its x-request-id (the bearer token). */
  headers: Readonly<Record<string, string>>;
  /** Offsets the variable sequence, so rounds do not replay the same ids. */
  startAt: number;
  measurePid: number;
  subgraphPids: number[];
  /** The PostgreSQL backends serving the benchmark's databases right now. */
  postgresPids: () => Promise<number[]>;
}): Promise<LoadResult> {
  const url = new URL(options.url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) throw new Error(`refusing to load a non-loopback address: ${options.url}`);
  let counter = options.startAt;
  let seen = 0;
  let errorBodies = 0;
  let badSamples = 0;
  let firstBadBody: string | null = null;
  const latencies: number[] = [];
  let maxRssMb = 0;
  let maxSubgraphsRssMb = 0;

  // The measured process and its descendants (router workers, if any), fixed for the run.
  const measured = await processTree(options.measurePid);
  const sample = async () => {
    const own = await Promise.all(measured.map(memoryOf));
    if (own[0]) maxRssMb = Math.max(maxRssMb, own.reduce((sum, m) => sum + (m?.rssMb ?? 0), 0));
    if (options.subgraphPids.length > 0) {
      const each = await Promise.all(options.subgraphPids.map(memoryOf));
      maxSubgraphsRssMb = Math.max(maxSubgraphsRssMb, each.reduce((sum, m) => sum + (m?.rssMb ?? 0), 0));
    }
  };
  await sample();
  const sampler = setInterval(() => void sample(), 100);
  const postgresCpu = async () => {
    const pids = await options.postgresPids().catch(() => [] as number[]);
    return new Map(await Promise.all(pids.map(async (pid) => [pid, await cpuMsOf(pid)] as const)));
  };
  const postgresBefore = await postgresCpu();
  const cpuNow = async () => ({
    system: (await Promise.all(measured.map(cpuMsOf))).reduce((sum, ms) => sum + ms, 0),
    subgraphs: (await Promise.all(options.subgraphPids.map(cpuMsOf))).reduce((sum, ms) => sum + ms, 0),
    loadGenerator: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
    machine: await machineCpuMs(),
  });
  const cpuBefore = await cpuNow();

  try {
    const result = await new Promise<Result>((resolve, reject) => {
      const instance = autocannon(
        {
          url: url.toString(),
          connections: options.connections,
          duration: options.durationS,
          timeout: 10,
          requests: [
            {
              method: 'POST',
              setupRequest(request: RequestParams): RequestParams {
                const i = counter++;
                return {
                  ...request,
                  headers: { ...request.headers, ...options.headers, 'content-type': 'application/json', 'x-request-id': `bench-${i}` },
                  body: JSON.stringify({ query: options.operation.query, variables: options.operation.variables(i, options.shape) }),
                };
              },
              onResponse(status: number, body: string) {
                seen++;
                if (status !== 200 || body.includes('"errors"')) {
                  if (status === 200) errorBodies++;
                  firstBadBody ??= `${status} ${body.slice(0, 500)}`;
                  return;
                }
                if (seen % SAMPLE_EVERY === 0) {
                  try {
                    const parsed = JSON.parse(body) as { data?: unknown };
                    if (parsed.data === null || typeof parsed.data !== 'object') throw new Error('no data');
                  } catch {
                    badSamples++;
                    firstBadBody ??= `${status} ${body.slice(0, 500)}`;
                  }
                }
              },
            },
          ],
        },
        (error, result) => (error ? reject(error) : resolve(result)),
      );
      current = instance;
      instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
        latencies.push(responseTime);
      });
    });
    await sample();
    const cpuAfter = await cpuNow();
    // A backend opened during the run counts from zero; one closed during it is lost (pools keep theirs).
    let postgres = 0;
    for (const [pid, ms] of await postgresCpu()) postgres += ms - (postgresBefore.get(pid) ?? 0);
    const done = Math.max(1, latencies.length);
    const used = {
      system: cpuAfter.system - cpuBefore.system,
      subgraphs: cpuAfter.subgraphs - cpuBefore.subgraphs,
      loadGenerator: cpuAfter.loadGenerator - cpuBefore.loadGenerator,
      postgres,
      machine: cpuAfter.machine.busy - cpuBefore.machine.busy,
    };
    const cpu = {
      system: used.system / done,
      subgraphs: used.subgraphs / done,
      postgres: used.postgres / done,
      loadGenerator: used.loadGenerator / done,
      rest: Math.max(0, used.machine - used.system - used.subgraphs - used.postgres - used.loadGenerator) / done,
      machineBusy: used.machine / Math.max(1, cpuAfter.machine.total - cpuBefore.machine.total),
    };
    return {
      cpu,
      durationS: result.duration,
      requests: latencies.length,
      rps: latencies.length / Math.max(result.duration, 0.001),
      latencies,
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      errorBodies,
      badSamples,
      firstBadBody,
      maxRssMb,
      maxSubgraphsRssMb,
    };
  } finally {
    current = null;
    clearInterval(sampler);
  }
}

/** The p-th percentile (0..100) of unsorted values, nearest-rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

// --- Mixed scenario: the background writer ------------------------------------------------------

export type WriteKind = 'updateProductPrice' | 'restock' | 'addReview';
const WRITE_KINDS: readonly WriteKind[] = ['updateProductPrice', 'restock', 'addReview'];

export interface WriterResult {
  /** Writes sent, answered without errors, failed (status, errors, or a probe that failed). */
  sent: number;
  ok: number;
  failed: number;
  firstError: string | null;
  /** Ticks skipped: their product still had a write in flight, or `maxInFlight` writes were in flight. */
  skipped: number;
  /** Most writes in flight at once (each: read, mutation, read-backs until fresh). */
  maxInFlight: number;
  byKind: Record<WriteKind, number>;
  /** Per write that was answered: mutation answered → first probe answer carrying the new value (ms). */
  staleness: number[];
  /** Per write: mutation answered → the sending of the first probe that came back fresh (0: the first did). */
  staleWindows: number[];
  /** Probe answers after a mutation answered that still carried the old value. */
  staleReads: number;
  /** Writes whose new value was not read back within the bound (timeoutMs). */
  neverFresh: number;
  /** Latency of every probe that came back stale (what bounds the resolution of staleWindows). */
  staleProbeLatencies: number[];
  /**
   * Every write that was answered, in wall-clock ms (epoch): when the mutation was sent and
   * answered, and when the last probe that still came back stale was sent (null: none did). The
   * scenario matches each to its event's delivery to the router.
   */
  records: WriteRecord[];
}

export interface WriteRecord {
  kind: WriteKind;
  productId: number;
  sentAt: number;
  answeredAt: number;
  lastStaleSentAt: number | null;
}

/** Wall-clock now in ms with sub-millisecond precision (comparable with PostgreSQL's timestamps). */
const wallClock = () => performance.timeOrigin + performance.now();

type Post = (query: string, variables: Record<string, unknown>) => Promise<{ status: number; body: { data?: unknown; errors?: unknown[] } }>;

/**
 * A bounded background writer for the mixed scenario: `rate` writes a second, round robin
 * updateProductPrice, restock(+1), addReview (as the admin, user 1), on products from `product(j)`,
 * sent to the system under test. Each write first reads the product through the same system
 * (product(id:) { priceCents stock reviewCount }, so a cache on the way holds it), then writes,
 * then reads it back every `probeIntervalMs` until the new value comes back or `timeoutMs` passes:
 * the new price exactly; stock at least the stock restock answered; reviewCount at least the
 * count in the owner's database once addReview answered (`reviewCount(productId)`). One write per
 * product at a time (a product with a write in flight is skipped), so a value read back is that
 * write's or a later one's; at most `maxInFlight` writes at once (a slow system gets fewer writes,
 * not a growing pile). Stops launching when stopped and waits for the writes in flight.
 */
export function startWriter(options: {
  post: Post;
  rate: number;
  /** Index of this run's first write (the same for every system, so each gets the same writes). */
  startAt: number;
  product: (j: number) => number;
  /** addReview's input beyond productId, rating and body (the monolith's schema takes authorId). */
  reviewInput: Record<string, unknown>;
  reviewCount: (productId: number) => Promise<number>;
  timeoutMs: number;
  probeIntervalMs: number;
  /** Bounds the writer: a tick that finds this many writes in flight is skipped (counted), not queued. */
  maxInFlight: number;
}): { stop(): Promise<WriterResult> } {
  const result: WriterResult = {
    sent: 0,
    ok: 0,
    failed: 0,
    firstError: null,
    skipped: 0,
    maxInFlight: 0,
    byKind: { updateProductPrice: 0, restock: 0, addReview: 0 },
    staleness: [],
    staleWindows: [],
    staleReads: 0,
    neverFresh: 0,
    staleProbeLatencies: [],
    records: [],
  };
  const inFlight = new Set<number>();
  const tasks = new Set<Promise<void>>();
  const fail = (message: string) => {
    result.failed++;
    result.firstError ??= message.slice(0, 500);
  };
  type Probe = { priceCents: number; stock: number; reviewCount: number };
  const probe = async (id: number): Promise<Probe> => {
    const response = await options.post(MIXED_DOCUMENTS.probe, { id: String(id) });
    const product = (response.body.data as { product?: Probe | null } | undefined)?.product;
    if (response.status !== 200 || response.body.errors || !product) throw new Error(`probe of product ${id}: ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
    return product;
  };
  const write = async (j: number, kind: WriteKind, id: number) => {
    const before = await probe(id);
    const sentAt = wallClock();
    let fresh: (p: Probe) => boolean;
    let response;
    if (kind === 'updateProductPrice') {
      let priceCents = 100 + ((j * 37) % 99_900);
      if (priceCents === before.priceCents) priceCents++;
      response = await options.post(MIXED_DOCUMENTS.updatePrice, { id: String(id), priceCents });
      fresh = (p) => p.priceCents === priceCents;
    } else if (kind === 'restock') {
      response = await options.post(MIXED_DOCUMENTS.restock, { productId: String(id) });
      const stock = Number((response.body.data as { restock?: { product?: { stock?: number } } } | undefined)?.restock?.product?.stock);
      fresh = (p) => p.stock >= stock;
    } else {
      const input = { productId: String(id), rating: 1 + (j % 5), body: `Bench review ${j}.`, ...options.reviewInput };
      response = await options.post(MIXED_DOCUMENTS.addReview, { input });
      const count = response.status === 200 && !response.body.errors ? await options.reviewCount(id) : Number.NaN;
      fresh = (p) => p.reviewCount >= count;
    }
    if (response.status !== 200 || response.body.errors || !response.body.data) {
      throw new Error(`${kind} of product ${id}: ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
    }
    const committed = performance.now();
    const record: WriteRecord = { kind, productId: id, sentAt, answeredAt: wallClock(), lastStaleSentAt: null };
    result.records.push(record);
    while (true) {
      const probeSentAt = performance.now();
      const probeSentAtWall = wallClock();
      const seen = await probe(id);
      const now = performance.now();
      if (fresh(seen)) {
        result.staleness.push(now - committed);
        result.staleWindows.push(Math.max(0, probeSentAt - committed));
        return;
      }
      result.staleReads++;
      record.lastStaleSentAt = probeSentAtWall;
      result.staleProbeLatencies.push(now - probeSentAt);
      if (now - committed > options.timeoutMs) {
        result.neverFresh++;
        throw new Error(`${kind} of product ${id}: still the old value ${options.timeoutMs} ms after the write was answered (${JSON.stringify(seen)})`);
      }
      await sleep(options.probeIntervalMs);
    }
  };
  let j = 0;
  const timer = setInterval(() => {
    const index = options.startAt + j++;
    if (tasks.size >= options.maxInFlight) {
      result.skipped++;
      return;
    }
    const kind = WRITE_KINDS[index % WRITE_KINDS.length]!;
    let id = options.product(index);
    // A product with a write in flight: a few more draws, then skip this tick.
    for (let k = 1; inFlight.has(id) && k <= 5; k++) id = options.product(index + k * 1_000_003);
    if (inFlight.has(id)) {
      result.skipped++;
      return;
    }
    inFlight.add(id);
    result.sent++;
    result.byKind[kind]++;
    const task = write(index, kind, id)
      .then(() => void result.ok++)
      .catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)))
      .finally(() => {
        inFlight.delete(id);
        tasks.delete(task);
      });
    tasks.add(task);
    result.maxInFlight = Math.max(result.maxInFlight, tasks.size);
  }, 1000 / options.rate);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all([...tasks]);
      return result;
    },
  };
}
