// npm run bench: this supergraph (our router + the five subgraphs) against stock @apollo/gateway
// and Hive Gateway in front of the same subgraphs, and against a monolith (one server, one
// database), with the same data and the same operations, on PostgreSQL. See README-section.md.
import { unlink } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cacheCountersOf, cacheDelta, checkReads, checkWrite, costBetween, countersOf, post, staleReadsVsDelivery, type CacheCounters, type Cost, type StaleReadsVsDelivery } from './check.ts';
import { DatabaseServer, largeShape, openTruth, prepareDataSet, SEED_SHAPE, type DataShape, type SizeName } from './data.ts';
import { median, percentile, runLoad, startWriter, stopCurrentLoad, type WriterResult } from './load.ts';
import {
  GHOST_WAITLIST_PRODUCT,
  OPERATION_NAMES,
  OPERATIONS,
  ROUTER_ONLY_OPERATION_NAMES,
  skewedOperation,
  skewedProduct,
  type Operation,
  type OperationName,
  type Skew,
} from './operations.ts';
import { chart, evaluateMixedTargets, evaluateTargets, mixedTable, table, type BenchResult, type Cell, type RoundResult } from './report.ts';
import { createRunIdentity, type RunIdentity } from './identity.ts';
import { machineSummary, startRun, writeResultFiles } from './run.ts';
import { SERVICE_NAMES, type ServiceName } from './services.ts';
import { ADMIN } from './gateway-glue.ts';
import { MIXED_SYSTEM_NAMES, memoryOf, processTree, ROUTER_BENCH_ENV, ROUTER_SETTINGS, startFleet, supergraphCopy, SYSTEM_NAMES, type Fleet, type SystemName } from './systems.ts';

const HELP = `npm run bench [-- options]

  --quick               smoke run: 1 round × 1 s, no warm-up, large data at scale 0.02
  --rounds N            measured rounds; each runs every system on every operation   (BENCH_ROUNDS, 3)
  --duration S          seconds of load per system × operation × round               (BENCH_DURATION, 5)
  --warmup S            seconds of unmeasured load per system × operation first       (BENCH_WARMUP, 3; mixed 20)
  --connections N       concurrent keep-alive connections (autocannon)                (BENCH_CONNECTIONS, 10)
  --sizes LIST          data sizes, from seed,large                                   (BENCH_SIZES, seed,large)
  --scale F             large data = F × (100k products, 1M reviews, 25k users, 75k orders) (BENCH_SCALE, 1)
  --systems LIST        from router,apollo-gateway,hive-gateway,monolith              (BENCH_SYSTEMS, all)
  --operations LIST     from ${OPERATION_NAMES.join(',')}                  (BENCH_OPERATIONS, all)
  --subgraph-pool N     PostgreSQL connections per subgraph process (as shipped: 10)  (BENCH_SUBGRAPH_POOL, 10)
  --monolith-pool N     PostgreSQL connections of the monolith                        (BENCH_MONOLITH_POOL, 10)
  --database-url URL    PostgreSQL server (a superuser: it creates and drops bench_* databases)
                        (BENCH_DATABASE_URL, postgres://postgres@127.0.0.1:5432/postgres)
  --out DIR             where results go (BENCH_OUT, scripts/bench/results)
  --scenario NAME       full (every system in front of real subgraphs on PostgreSQL) or router-only
                        (the gateways alone, subgraph answers replayed from memory, one pinned core
                        each for the gateway and the load; operations: heavy-read and the four
                        above; defaults 3 rounds × 8 s, warm-up 2 × 5 s), or mixed (reads under writes:
                        router-cached (our router, entity cache on, the subgraphs' events on and pushed
                        to it), router (cache off), apollo-gateway, monolith; deep-read and user-read
                        with Zipf-distributed keys on the large data only, each measured run with a
                        background writer on the same system; hit rate and staleness), or subgraphs
                        (what one fetch costs: the router's own fetches for the four operations,
                        recorded once and replayed, signed afresh, to one subgraph at a time pinned
                        to one core; defaults seed data, 3 rounds × 6 s, warm-up 4 s)
                                                                                    (BENCH_SCENARIO, full)
  --write-rate N        mixed: writes per second during every measured run          (BENCH_WRITE_RATE, 10)
  --zipf S              mixed: Zipf exponent of the keys read and written            (BENCH_ZIPF, 1.0)
  --seed N              mixed: seed of the key sequence (the same for every system)  (BENCH_SEED, 11)
  --router-variant V    router-only: measure our router several ways in one run, e.g.
                        --router-variant semi32=flags=--max-semi-space-size=32
                        --router-variant nomerge=env=SUBGRAPH_MERGE_FETCHES:false (repeatable;
                        replaces the plain router; SPEC: flags=A,B env=NAME:VALUE main=PATH;
                        base=apollo-gateway|hive-gateway adds another gateway's variant instead)
  --subgraph-variant V  subgraphs: run the subgraphs several ways in one run, interleaved, e.g.
                        --subgraph-variant semi8=flags=--max-semi-space-size=8 (repeatable; the
                        first is the reference; SPEC: flags=A,B env=NAME:VALUE; default: one
                        variant, the shipped SERVER_NODE_FLAGS)
  --services LIST       subgraphs: from ${SERVICE_NAMES.join(',')}      (all)
  --help`;

