// npm run bench -- --scenario router-only: the gateways alone. The five subgraphs' answers are
// recorded once and replayed from memory (processes/replay.ts), so neither the subgraphs nor
// PostgreSQL do any work while a gateway is measured; each gateway runs pinned to one core and
// everything else (the load generator, the replay process, the idle subgraphs) to the other.
// Our router, stock @apollo/gateway and Hive Gateway, interleaved, on the project's operations
// and a heavy federated query (heavy-read, ~55 KB per answer, 15 subgraph fetches on stock).
import { fork, spawn } from 'node:child_process';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROUTER_NODE_FLAGS } from '@commerce/service-kit/core';
import { difference, post } from './check.ts';
import { DatabaseServer, prepareDataSet, SEED_SHAPE } from './data.ts';
import { createRunIdentity } from './identity.ts';
import { machineSummary, startRun, writeResultFiles } from './run.ts';
import { median, percentile, runLoad, stopCurrentLoad } from './load.ts';
import { OPERATIONS, type OperationName } from './operations.ts';
import { childEnv, hasTaskset, memoryOf, pin, processScript, ROUTER_BENCH_ENV, ROUTER_MAIN, ROUTER_SETTINGS, ServerProcess, startFleet, type Fleet } from './systems.ts';
import { freePort } from '@commerce/db/testing';

export const ROUTER_ONLY_SYSTEMS = ['router', 'apollo-gateway', 'hive-gateway'] as const;
type BaseSystem = (typeof ROUTER_ONLY_SYSTEMS)[number];

/**
 * One process under test. `router` variants differ in Node flags, environment or even the code
 * they run (`main`: another checkout's router/src/main.ts), for before/after measurements in one
 * interleaved run.
 */
export interface SystemSpec {
  name: string;
  base: BaseSystem;
  nodeFlags: string[];
  env: Record<string, string>;
  main?: string;
}

export interface RouterOnlyOptions {
  quick: boolean;
  rounds: number;
  durationS: number;
  warmupS: number;
  connections: number;
  operations: OperationName[];
  systems: SystemSpec[];
  databaseUrl: string;
  out: string;
  samples: number;
}

interface Round {
  round: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  maxRssMb: number;
  cpuMsPerRequest: number;
  replayCpuMsPerRequest: number;
  loadGeneratorCpuMsPerRequest: number;
  restCpuMsPerRequest: number;
  subgraphRequestsPerOp: number;
  missesPerOp: number;
  failures: number;
}

interface Cell {
  operation: OperationName;
  system: string;
  rounds: Round[];
  medianRps: number;
  minRps: number;
  maxRps: number;
  p50: number;
  p95: number;
  p99: number;
  cpuMsPerRequest: number;
  maxRssMb: number;
  subgraphRequestsPerOp: number;
  answerBytes: number;
  firstBadBody: string | null;
}

const SUPERGRAPH = fileURLToPath(new URL('../../../router/supergraph.graphql', import.meta.url));

/**
 * Parses `--router-variant NAME=SPEC`: SPEC is space-separated `flags=…` (Node flags, comma-separated;
 * `flags=` for none), `env=NAME:VALUE` (repeatable), `main=PATH` and `base=SYSTEM` (another
 * gateway than ours, e.g. stock @apollo/gateway without flags: `base=apollo-gateway flags=`).
 */
