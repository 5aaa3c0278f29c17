// npm run bench -- --scenario subgraphs: what one subgraph fetch costs, each subgraph alone. Our
// router runs the four operations once through a recording proxy in front of the five subgraphs;
// then the recorded fetches (the router's own bodies and identity headers) are sent again, signed
// afresh each time, to one subgraph at a time: the subgraph pinned to one core, the load and
// PostgreSQL to the other. Per subgraph and variant (Node flags or environment, e.g. the young
// generation's size), interleaved round by round: fetches per second, latency, CPU per fetch of the subgraph
// and of PostgreSQL, and peak RSS.
import { fork, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { SERVER_NODE_FLAGS, ROUTER_NODE_FLAGS } from '@commerce/service-kit/core';
import { signatureHeaders } from '@commerce/service-kit';
import { freePort } from '@commerce/db/testing';
import { Agent, request } from 'undici';
import { post } from './check.ts';
import { DatabaseServer, largeShape, prepareDataSet, SEED_SHAPE, type DataShape, type SizeName } from './data.ts';
import { createRunIdentity } from './identity.ts';
import { machineSummary, startRun, writeResultFiles } from './run.ts';
import { median, percentile } from './load.ts';
import { OPERATION_NAMES, OPERATIONS, type OperationName } from './operations.ts';
import { SERVICE_NAMES, signingSecretVariable, type ServiceName } from './services.ts';
import { childEnv, cpuMsOf, hasTaskset, memoryOf, pin, processScript, ROUTER_BENCH_ENV, ROUTER_MAIN, ServerProcess, subgraphEnv } from './systems.ts';
import { forwardedHeaders } from './forwarding.ts';

/** One way of running the subgraphs: a name, the Node flags and extra environment every subgraph process gets. */
export interface SubgraphVariant {
  name: string;
  nodeFlags: string[];
  env: Record<string, string>;
}

export interface SubgraphsOptions {
  quick: boolean;
  rounds: number;
  durationS: number;
  warmupS: number;
  connections: number;
  size: SizeName;
  scale: number;
  services: ServiceName[];
  variants: SubgraphVariant[];
  /** Variable sets per operation run through the router while recording. */
  samples: number;
  databaseUrl: string;
  out: string;
}

/** Parses `--subgraph-variant NAME=SPEC`: SPEC is space-separated `flags=A,B` (`flags=` for none) and `env=NAME:VALUE` (repeatable). */
export function parseSubgraphVariant(text: string): SubgraphVariant {
  const equals = text.indexOf('=');
  const name = equals < 0 ? text : text.slice(0, equals);
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name)) throw new Error(`subgraph variant: bad name "${name}"`);
  const variant: SubgraphVariant = { name, nodeFlags: [...SERVER_NODE_FLAGS], env: {} };
  for (const part of (equals < 0 ? '' : text.slice(equals + 1)).split(/\s+/).filter(Boolean)) {
    const [key, ...rest] = part.split('=');
    const value = rest.join('=');
    if (key === 'flags') variant.nodeFlags = value.split(',').filter(Boolean);
    else if (key === 'env') {
      const colon = value.indexOf(':');
      if (colon < 1) throw new Error(`subgraph variant ${name}: env=NAME:VALUE, got "${value}"`);
      variant.env[value.slice(0, colon)] = value.slice(colon + 1);
    } else throw new Error(`subgraph variant ${name}: unknown "${part}" (flags=, env=NAME:VALUE)`);
  }
  return variant;
}

/** A run without variants measures the subgraphs as shipped. */
export const SHIPPED_VARIANT: SubgraphVariant = { name: 'shipped', nodeFlags: [...SERVER_NODE_FLAGS], env: {} };

interface RecordedFetch {
  operation: OperationName;
  path: string;
  headers: Record<string, string>;
  body: string;
}