// --- Options -----------------------------------------------------------------------------------

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    sizes: { type: 'string' },
    scale: { type: 'string' },
    systems: { type: 'string' },
    operations: { type: 'string' },
    'subgraph-pool': { type: 'string' },
    'monolith-pool': { type: 'string' },
    'database-url': { type: 'string' },
    out: { type: 'string' },
    scenario: { type: 'string' },
    'router-variant': { type: 'string', multiple: true },
    'subgraph-variant': { type: 'string', multiple: true },
    services: { type: 'string' },
    'write-rate': { type: 'string' },
    zipf: { type: 'string' },
    seed: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (flags.help) {
  console.log(HELP);
  process.exit(0);
}

const problems: string[] = [];
function numberOption(flag: string | undefined, env: string, fallback: number, { min, max, integer }: { min: number; max: number; integer?: boolean }): number {
  const raw = flag ?? process.env[env];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    problems.push(`${env} / flag: expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got "${raw}"`);
    return fallback;
  }
  return value;
}
function listOption<T extends string>(flag: string | undefined, env: string, allowed: readonly T[]): T[] {
  const raw = flag ?? process.env[env];
  if (!raw) return [...allowed];
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = items.filter((item) => !allowed.includes(item as T));
  if (unknown.length > 0) problems.push(`${env} / flag: unknown ${unknown.join(', ')} (allowed: ${allowed.join(', ')})`);
  return allowed.filter((item) => items.includes(item));
}

/** The server the benchmark creates and drops its databases on (a superuser URL). */
const databaseUrl = flags['database-url'] ?? process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Where results go. */
const resultsDir = flags.out ?? process.env.BENCH_OUT ?? fileURLToPath(new URL('../results/', import.meta.url));
// It creates and drops databases as a superuser: only ever on a PostgreSQL server on this machine.
if (!/^postgres(ql)?:\/\//.test(databaseUrl) || !URL.canParse(databaseUrl)) problems.push('BENCH_DATABASE_URL: not a postgres:// URL');
else if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(databaseUrl).hostname)) problems.push('BENCH_DATABASE_URL: the benchmark only runs against a PostgreSQL server on loopback');

/** Every scenario's last check: what is wrong with its options, said at once, then exit 2. */
function exitOnProblems(): void {
  if (problems.length === 0) return;
  console.error(`Invalid options:\n${problems.map((p) => `  - ${p}`).join('\n')}\n\n${HELP}`);
  process.exit(2);
}