export function parseRouterVariant(text: string): SystemSpec {
  const equals = text.indexOf('=');
  const name = equals < 0 ? text : text.slice(0, equals);
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name)) throw new Error(`router variant: bad name "${name}"`);
  const spec: SystemSpec = { name, base: 'router', nodeFlags: [...ROUTER_NODE_FLAGS], env: {} };
  for (const part of (equals < 0 ? '' : text.slice(equals + 1)).split(/\s+/).filter(Boolean)) {
    const [key, ...rest] = part.split('=');
    const value = rest.join('=');
    if (key === 'flags') spec.nodeFlags = value.split(',').filter(Boolean);
    else if (key === 'base') {
      if (!(ROUTER_ONLY_SYSTEMS as readonly string[]).includes(value)) throw new Error(`variant ${name}: base is one of ${ROUTER_ONLY_SYSTEMS.join(', ')}`);
      spec.base = value as BaseSystem;
    }
    else if (key === 'main') spec.main = value;
    else if (key === 'env') {
      const colon = value.indexOf(':');
      if (colon < 1) throw new Error(`router variant ${name}: env=NAME:VALUE, got "${value}"`);
      spec.env[value.slice(0, colon)] = value.slice(colon + 1);
    } else throw new Error(`router variant ${name}: unknown "${part}" (flags=, env=NAME:VALUE, main=, base=)`);
  }
  return spec;
}

/** The systems of a default run: our router as shipped, and the two other gateways with the same Node flags. */
export function defaultSystems(names: readonly BaseSystem[]): SystemSpec[] {
  return names.map((base) => ({ name: base, base, nodeFlags: [...ROUTER_NODE_FLAGS], env: {} }));
}