interface Round {
  round: number;
  fetchesPerSecond: number;
  p50: number;
  p99: number;
  subgraphCpuMsPerFetch: number;
  postgresCpuMsPerFetch: number;
  loadCpuMsPerFetch: number;
  failures: number;
}

interface Cell {
  service: ServiceName;
  variant: string;
  rounds: Round[];
  medianFetchesPerSecond: number;
  p50: number;
  p99: number;
  subgraphCpuMsPerFetch: number;
  postgresCpuMsPerFetch: number;
  peakRssMb: number;
  firstFailure: string | null;
}

/** At most this many fetches per run, besides its duration (bounds the loop and the latencies kept). */
const MAX_FETCHES_PER_RUN = 500_000;
/** How a variant's subgraph names its PostgreSQL connections. */
const applicationName = (service: ServiceName, variant: string) => `bench-${service}-${variant}`.slice(0, 63);

export async function runSubgraphsOnly(options: SubgraphsOptions): Promise<number> {
  const { startedAt, runId, log } = startRun();
  const server = new DatabaseServer(options.databaseUrl);
  const shape: DataShape = options.size === 'seed' ? SEED_SHAPE : largeShape(options.scale);
  const started: ServerProcess[] = [];
  const proxies: Server[] = [];
  const agent = new Agent({ connections: options.connections, pipelining: 1 });
  const notes: string[] = [];
  let stopping = false;
  let cleaning: Promise<void> | null = null;
  const cleanUp = () => {
    cleaning ??= (async () => {
      stopping = true;
      await Promise.all(started.map((p) => p.stop().catch(() => p.killNow())));
      for (const proxy of proxies) proxy.close();
      await agent.close().catch(() => {});
      const failures = await server.dropAll();
      await server.close().catch(() => {});
      for (const failure of failures) console.error(`could not drop ${failure}`);
    })();
    return cleaning;
  };
  process.on('SIGINT', () => {
    if (stopping) return;
    log('interrupted: stopping the processes and dropping the databases…');
    void cleanUp().finally(() => process.exit(130));
  });
  process.on('exit', () => {
    for (const p of started) p.killNow();
  });

  const cells: Cell[] = [];
  const fetchesPerOperation: Record<string, Record<string, number>> = {};
  let exitCode = 0;
  const pinned = hasTaskset() && cpus().length >= 2;
  if (!pinned) notes.push('taskset or a second CPU is missing: nothing was pinned, every process shared every core');
  try {
    log(
      `subgraphs ${runId}: ${options.services.join(', ')} × variants ${options.variants.map((v) => `${v.name} (${[...v.nodeFlags, ...Object.entries(v.env).map(([k, x]) => `${k}=${x}`)].join(' ') || 'no flags'})`).join(', ')}; ` +
        `${options.size} data; ${options.rounds} round(s) × ${options.durationS} s, ${options.connections} connections, warm-up ${options.warmupS} s; ` +
        `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}); Node ${process.version}`,
    );
    // The load (this process) and PostgreSQL on CPU 0; the subgraph being measured on CPU 1.
    if (pinned) pin(process.pid, 0);
    const identity = await createRunIdentity({ tokenLifetimeSeconds: 6 * 3_600 });
    const data = await prepareDataSet(server, runId, options.size, shape, log);

    // Every variant's five subgraphs, each on the data set's databases (pools of 10, as shipped).
    const subgraphs = new Map<string, ServerProcess>();
    const key = (service: ServiceName, variant: string) => `${service} ${variant}`;
    for (const variant of options.variants) {
      for (const service of SERVICE_NAMES) {
        const env = childEnv({
          ...subgraphEnv(service, data.urls[service], identity, { port: 0, pool: 10 }),
          BENCH_APPLICATION_NAME: applicationName(service, variant.name),
          ...variant.env,
        });
        const child = fork(processScript('subgraph'), [service], { execArgv: variant.nodeFlags, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
        const p = new ServerProcess(`${service} (${variant.name})`, child);
        started.push(p);
        subgraphs.set(key(service, variant.name), p);
      }
    }
    await Promise.all([...subgraphs.values()].map((p) => p.ready(60_000)));
    log(`started ${subgraphs.size} subgraph processes`);

    // Recording: our router, as shipped, in front of proxies to the first variant's subgraphs.
    const recorded = new Map<ServiceName, RecordedFetch[]>(SERVICE_NAMES.map((s) => [s, []]));
    let recording: OperationName | null = null;
    const routerEnv: Record<string, string> = { ...identity.gatewayEnv(), ...ROUTER_BENCH_ENV };
    for (const service of SERVICE_NAMES) {
      const upstream = new URL(subgraphs.get(key(service, options.variants[0]!.name))!.url);
      const proxy = createServer((incoming, outgoing) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const headers = forwardedHeaders(incoming.headers);
          const path = incoming.url ?? '/';
          if (recording && incoming.method === 'POST' && path === upstream.pathname) recorded.get(service)!.push({ operation: recording, path, headers, body });
          const method = incoming.method ?? 'GET';
          request(new URL(path, upstream), { method: method as 'GET', headers, body: method === 'POST' ? body : undefined, dispatcher: agent })
            .then(async (answer) => {
              const text = await answer.body.text();
              outgoing.writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type'] ?? 'application/json') });
              outgoing.end(text);
            })
            .catch((error: Error) => {
              outgoing.writeHead(502).end(error.message);
            });
        });
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      proxies.push(proxy);
      routerEnv[`SUBGRAPH_${service.toUpperCase()}_URL`] = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}${upstream.pathname}`;
    }
    const port = await freePort();
    const router = new ServerProcess(
      'router',
      spawn(process.execPath, [...ROUTER_NODE_FLAGS, ROUTER_MAIN], {
        env: childEnv({ HOST: '127.0.0.1', ROUTER_PORT: String(port), ...routerEnv }),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      }),
    );
    started.push(router);
    await router.ready(60_000, `http://127.0.0.1:${port}/health`);
    for (const name of OPERATION_NAMES) {
      const before = new Map([...recorded].map(([service, list]) => [service, list.length]));
      recording = name;
      for (let i = 0; i < options.samples; i++) {
        const response = await post(`http://127.0.0.1:${port}/graphql`, OPERATIONS[name].query, OPERATIONS[name].variables(i, shape), identity.clientHeaders);
        if (response.status !== 200 || response.body.errors) throw new Error(`recording ${name}: ${response.status} ${JSON.stringify(response.body).slice(0, 400)}`);
      }
      recording = null;
      fetchesPerOperation[name] = Object.fromEntries(
        [...recorded].map(([service, list]) => [service, Math.round(((list.length - before.get(service)!) / options.samples) * 100) / 100]).filter(([, n]) => (n as number) > 0),
      );
    }
    await router.stop();
    log(
      `recorded the router's fetches (${options.samples} variable sets per operation): ` +
        [...recorded].map(([service, list]) => `${service} ${list.length}`).join(', ') +
        `; per operation: ${Object.entries(fetchesPerOperation).map(([op, by]) => `${op} {${Object.entries(by).map(([s, n]) => `${s} ${n}`).join(', ')}}`).join('; ')}`,
    );

    const secrets = identity.gatewayEnv();
    const run = async (service: ServiceName, variant: string, durationS: number) => {
      const target = subgraphs.get(key(service, variant))!;
      const url = new URL(target.url);
      const fetches = recorded.get(service)!;
      const secret = secrets[signingSecretVariable(service)]!;
      // Its JavaScript thread alone on CPU 1: V8's GC and compiler helpers, as in production, run
      // wherever there is room (pinned with it, parallel GC waited on helpers sharing its core).
      if (pinned) pin(target.pid, 1, { mainThreadOnly: true });
      // Its own PostgreSQL backends, by application name (every variant's process has a pool on
      // the same database). CPU of backends that start during the run counts from zero.
      const backends = () => server.backendPids(`bench_${runId}_${options.size}_${service}`, applicationName(service, variant));
      const postgresBefore = new Map<number, number>();
      for (const pid of await backends()) {
        if (pinned) pin(pid, 0);
        postgresBefore.set(pid, await cpuMsOf(pid));
      }
      const postgresCpu = async () => {
        let total = 0;
        for (const pid of await backends()) total += (await cpuMsOf(pid)) - (postgresBefore.get(pid) ?? 0);
        return total;
      };
      const latencies: number[] = [];
      let next = 0;
      let done = 0;
      let failures = 0;
      let firstFailure: string | null = null;
      const cpuBefore = await cpuMsOf(target.pid);
      const loadBefore = process.cpuUsage();
      const startedRun = performance.now();
      const until = startedRun + durationS * 1000;
      const worker = async () => {
        while (performance.now() < until && done < MAX_FETCHES_PER_RUN && !stopping) {
          const fetch = fetches[next++ % fetches.length]!;
          const headers = { ...fetch.headers, ...signatureHeaders(secret, { method: 'POST', path: fetch.path, headers: fetch.headers, body: fetch.body }) };
          const sent = performance.now();
          try {
            const answer = await request(url, { method: 'POST', headers, body: fetch.body, dispatcher: agent });
            const text = await answer.body.text();
            // `"errors":` unescaped is only ever the response's own key (a string value would escape the quotes).
            if (answer.statusCode !== 200 || text.includes('"errors":')) {
              failures++;
              firstFailure ??= `${fetch.operation}: ${answer.statusCode} ${text.slice(0, 300)}`;
            }
          } catch (error) {
            failures++;
            firstFailure ??= `${fetch.operation}: ${(error as Error).message}`;
          }
          latencies.push(performance.now() - sent);
          done++;
        }
      };
      await Promise.all(Array.from({ length: options.connections }, worker));
      const seconds = (performance.now() - startedRun) / 1000;
      const count = Math.max(1, done);
      const load = process.cpuUsage(loadBefore);
      if (pinned) pin(target.pid, 0, { mainThreadOnly: true });
      return {
        fetchesPerSecond: done / seconds,
        latencies,
        subgraphCpuMsPerFetch: ((await cpuMsOf(target.pid)) - cpuBefore) / count,
        postgresCpuMsPerFetch: (await postgresCpu()) / count,
        loadCpuMsPerFetch: (load.user + load.system) / 1000 / count,
        failures,
        // Set inside the workers, which TypeScript's narrowing does not see.
        firstFailure: firstFailure as string | null,
      };
    };

    if (options.warmupS > 0) {
      for (const service of options.services) for (const variant of options.variants) await run(service, variant.name, options.warmupS);
      log(`warmed up (${options.warmupS} s per subgraph and variant)`);
    }
    const latencies = new Map<Cell, number[]>();
    const names = options.variants.map((v) => v.name);
    for (let round = 1; round <= options.rounds; round++) {
      const order = names.map((_, i) => names[(i + round - 1) % names.length]!);
      for (const service of options.services) {
        for (const variant of order) {
          if (stopping) return 130;
          const result = await run(service, variant, options.durationS);
          let cell = cells.find((c) => c.service === service && c.variant === variant);
          if (!cell) {
            cell = { service, variant, rounds: [], medianFetchesPerSecond: 0, p50: 0, p99: 0, subgraphCpuMsPerFetch: 0, postgresCpuMsPerFetch: 0, peakRssMb: 0, firstFailure: null };
            cells.push(cell);
          }
          const r: Round = {
            round,
            fetchesPerSecond: result.fetchesPerSecond,
            p50: percentile(result.latencies, 50),
            p99: percentile(result.latencies, 99),
            subgraphCpuMsPerFetch: result.subgraphCpuMsPerFetch,
            postgresCpuMsPerFetch: result.postgresCpuMsPerFetch,
            loadCpuMsPerFetch: result.loadCpuMsPerFetch,
            failures: result.failures,
          };
          cell.rounds.push(r);
          cell.firstFailure ??= result.firstFailure;
          latencies.set(cell, [...(latencies.get(cell) ?? []), ...result.latencies]);
          log(
            `${service.padEnd(9)} round ${round}/${options.rounds} ${variant.padEnd(12)} ${r.fetchesPerSecond.toFixed(0).padStart(6)} fetches/s  ` +
              `p50 ${r.p50.toFixed(2)}  p99 ${r.p99.toFixed(2)} ms  cpu/fetch subgraph ${r.subgraphCpuMsPerFetch.toFixed(3)}  postgres ${r.postgresCpuMsPerFetch.toFixed(3)}  ` +
              `load ${r.loadCpuMsPerFetch.toFixed(3)} ms` +
              (r.failures > 0 ? `  ${r.failures} FAILED (${result.firstFailure?.slice(0, 200)})` : ''),
          );
        }
      }
    }
    for (const [cell, values] of latencies) {
      cell.medianFetchesPerSecond = median(cell.rounds.map((r) => r.fetchesPerSecond));
      cell.p50 = percentile(values, 50);
      cell.p99 = percentile(values, 99);
      cell.subgraphCpuMsPerFetch = median(cell.rounds.map((r) => r.subgraphCpuMsPerFetch));
      cell.postgresCpuMsPerFetch = median(cell.rounds.map((r) => r.postgresCpuMsPerFetch));
      cell.peakRssMb = (await memoryOf(subgraphs.get(key(cell.service, cell.variant))!.pid))?.hwmMb ?? 0;
      if (cell.rounds.some((r) => r.failures > 0)) exitCode = 1;
    }
  } catch (error) {
    exitCode = 1;
    console.error(`subgraphs bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    notes.push(`run failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await cleanUp();
  }
  if (cells.length === 0) return exitCode || 1;

  const result = {
    scenario: 'subgraphs',
    runId,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { summary: machineSummary(), pinned },
    options: { ...options, databaseUrl: undefined },
    fetchesPerOperation,
    cells,
    notes,
  };
  const stamped = await writeResultFiles(options.out, 'subgraphs-', startedAt, { json: `${JSON.stringify(result, null, 2)}\n` });
  console.log(`\n${subgraphsTable(cells, options.variants)}\n`);
  for (const note of notes) console.log(`note: ${note}`);
  log(`results: ${join(options.out, `${stamped}.json`)} (also subgraphs-latest.json)`);
  return exitCode;
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

/** Per subgraph and variant: fetches per second, latency, CPU per fetch (subgraph, PostgreSQL), peak RSS; CPU relative to the first variant. */
export function subgraphsTable(cells: readonly Cell[], variants: readonly SubgraphVariant[]): string {
  const lines = [
    `| subgraph | variant | fetches/s (median) | p50 / p99 ms | CPU ms per fetch: subgraph | × ${variants[0]?.name ?? 'first'} | PostgreSQL | peak RSS MB |`,
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const cell of cells) {
    const first = cells.find((c) => c.service === cell.service && c.variant === variants[0]?.name);
    lines.push(
      `| ${cell.service} | ${cell.variant} | ${fmt(cell.medianFetchesPerSecond, 0)} | ${fmt(cell.p50, 2)} / ${fmt(cell.p99, 2)} | ${fmt(cell.subgraphCpuMsPerFetch, 3)} | ` +
        `${first ? fmt(cell.subgraphCpuMsPerFetch / first.subgraphCpuMsPerFetch, 2) : '–'} | ${fmt(cell.postgresCpuMsPerFetch, 3)} | ${fmt(cell.peakRssMb, 0)} |`,
    );
  }
  return lines.join('\n');
}