const quick = flags.quick ?? false;
const scenario = flags.scenario ?? process.env.BENCH_SCENARIO ?? 'full';
if (scenario === 'router-only') {
  const { defaultSystems, parseRouterVariant, ROUTER_ONLY_SYSTEMS, runRouterOnly } = await import('./router-only.ts');
  const pick = <T extends string>(raw: string | undefined, allowed: readonly T[]): T[] => {
    if (!raw) return [...allowed];
    const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = items.filter((item) => !allowed.includes(item as T));
    if (unknown.length > 0) problems.push(`unknown ${unknown.join(', ')} (allowed: ${allowed.join(', ')})`);
    return allowed.filter((item) => items.includes(item));
  };
  const operations = pick<OperationName>(flags.operations ?? process.env.BENCH_OPERATIONS, ROUTER_ONLY_OPERATION_NAMES);
  let systems = defaultSystems(pick(flags.systems ?? process.env.BENCH_SYSTEMS, ROUTER_ONLY_SYSTEMS));
  try {
    const variants = (flags['router-variant'] ?? []).map(parseRouterVariant);
    if (variants.some((v) => v.base === 'router')) systems = systems.filter((s) => s.base !== 'router');
    systems = [...variants.filter((v) => v.base === 'router'), ...systems, ...variants.filter((v) => v.base !== 'router')];
  } catch (error) {
    problems.push((error as Error).message);
  }
  const count = (raw: string | undefined, fallback: number) => (raw === undefined || raw === '' ? fallback : Number(raw));
  const options = {
    quick,
    rounds: count(flags.rounds ?? process.env.BENCH_ROUNDS, quick ? 1 : 3),
    durationS: count(flags.duration ?? process.env.BENCH_DURATION, quick ? 2 : 8),
    // Longer than the full run's: merged requests vary with timing, and each new combination is recorded once.
    warmupS: count(flags.warmup ?? process.env.BENCH_WARMUP, quick ? 1 : 5),
    connections: count(flags.connections ?? process.env.BENCH_CONNECTIONS, 10),
    operations,
    systems,
    databaseUrl,
    out: resultsDir,
    samples: quick ? 2 : 3,
  };
  for (const [name, value, max] of [['rounds', options.rounds, 20], ['duration', options.durationS, 120], ['warmup', options.warmupS, 60], ['connections', options.connections, 256]] as const) {
    if (!Number.isInteger(value) || value < (name === 'warmup' ? 0 : 1) || value > max) problems.push(`--${name}: expected an integer up to ${max}`);
  }
  if (operations.length === 0 || systems.length === 0) problems.push('nothing to run');
  exitOnProblems();
  process.exit(await runRouterOnly(options));
} else if (scenario === 'subgraphs') {
  const { parseSubgraphVariant, runSubgraphsOnly, SHIPPED_VARIANT } = await import('./subgraphs-only.ts');
  let variants = [SHIPPED_VARIANT];
  try {
    if (flags['subgraph-variant']?.length) variants = flags['subgraph-variant'].map(parseSubgraphVariant);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (new Set(variants.map((v) => v.name)).size !== variants.length) problems.push('--subgraph-variant: every variant needs its own name');
  const sizes = listOption<SizeName>(flags.sizes, 'BENCH_SIZES', ['seed', 'large']);
  if (!flags.sizes && !process.env.BENCH_SIZES) sizes.splice(0, sizes.length, 'seed');
  if (sizes.length !== 1) problems.push('--scenario subgraphs: one data size at a time (--sizes seed or --sizes large)');
  const options = {
    quick,
    rounds: numberOption(flags.rounds, 'BENCH_ROUNDS', quick ? 1 : 3, { min: 1, max: 20, integer: true }),
    durationS: numberOption(flags.duration, 'BENCH_DURATION', quick ? 1 : 6, { min: 1, max: 120, integer: true }),
    warmupS: numberOption(flags.warmup, 'BENCH_WARMUP', quick ? 1 : 4, { min: 0, max: 60, integer: true }),
    connections: numberOption(flags.connections, 'BENCH_CONNECTIONS', 10, { min: 1, max: 256, integer: true }),
    size: sizes[0] ?? 'seed',
    scale: numberOption(flags.scale, 'BENCH_SCALE', quick ? 0.02 : 1, { min: 0.001, max: 20 }),
    services: listOption<ServiceName>(flags.services, 'BENCH_SERVICES', SERVICE_NAMES),
    variants,
    samples: quick ? 3 : 12,
    databaseUrl,
    out: resultsDir,
  };
  if (options.services.length === 0) problems.push('nothing to run');
  exitOnProblems();
  process.exit(await runSubgraphsOnly(options));
} else if (scenario !== 'full' && scenario !== 'mixed') {
  console.error(`Invalid options:\n  - --scenario: full, router-only, mixed or subgraphs, got "${scenario}"\n\n${HELP}`);
  process.exit(2);
}
/** The mixed scenario: reads with skewed keys under a background writer, the entity cache on in router-cached. */
const mixed = scenario === 'mixed';
const MIXED_OPERATIONS = ['deep-read', 'user-read'] as const;
const options = {
  quick,
  rounds: numberOption(flags.rounds, 'BENCH_ROUNDS', quick ? 1 : 3, { min: 1, max: 20, integer: true }),
  durationS: numberOption(flags.duration, 'BENCH_DURATION', quick ? 1 : 5, { min: 1, max: 120, integer: true }),
  // Mixed: long enough for router-cached's cache to reach a steady state on the skewed keys (it
  // starts empty; every system gets the same warm-up).
  warmupS: numberOption(flags.warmup, 'BENCH_WARMUP', quick ? 0 : mixed ? 20 : 3, { min: 0, max: 60, integer: true }),
  connections: numberOption(flags.connections, 'BENCH_CONNECTIONS', 10, { min: 1, max: 256, integer: true }),
  scale: numberOption(flags.scale, 'BENCH_SCALE', quick ? 0.02 : 1, { min: 0.001, max: 2 }),
  // The mixed scenario runs on the large data set only (the full scenario's, at --scale).
  sizes: listOption<SizeName>(flags.sizes, 'BENCH_SIZES', mixed ? ['large'] : ['seed', 'large']),
  systems: listOption<SystemName>(flags.systems, 'BENCH_SYSTEMS', mixed ? MIXED_SYSTEM_NAMES : SYSTEM_NAMES),
  operations: listOption<OperationName>(flags.operations, 'BENCH_OPERATIONS', mixed ? MIXED_OPERATIONS : OPERATION_NAMES),
  writeRate: numberOption(flags['write-rate'], 'BENCH_WRITE_RATE', 10, { min: 0.1, max: 200 }),
  zipf: numberOption(flags.zipf, 'BENCH_ZIPF', 1.0, { min: 0, max: 3 }),
  seed: numberOption(flags.seed, 'BENCH_SEED', 11, { min: 0, max: 2 ** 31 - 1, integer: true }),
  subgraphPool: numberOption(flags['subgraph-pool'], 'BENCH_SUBGRAPH_POOL', 10, { min: 1, max: 50, integer: true }),
  monolithPool: numberOption(flags['monolith-pool'], 'BENCH_MONOLITH_POOL', 10, { min: 1, max: 50, integer: true }),
  databaseUrl,
  out: resultsDir,
  /** Variable sets checked for deep equality across systems before timing. */
  samples: quick ? 2 : 3,
};
if (options.sizes.length === 0 || options.systems.length === 0 || options.operations.length === 0) problems.push('nothing to run');
if (mixed && options.sizes.includes('seed')) problems.push('--scenario mixed: runs on the large data set only (--sizes large)');
exitOnProblems();

// --- Run ---------------------------------------------------------------------------------------

const { startedAt, runId, log } = startRun();

const server = new DatabaseServer(options.databaseUrl);
let fleet: Fleet | null = null;
let interrupted = false;
let cleaning: Promise<void> | null = null;

/** Stops every process and drops every database this run created; safe to call twice. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    stopCurrentLoad();
    if (fleet) {
      await fleet.stop().catch(() => fleet?.killNow());
      fleet = null;
    }
    for (const size of ['seed', 'large']) await unlink(supergraphCopy(size)).catch(() => {});
    const pending = [...server.created];
    const failures = await server.dropAll();
    await server.close().catch(() => {});
    if (pending.length > 0) log(`dropped ${pending.length - failures.length} of ${pending.length} benchmark databases`);
    for (const failure of failures) console.error(`could not drop ${failure}`);
  })();
  return cleaning;
}

process.on('SIGINT', () => {
  if (interrupted) return;
  interrupted = true;
  log('interrupted: stopping the processes and dropping the databases…');
  void cleanUp().finally(() => process.exit(130));
});
// Last resort if the benchmark dies some other way: never leave servers running.
process.on('exit', () => fleet?.killNow());

const cells: Cell[] = [];
const peakMemory: BenchResult['peakMemory'] = [];
const shapes: BenchResult['shapes'] = {};
const notes: string[] = [];
let complete = false;

function cellFor(size: SizeName, operation: OperationName, system: SystemName): Cell {
  let cell = cells.find((c) => c.size === size && c.operation === operation && c.system === system);
  if (!cell) {
    cell = {
      size,
      operation,
      system,
      rounds: [],
      medianRps: 0,
      p50: 0,
      p95: 0,
      p99: 0,
      maxRssMb: 0,
      maxSubgraphsRssMb: 0,
      cost: null,
      cpu: null,
      failures: 0,
      firstBadBody: null,
      rpsVsRouter: null,
      p99VsRouter: null,
    };
    cells.push(cell);
  }
  return cell;
}

/** Mixed scenario: how keys are drawn, and how often the writer reads a written value back. */
const skew: Skew = { exponent: options.zipf, seed: options.seed };
const PROBE_INTERVAL_MS = 10;
const STALENESS_TIMEOUT_MS = 5_000;
/** The writer's bound: ticks that find this many writes still in flight are skipped. */
const MAX_WRITES_IN_FLIGHT = 20;
/** The operation as measured: the mixed scenario draws its keys from the Zipf distribution. */
const operationOf = (name: OperationName): Operation => (mixed ? skewedOperation(name as (typeof MIXED_OPERATIONS)[number], skew) : OPERATIONS[name]);

/** Mixed scenario: what the writer and the cache did in one cell's measured runs, added up. */
interface MixedAccumulator {
  writes: WriterResult[];
  cache: CacheCounters[];
  deliveries: number[];
  pendingDeliveries: number;
  judged: StaleReadsVsDelivery[];
}
const mixedRuns = new Map<Cell, MixedAccumulator>();

async function measureSize(size: SizeName, shape: DataShape, identity: RunIdentity): Promise<void> {
  shapes[size] = shape;
  const data = await prepareDataSet(server, runId, size, shape, log);
  fleet = await startFleet(data, identity, { ...options, events: mixed }, (f) => (fleet = f));
  const running = fleet;
  log(`${size}: started 5 subgraphs${mixed ? ' (events on, pushed to router-cached)' : ''} and ${running.systems.size} systems (${[...running.systems].map(([n, p]) => `${n} pid ${p.pid}`).join(', ')})`);
  const truth = mixed ? await openTruth(data) : null;
  try {
    await measureRunning(size, shape, running, truth);
  } finally {
    await truth?.close();
  }
  if (!fleet) return;
  for (const [system, process] of running.systems) {
    const memory = await Promise.all((await processTree(process.pid)).map(memoryOf));
    if (memory[0]) peakMemory.push({ size, system, vmHwmMb: memory.reduce((sum, m) => sum + (m?.hwmMb ?? 0), 0) });
  }
  await running.stop();
  fleet = null;
  for (const name of data.names) await server.drop(name);
  log(`${size}: stopped every process and dropped its ${data.names.length} databases`);
}

async function measureRunning(size: SizeName, shape: DataShape, running: Fleet, truth: Awaited<ReturnType<typeof openTruth>> | null): Promise<void> {
  // Correctness first: reads deep-equal across systems, then the write; no errors anywhere.
  // router-cached answers twice: cold (first, filling its cache) and warm (last, from it).
  const reads = options.operations.filter((name) => !OPERATIONS[name].write);
  const writes = options.operations.filter((name) => OPERATIONS[name].write);
  for (const name of [...reads, ...writes]) {
    const operation = operationOf(name);
    const cold = new Map<SystemName, Cost>();
    const costs: Map<SystemName, Cost> = operation.write
      ? await checkWrite(running, operation, shape)
      : await checkReads(running, operation, shape, options.samples, running.systems.has('router-cached') ? ['router-cached'] : [], cold);
    for (const [system, cost] of costs) cellFor(size, name, system).cost = cost;
    const describe = (entries: Iterable<[string, Cost]>) => [...entries].map(([s, c]) => `${s} ${c.subgraphRequests} subgraph req/${c.sqlStatements} SQL`).join(', ');
    log(
      `${size}: ${name} ${operation.write ? 'write checked on every system' : `same data on every system (${options.samples} variable sets${cold.size > 0 ? '; router-cached cold and warm' : ''})`}; ` +
        `per request: ${describe([...[...cold].map(([s, c]) => [`${s} (cold)`, c] as [string, Cost]), ...costs])}`,
    );
  }

  // An entity lookup that misses: product 10's waitlist holds an email with no account, which
  // must come back as a null entry without an error. Reported, not timed.
  if (options.operations.includes('waitlist')) {
    const answers: string[] = [];
    for (const [system, process] of running.systems) {
      const response = await post(process.url, OPERATIONS.waitlist.query, { id: String(GHOST_WAITLIST_PRODUCT) }, running.clientHeaders);
      const errors = (response.body.errors ?? []) as { message?: string; path?: unknown[] }[];
      answers.push(`${system} ${errors.length === 0 ? 'null entry, no error' : `error "${errors[0]?.message}" at ${JSON.stringify(errors[0]?.path)}`}`);
    }
    const line = `product ${GHOST_WAITLIST_PRODUCT}'s waitlist (an email without an account): ${answers.join('; ')}`;
    if (!notes.includes(`${size}: ${line}`)) notes.push(`${size}: ${line}`);
    log(`${size}: ${line}`);
  }

  const latencies = new Map<Cell, number[]>();
  let offset = 1_000;
  /**
   * One system on one operation. Mixed scenario: every system starts the same key sequence at
   * `phase` (so each reads and writes the same keys), and a background writer runs on the same
   * system for as long as the load; router-cached's cache counters and the publishers' event
   * deliveries to it are read around the run.
   */
  const run = async (name: OperationName, system: SystemName, durationS: number, phase: number) => {
    const target = running.systems.get(system)!;
    const before = await countersOf(running);
    const cacheBefore = mixed && system === 'router-cached' ? await cacheCountersOf(target.url) : null;
    const startedAt = new Date();
    const writer =
      mixed && truth
        ? startWriter({
            post: (query, variables) => post(target.url, query, variables, running.clientHeaders),
            rate: options.writeRate,
            startAt: phase * 1_000_000,
            product: (j) => skewedProduct(j, shape, skew),
            // The monolith has no identity: its addReview takes the author (the same admin, user 1).
            reviewInput: system === 'monolith' ? { authorId: String(ADMIN.userId) } : {},
            reviewCount: (productId) => truth.reviewCount(system === 'monolith' ? 'monolith' : 'services', productId),
            timeoutMs: STALENESS_TIMEOUT_MS,
            probeIntervalMs: PROBE_INTERVAL_MS,
            maxInFlight: MAX_WRITES_IN_FLIGHT,
          })
        : null;
    let result: Awaited<ReturnType<typeof runLoad>>;
    let writes: WriterResult | undefined;
    try {
      result = await runLoad({
        url: target.url,
        operation: operationOf(name),
        shape,
        durationS,
        connections: options.connections,
        headers: running.clientHeaders,
        startAt: mixed ? phase * 10_000_000 : offset,
        measurePid: target.pid,
        subgraphPids: system === 'monolith' ? [] : [...running.subgraphs.values()].map((p) => p.pid),
        postgresPids: () => server.backendPids(`bench_${runId}_`),
      });
    } finally {
      writes = await writer?.stop();
    }
    offset += result.requests + 1;
    const cost = costBetween(before, await countersOf(running), system, Math.max(1, result.requests));
    const cache = cacheBefore ? cacheDelta(cacheBefore, (await cacheCountersOf(target.url))!) : null;
    // Events still on their way (a write can read back fresh before its own event arrives, when
    // another event already emptied the entry): wait for them, at most 10 s, before judging.
    let deliveries = cacheBefore && truth ? await truth.routerDeliveries(startedAt, new Date()) : null;
    const endedAt = new Date();
    for (const deadline = Date.now() + 10_000; deliveries && deliveries.pending > 0 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      deliveries = await truth!.routerDeliveries(startedAt, endedAt);
    }
    return { result, cost, writes: writes ?? null, cache, deliveries };
  };

  if (options.warmupS > 0) {
    for (const [index, name] of options.operations.entries()) {
      for (const system of options.systems) {
        if (interrupted) return;
        await run(name, system, options.warmupS, 1 + index);
      }
    }
    log(`${size}: warmed up (${options.warmupS} s per system and operation)`);
  }

  for (let round = 1; round <= options.rounds; round++) {
    // Interleaved: every system once per operation per round, starting one system later each round.
    const order = options.systems.map((_, i) => options.systems[(i + round - 1) % options.systems.length]!);
    for (const [index, name] of options.operations.entries()) {
      for (const system of order) {
        if (interrupted) return;
        const { result, cost, writes, cache, deliveries } = await run(name, system, options.durationS, 100 * round + 1 + index);
        if (interrupted) return;
        const cell = cellFor(size, name, system);
        if (writes) {
          const runs = mixedRuns.get(cell) ?? { writes: [], cache: [], deliveries: [], pendingDeliveries: 0, judged: [] };
          runs.writes.push(writes);
          if (cache) runs.cache.push(cache);
          const judged = deliveries ? staleReadsVsDelivery(writes.records, deliveries.events) : null;
          if (deliveries) {
            runs.deliveries.push(...deliveries.delivered);
            runs.pendingDeliveries += deliveries.pending;
            runs.judged.push(judged!);
          }
          mixedRuns.set(cell, runs);
          const lookups = cache
            ? Object.values(cache.lookups).reduce((sum, l) => ({ hits: sum.hits + l.hits, misses: sum.misses + l.misses, stale: sum.stale + l.stale }), { hits: 0, misses: 0, stale: 0 })
            : null;
          log(
            `${''.padEnd(5)} ${''.padEnd(9)} writes ${writes.ok}/${writes.sent} ok (${writes.failed} failed, ${writes.skipped} skipped, at most ${writes.maxInFlight} in flight), ` +
              `staleness max ${Math.max(0, ...writes.staleness).toFixed(0)} ms, ${writes.staleReads} stale reads` +
              (lookups
                ? `, cache hits ${((100 * lookups.hits) / Math.max(1, lookups.hits + lookups.misses)).toFixed(0)} % (${lookups.stale} misses stale), ` +
                  `${cache!.invalidations} invalidations, ${cache!.entries} entries, ${(cache!.bytes / 1024 ** 2).toFixed(0)} MB (${cache!.evictions} evicted)`
                : '') +
              (deliveries ? `, event delivery max ${Math.max(0, ...deliveries.delivered).toFixed(0)} ms` : '') +
              (judged ? `, stale reads after their event's delivery: ${judged.afterDelivery} of ${judged.withStaleReads} writes (${judged.unmatched} unmatched)` : '') +
              (writes.firstError ? `  WRITE FAILED: ${writes.firstError.slice(0, 200)}` : ''),
          );
        }
        const failures = result.errors + result.timeouts + result.non2xx + result.errorBodies + result.badSamples;
        const roundResult: RoundResult = {
          round,
          rps: result.rps,
          requests: result.requests,
          p50: percentile(result.latencies, 50),
          p95: percentile(result.latencies, 95),
          p99: percentile(result.latencies, 99),
          maxRssMb: result.maxRssMb,
          maxSubgraphsRssMb: result.maxSubgraphsRssMb,
          errors: result.errors,
          timeouts: result.timeouts,
          non2xx: result.non2xx,
          errorBodies: result.errorBodies,
          badSamples: result.badSamples,
          subgraphRequestsPerOp: cost.subgraphRequests,
          sqlPerOp: cost.sqlStatements,
          cpu: result.cpu,
        };
        cell.rounds.push(roundResult);
        cell.failures += failures;
        cell.firstBadBody ??= result.firstBadBody;
        latencies.set(cell, [...(latencies.get(cell) ?? []), ...result.latencies]);
        log(
          `${size.padEnd(5)} ${name.padEnd(9)} round ${round}/${options.rounds} ${system.padEnd(14)} ` +
            `${result.rps.toFixed(0).padStart(6)} req/s  p50 ${roundResult.p50.toFixed(1)}  p95 ${roundResult.p95.toFixed(1)}  ` +
            `p99 ${roundResult.p99.toFixed(1)} ms  rss ${result.maxRssMb.toFixed(0)} MB  ` +
            `cpu ms/req ${system === 'monolith' ? 'server' : 'gateway'} ${result.cpu.system.toFixed(2)} subgraphs ${result.cpu.subgraphs.toFixed(2)} ` +
            `pg ${result.cpu.postgres.toFixed(2)} ` +
            `load ${result.cpu.loadGenerator.toFixed(2)} rest ${result.cpu.rest.toFixed(2)} (busy ${(result.cpu.machineBusy * 100).toFixed(0)}%)` +
            (failures > 0 ? `  ${failures} FAILED (${result.firstBadBody?.slice(0, 160)})` : ''),
        );
      }
    }
  }

  // Anything that failed under load: what the processes printed last (the subgraphs log errors only).
  if (cells.some((c) => c.failures > 0 || (c.mixed?.writes.failed ?? 0) > 0) || [...mixedRuns.values()].some((r) => r.writes.some((w) => w.failed > 0))) {
    for (const process of running.all()) {
      const tail = process.tail().trim();
      if (tail) log(`${size}: last output of ${process.name}${process.exited ? ' (exited)' : ''}:\n${tail}`);
    }
  }
  for (const [cell, values] of latencies) {
    cell.medianRps = median(cell.rounds.map((r) => r.rps));
    cell.p50 = percentile(values, 50);
    cell.p95 = percentile(values, 95);
    cell.p99 = percentile(values, 99);
    cell.maxRssMb = Math.max(...cell.rounds.map((r) => r.maxRssMb));
    cell.maxSubgraphsRssMb = Math.max(...cell.rounds.map((r) => r.maxSubgraphsRssMb));
    const cpuMedian = (key: keyof RoundResult['cpu']) => median(cell.rounds.map((r) => r.cpu[key]));
    cell.cpu = {
      system: cpuMedian('system'),
      subgraphs: cpuMedian('subgraphs'),
      postgres: cpuMedian('postgres'),
      loadGenerator: cpuMedian('loadGenerator'),
      rest: cpuMedian('rest'),
      machineBusy: cpuMedian('machineBusy'),
    };
  }
  for (const [cell, runs] of mixedRuns) {
    const all = (pick: (w: WriterResult) => number[]) => runs.writes.flatMap(pick);
    const sum = (pick: (w: WriterResult) => number) => runs.writes.reduce((total, w) => total + pick(w), 0);
    const staleness = all((w) => w.staleness);
    const windows = all((w) => w.staleWindows);
    const byType: Record<string, { hits: number; misses: number; stale: number; hitRate: number }> = {};
    for (const delta of runs.cache) {
      for (const [type, l] of Object.entries(delta.lookups)) {
        const entry = (byType[type] ??= { hits: 0, misses: 0, stale: 0, hitRate: 0 });
        entry.hits += l.hits;
        entry.misses += l.misses;
        entry.stale += l.stale;
      }
    }
    for (const entry of Object.values(byType)) entry.hitRate = entry.hits / Math.max(1, entry.hits + entry.misses);
    const hits = Object.values(byType).reduce((total, t) => total + t.hits, 0);
    const misses = Object.values(byType).reduce((total, t) => total + t.misses, 0);
    const firstError = runs.writes.find((w) => w.firstError)?.firstError ?? null;
    cell.mixed = {
      writes: {
        sent: sum((w) => w.sent),
        ok: sum((w) => w.ok),
        failed: sum((w) => w.failed),
        skipped: sum((w) => w.skipped),
        maxInFlight: Math.max(0, ...runs.writes.map((w) => w.maxInFlight)),
        firstError,
        byKind: Object.fromEntries(['updateProductPrice', 'restock', 'addReview'].map((kind) => [kind, sum((w) => w.byKind[kind as keyof WriterResult['byKind']])])),
      },
      staleness: { count: staleness.length, p50: percentile(staleness, 50), p99: percentile(staleness, 99), max: staleness.length ? Math.max(...staleness) : Number.NaN },
      staleWindow: { p99: percentile(windows, 99), max: windows.length ? Math.max(...windows) : Number.NaN },
      staleReads: sum((w) => w.staleReads),
      neverFresh: sum((w) => w.neverFresh),
      maxStaleProbeMs: Math.max(0, ...all((w) => w.staleProbeLatencies)),
      cache: runs.cache.length
        ? {
            hitRate: hits / Math.max(1, hits + misses),
            hits,
            misses,
            stale: Object.values(byType).reduce((total, t) => total + t.stale, 0),
            evictions: runs.cache.reduce((total, c) => total + c.evictions, 0),
            entries: Math.max(0, ...runs.cache.map((c) => c.entries)),
            megabytes: Math.max(0, ...runs.cache.map((c) => c.bytes)) / 1024 ** 2,
            byType,
            invalidations: runs.cache.reduce((total, c) => total + c.invalidations, 0),
            storeErrors: runs.cache.reduce((total, c) => total + c.storeErrors, 0),
          }
        : null,
      eventDelivery: runs.cache.length
        ? {
            count: runs.deliveries.length,
            p50: percentile(runs.deliveries, 50),
            p99: percentile(runs.deliveries, 99),
            max: runs.deliveries.length ? Math.max(...runs.deliveries) : Number.NaN,
            pending: runs.pendingDeliveries,
          }
        : null,
      staleVsDelivery: runs.judged.length
        ? {
            writesWithStaleReads: runs.judged.reduce((total, j) => total + j.withStaleReads, 0),
            afterDelivery: runs.judged.reduce((total, j) => total + j.afterDelivery, 0),
            unmatched: runs.judged.reduce((total, j) => total + j.unmatched, 0),
            maxExcessMs: runs.judged.some((j) => j.maxExcessMs !== null) ? Math.max(...runs.judged.flatMap((j) => (j.maxExcessMs === null ? [] : [j.maxExcessMs]))) : null,
            maxWriteDeliveryMs: Math.max(0, ...runs.judged.flatMap((j) => j.deliveryMs)),
          }
        : null,
      readRps: cell.rounds.map((r) => r.rps),
    };
    if (cell.mixed.writes.failed > 0) cell.failures += cell.mixed.writes.failed;
    cell.firstBadBody ??= firstError;
  }
}

// Our router runs with its shipped defaults, its rate limits off, and whatever the environment
// passes through; say which.
const passedThrough = Object.fromEntries(ROUTER_SETTINGS.filter((name) => process.env[name]).map((name) => [name, process.env[name]]));
const routerSettings: Record<string, string | undefined> = { ...ROUTER_BENCH_ENV, ...passedThrough };
notes.push(`router environment: ${JSON.stringify(routerSettings)}`);
if (mixed) {
  notes.push(
    `mixed scenario: router-cached = our router with ROUTER_EVENTS_SECRET (ENTITY_CACHE=auto: on, in memory), router = ENTITY_CACHE=off; ` +
      `the five subgraphs with their events on (HTTP transport, every subscriber's URL and events secret, ROUTER_URL and ROUTER_EVENTS_SECRET ` +
      `for every publisher, pointing at router-cached). Keys: Zipf, exponent ${options.zipf}, seed ${options.seed}, over ${'deep-read'}'s products pages ` +
      `and user-read's user ids; writes: ${options.writeRate}/s during every run (warm-up included), round robin updateProductPrice, restock(+1), ` +
      `addReview (as user 1, the admin), on products drawn by Zipf with their page; each written value read back through the same system ` +
      `(product(id:) { priceCents stock reviewCount }) every ${PROBE_INTERVAL_MS} ms until fresh, at most ${STALENESS_TIMEOUT_MS} ms; ` +
      `at most ${MAX_WRITES_IN_FLIGHT} writes in flight (a tick that finds more is skipped and counted)`,
  );
}
/** Other engineers' mutation testing (Stryker) on the same 2 cores, seen at the start or the end. */
async function strykerRunning(): Promise<boolean> {
  const { readdir, readFile } = await import('node:fs/promises');
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (/stryker/i.test(cmdline)) return true;
  }
  return false;
}
const strykerAtStart = await strykerRunning();
if (process.env.SUBGRAPH_COALESCE_QUERIES === 'true') {
  notes.push('SUBGRAPH_COALESCE_QUERIES=true: the router shares identical in-flight subgraph queries, which Hive Gateway does not (turned off here)');
}