export async function runRouterOnly(options: RouterOnlyOptions): Promise<number> {
  const { startedAt, runId, log } = startRun();
  const server = new DatabaseServer(options.databaseUrl);
  const notes: string[] = [];
  let fleet: Fleet | null = null;
  const started: ServerProcess[] = [];
  const temporary: string[] = [];
  let interrupted = false;
  let cleaning: Promise<void> | null = null;
  const cleanUp = () => {
    cleaning ??= (async () => {
      stopCurrentLoad();
      await Promise.all(started.map((p) => p.stop().catch(() => p.killNow())));
      await fleet?.stop().catch(() => fleet?.killNow());
      for (const file of temporary) await unlink(file).catch(() => {});
      const failures = await server.dropAll();
      await server.close().catch(() => {});
      for (const failure of failures) console.error(`could not drop ${failure}`);
    })();
    return cleaning;
  };
  process.on('SIGINT', () => {
    if (interrupted) return;
    interrupted = true;
    log('interrupted: stopping the processes and dropping the databases…');
    void cleanUp().finally(() => process.exit(130));
  });
  process.on('exit', () => {
    for (const p of started) p.killNow();
    fleet?.killNow();
  });

  const cells: Cell[] = [];
  const peak: Record<string, number> = {};
  let exitCode = 0;
  const pinned = hasTaskset() && cpus().length >= 2;
  if (!pinned) notes.push('taskset or a second CPU is missing: nothing was pinned, every process shared every core');
  try {
    const machine = cpus();
    log(
      `router-only ${runId}: ${options.systems.map((s) => s.name).join(', ')} × ${options.operations.join(', ')}; ` +
        `${options.rounds} round(s) × ${options.durationS} s, ${options.connections} connections, warm-up ${options.warmupS} s; ` +
        `${machine.length} CPUs (${machine[0]?.model ?? 'unknown'}); Node ${process.version}`,
    );
    // The load generator (this process) on CPU 1 with the replay process; every gateway on CPU 0.
    if (pinned) pin(process.pid, 1);
    const identity = await createRunIdentity({ tokenLifetimeSeconds: 6 * 3_600 });
    const data = await prepareDataSet(server, runId, 'seed', SEED_SHAPE, log);
    fleet = await startFleet(data, identity, { subgraphPool: 4, monolithPool: 1, systems: [] }, (f) => (fleet = f));
    if (pinned) for (const p of fleet.subgraphs.values()) pin(p.pid, 1);
    const upstreams = Object.fromEntries([...fleet.subgraphs].map(([name, p]) => [name, p.url]));

    const replay = new ServerProcess(
      'replay',
      fork(processScript('replay'), [JSON.stringify(upstreams)], { execArgv: [], env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true }),
    );
    started.push(replay);
    await replay.ready(30_000);
    if (pinned) pin(replay.pid, 1);
    const replayUrls = JSON.parse(replay.url) as Record<string, string>;
    let supergraph = await readFile(SUPERGRAPH, 'utf8');
    for (const [service, url] of Object.entries(replayUrls)) {
      supergraph = supergraph.replace(new RegExp(`(@join__graph\\(name: "${service}", url: ")[^"]*(")`), `$1${url}$2`);
    }
    const supergraphPath = join(tmpdir(), `bench-router-only-${process.pid}.graphql`);
    temporary.push(supergraphPath);
    await writeFile(supergraphPath, supergraph);

    const passedThrough = Object.fromEntries(ROUTER_SETTINGS.filter((name) => process.env[name]).map((name) => [name, process.env[name]!]));
    const systems = new Map<string, ServerProcess>();
    for (const spec of options.systems) {
      const env = childEnv(identity.gatewayEnv());
      let child;
      if (spec.base === 'router') {
        const port = await freePort();
        Object.assign(env, { HOST: '127.0.0.1', ROUTER_PORT: String(port), ...ROUTER_BENCH_ENV, ...passedThrough, ...spec.env });
        for (const [service, url] of Object.entries(replayUrls)) env[`SUBGRAPH_${service.toUpperCase()}_URL`] = url;
        child = spawn(process.execPath, [...spec.nodeFlags, spec.main ?? ROUTER_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
        const p = new ServerProcess(spec.name, child);
        started.push(p);
        await p.ready(60_000, `http://127.0.0.1:${port}/health`);
        p.url = `http://127.0.0.1:${port}/graphql`;
        systems.set(spec.name, p);
      } else {
        // Stock means stock: the router's planner patches are off in the stock gateway's process.
        if (spec.base === 'apollo-gateway') env.COMMERCE_PLANNER_PATCHES = 'off';
        Object.assign(env, spec.env);
        child = fork(processScript(spec.base), [supergraphPath], { execArgv: spec.nodeFlags, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
        const p = new ServerProcess(spec.name, child);
        started.push(p);
        await p.ready(60_000);
        systems.set(spec.name, p);
      }
      if (pinned) pin(systems.get(spec.name)!.pid, 0);
    }
    log(`started 5 subgraphs, the replay process and ${[...systems].map(([n, p]) => `${n} (pid ${p.pid}, ${specOf(options, n).nodeFlags.join(' ') || 'no flags'})`).join(', ')}`);

    const replayCounters = () => replay.counters();
    const headers = identity.clientHeaders;
    // Correctness first (and the recording): the same answers from every system, no errors.
    const answerBytes = new Map<string, number>();
    const requestsPerOp = new Map<string, number>();
    for (const name of options.operations) {
      const operation = OPERATIONS[name];
      for (let i = 0; i < options.samples; i++) {
        const variables = operation.variables(i, SEED_SHAPE);
        let reference: { system: string; data: unknown } | null = null;
        for (const [system, p] of systems) {
          const before = await replayCounters();
          const response = await post(p.url, operation.query, variables, headers);
          const after = await replayCounters();
          if (i === 0) requestsPerOp.set(`${name} ${system}`, after.requests - before.requests);
          if (response.status !== 200 || response.body.errors || !response.body.data) {
            throw new Error(`${system} answered ${name} with ${response.status}: ${JSON.stringify(response.body).slice(0, 600)}`);
          }
          if (i === 0) answerBytes.set(`${name} ${system}`, JSON.stringify(response.body).length);
          // A replayed write answers with the stock of its recording: compared without it.
          const data = operation.write ? withoutStock(response.body.data) : response.body.data;
          if (!reference) {
            reference = { system, data };
            continue;
          }
          const diff = difference(reference.data, data);
          if (diff) throw new Error(`${name} ${JSON.stringify(variables)}: ${system} differs from ${reference.system} at ${diff}`);
        }
      }
      log(
        `${name}: same answers on every system (${options.samples} variable sets); ` +
          [...systems.keys()].map((s) => `${s} ${requestsPerOp.get(`${name} ${s}`)} subgraph req, ${((answerBytes.get(`${name} ${s}`) ?? 0) / 1024).toFixed(1)} KB`).join(', '),
      );
    }

    let offset = 1_000;
    const latencies = new Map<Cell, number[]>();
    const run = async (name: OperationName, system: string, durationS: number) => {
      const target = systems.get(system)!;
      const before = await replayCounters();
      const result = await runLoad({
        url: target.url,
        operation: OPERATIONS[name],
        shape: SEED_SHAPE,
        durationS,
        connections: options.connections,
        headers,
        startAt: offset,
        measurePid: target.pid,
        subgraphPids: [replay.pid],
        postgresPids: async () => [],
      });
      const after = await replayCounters();
      offset += result.requests + 1;
      const done = Math.max(1, result.requests);
      return { result, requestsPerOp: (after.requests - before.requests) / done, missesPerOp: (after.statements - before.statements) / done };
    };
    if (options.warmupS > 0) {
      // Twice: the first pass records what the checks did not, the second warms the JIT on replays only.
      for (const pass of [1, 2]) {
        for (const name of options.operations) {
          for (const system of systems.keys()) {
            if (interrupted) return 130;
            const { missesPerOp } = await run(name, system, options.warmupS);
            if (pass === 2 && missesPerOp > 0.01) log(`warm-up: ${system} ${name} still misses ${missesPerOp.toFixed(3)} replays per operation`);
          }
        }
      }
      log(`warmed up (2 × ${options.warmupS} s per system and operation)`);
    }
    const names = [...systems.keys()];
    for (let round = 1; round <= options.rounds; round++) {
      const order = names.map((_, i) => names[(i + round - 1) % names.length]!);
      for (const name of options.operations) {
        for (const system of order) {
          if (interrupted) return 130;
          const { result, requestsPerOp: perOp, missesPerOp } = await run(name, system, options.durationS);
          let cell = cells.find((c) => c.operation === name && c.system === system);
          if (!cell) {
            cell = {
              operation: name,
              system,
              rounds: [],
              medianRps: 0,
              minRps: 0,
              maxRps: 0,
              p50: 0,
              p95: 0,
              p99: 0,
              cpuMsPerRequest: 0,
              maxRssMb: 0,
              subgraphRequestsPerOp: 0,
              answerBytes: answerBytes.get(`${name} ${system}`) ?? 0,
              firstBadBody: null,
            };
            cells.push(cell);
          }
          const failures = result.errors + result.timeouts + result.non2xx + result.errorBodies + result.badSamples;
          const r: Round = {
            round,
            rps: result.rps,
            p50: percentile(result.latencies, 50),
            p95: percentile(result.latencies, 95),
            p99: percentile(result.latencies, 99),
            maxRssMb: result.maxRssMb,
            cpuMsPerRequest: result.cpu.system,
            replayCpuMsPerRequest: result.cpu.subgraphs,
            loadGeneratorCpuMsPerRequest: result.cpu.loadGenerator,
            restCpuMsPerRequest: result.cpu.rest,
            subgraphRequestsPerOp: perOp,
            missesPerOp,
            failures,
          };
          cell.rounds.push(r);
          cell.firstBadBody ??= result.firstBadBody;
          latencies.set(cell, [...(latencies.get(cell) ?? []), ...result.latencies]);
          log(
            `${name.padEnd(10)} round ${round}/${options.rounds} ${system.padEnd(16)} ${result.rps.toFixed(0).padStart(6)} req/s  ` +
              `p50 ${r.p50.toFixed(1)}  p95 ${r.p95.toFixed(1)}  p99 ${r.p99.toFixed(1)} ms  rss ${r.maxRssMb.toFixed(0)} MB  ` +
              `cpu ${r.cpuMsPerRequest.toFixed(3)} ms/req (replay ${r.replayCpuMsPerRequest.toFixed(3)}, load ${r.loadGeneratorCpuMsPerRequest.toFixed(3)}, rest ${r.restCpuMsPerRequest.toFixed(3)})  ` +
              `subgraph req/op ${perOp.toFixed(2)}${missesPerOp > 0 ? ` (misses ${missesPerOp.toFixed(3)})` : ''}` +
              (failures > 0 ? `  ${failures} FAILED (${result.firstBadBody?.slice(0, 160)})` : ''),
          );
        }
      }
    }
    for (const [cell, values] of latencies) {
      const rps = cell.rounds.map((r) => r.rps);
      cell.medianRps = median(rps);
      cell.minRps = Math.min(...rps);
      cell.maxRps = Math.max(...rps);
      cell.p50 = percentile(values, 50);
      cell.p95 = percentile(values, 95);
      cell.p99 = percentile(values, 99);
      cell.cpuMsPerRequest = median(cell.rounds.map((r) => r.cpuMsPerRequest));
      cell.maxRssMb = Math.max(...cell.rounds.map((r) => r.maxRssMb));
      cell.subgraphRequestsPerOp = median(cell.rounds.map((r) => r.subgraphRequestsPerOp));
      if (cell.rounds.some((r) => r.failures > 0)) exitCode = 1;
    }
    for (const [name, p] of systems) peak[name] = (await memoryOf(p.pid))?.hwmMb ?? 0;
  } catch (error) {
    exitCode = 1;
    console.error(`router-only bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    notes.push(`run failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await cleanUp();
  }
  if (cells.length === 0) return exitCode || 1;

  const result = {
    scenario: 'router-only',
    runId,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: {
      summary: machineSummary(),
      pinned,
    },
    options: { ...options, databaseUrl: undefined },
    cells,
    peakRssMb: peak,
    notes,
  };
  const stamped = await writeResultFiles(options.out, 'router-only-', startedAt, { json: `${JSON.stringify(result, null, 2)}\n` });
  console.log(`\n${routerOnlyTable(cells, peak, options.systems)}\n`);
  for (const note of notes) console.log(`note: ${note}`);
  log(`results: ${join(options.out, `${stamped}.json`)} (also router-only-latest.json)`);
  return exitCode;
}

function specOf(options: RouterOnlyOptions, name: string): SystemSpec {
  return options.systems.find((s) => s.name === name)!;
}

function withoutStock(data: unknown): unknown {
  return JSON.parse(JSON.stringify(data), (key, value: unknown) => (key === 'stock' || key === 'inStock' ? undefined : value));
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

/** The results table: per operation and system, median req/s (min–max over rounds), ratio to stock, latency, CPU, memory. */
export function routerOnlyTable(cells: readonly Cell[], peak: Record<string, number>, systems: readonly SystemSpec[]): string {
  const lines = [
    '| operation | system | req/s median (min–max) | × stock | p50 / p95 / p99 ms | CPU ms/req | max RSS MB (peak) | subgraph req/op | answer KB |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const cell of cells) {
    const stock = cells.find((c) => c.operation === cell.operation && specOf({ systems } as RouterOnlyOptions, c.system)?.base === 'apollo-gateway');
    lines.push(
      `| ${cell.operation} | ${cell.system} | ${fmt(cell.medianRps, 0)} (${fmt(cell.minRps, 0)}–${fmt(cell.maxRps, 0)}) | ` +
        `${stock ? fmt(cell.medianRps / stock.medianRps, 2) : '–'} | ${fmt(cell.p50)} / ${fmt(cell.p95)} / ${fmt(cell.p99)} | ${fmt(cell.cpuMsPerRequest, 3)} | ` +
        `${fmt(cell.maxRssMb, 0)} (${fmt(peak[cell.system] ?? Number.NaN, 0)}) | ${fmt(cell.subgraphRequestsPerOp, 1)} | ${fmt(cell.answerBytes / 1024, 1)} |`,
    );
  }
  return lines.join('\n');
}


