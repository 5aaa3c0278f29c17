import autocannon, { type Instance, type RequestParams, type Result } from 'autocannon';
import type { DataShape } from './data.ts';
import type { Operation } from './operations.ts';
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