let exitCode = 0;
try {
  const machine = cpus();
  log(
    `bench ${runId}: ${options.systems.join(', ')} × ${options.operations.join(', ')} × ${options.sizes.join(', ')}; ` +
      `${options.rounds} round(s) × ${options.durationS} s, ${options.connections} connections, warm-up ${options.warmupS} s` +
      (options.quick ? ' (quick)' : ''),
  );
  log(`router settings: shipped defaults with ${JSON.stringify(routerSettings)}`);
  log(`PostgreSQL ${await server.version()} at ${new URL(options.databaseUrl).host}; ${machine.length} CPUs (${machine[0]?.model ?? 'unknown'}); Node ${process.version}`);
  // Fresh secrets and an admin token for this run, valid for the planned load plus an hour.
  const plannedLoadS = options.sizes.length * options.systems.length * options.operations.length * (options.warmupS + options.rounds * options.durationS);
  const identity = await createRunIdentity({ tokenLifetimeSeconds: Math.ceil(1.5 * plannedLoadS) + 3_600 });
  for (const size of options.sizes) {
    if (interrupted) break;
    await measureSize(size, size === 'seed' ? SEED_SHAPE : largeShape(options.scale), identity);
  }
  complete = !interrupted;
} catch (error) {
  exitCode = 1;
  console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  notes.push(`run failed: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await cleanUp();
}

if (!interrupted && cells.some((c) => c.rounds.length > 0)) {
  for (const cell of cells) {
    const router = cells.find((c) => c.size === cell.size && c.operation === cell.operation && c.system === 'router');
    if (router && router.medianRps > 0) {
      cell.rpsVsRouter = cell.medianRps / router.medianRps;
      cell.p99VsRouter = cell.p99 / router.p99;
    }
  }
  const order = (c: Cell) => [options.sizes.indexOf(c.size), options.operations.indexOf(c.operation), options.systems.indexOf(c.system)];
  cells.sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!;
  });
  const strykerAtEnd = await strykerRunning();
  if (strykerAtStart || strykerAtEnd) {
    notes.push(
      `the 2 cores were shared with another engineer's mutation testing (Stryker, running at the ${strykerAtStart && strykerAtEnd ? 'start and the end' : strykerAtStart ? 'start' : 'end'} of this run): ` +
        'it can hold up to a whole core, so rounds vary more and absolute numbers are lower than on an idle machine',
    );
  }
  const failed = cells.filter((c) => c.failures > 0);
  if (failed.length > 0) {
    exitCode = 1;
    notes.push(`responses failed the checks under load: ${failed.map((c) => `${c.size}/${c.operation}/${c.system} (${c.failures})`).join(', ')}`);
  }
  const cpu = cpus();
  const result: BenchResult = {
    runId,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    complete,
    machine: {
      summary: `${machineSummary()}, ${options.rounds} × ${options.durationS} s per cell, ${options.connections} connections`,
      cpus: cpu.length,
      cpuModel: cpu[0]?.model,
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
    },
    options: { ...options, scenario, databaseUrl: undefined, routerEnvironment: routerSettings },
    shapes,
    cells: cells.map((cell) => cell),
    peakMemory,
    targets: mixed ? evaluateMixedTargets(cells) : evaluateTargets(cells, peakMemory),
    notes,
  };
  // The mixed scenario's files are prefixed, so they never replace the full scenario's latest.*.
  const prefix = mixed ? 'mixed-' : '';
  const text = mixed ? mixedTable(result) : table(result);
  const stamp = await writeResultFiles(options.out, prefix, startedAt, {
    json: `${JSON.stringify(result, null, 2)}\n`,
    svg: `${chart(result)}\n`,
    ...(mixed ? { md: `# Mixed read/write benchmark, run ${runId}\n\n${result.machine.summary}\n\n${text}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n` } : {}),
  });
  console.log(`\n${text}\n`);
  for (const note of notes) console.log(`note: ${note}`);
  log(`results: ${join(options.out, `${stamp}.json`)} and .svg${mixed ? ' and .md' : ''} (also ${prefix}latest.*)`);
}
process.exit(interrupted ? 130 : exitCode);
