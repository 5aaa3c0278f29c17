import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { ROUTER_NODE_FLAGS, SERVER_NODE_FLAGS } from '@commerce/service-kit/core';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataSet } from './data.ts';
import type { RunIdentity } from './identity.ts';
import type { ChildMessage, Counters } from './ipc.ts';
import { SERVICE_NAMES, type ServiceName } from './services.ts';
import { EVENT_CATALOG } from '@commerce/service-kit';
import { freePort } from '@commerce/db/testing';

/** Router variables a user may set for a run (recorded in the results); unset = the shipped default. */
export const ROUTER_SETTINGS = ['ROUTER_WORKERS', 'SUBGRAPH_COALESCE_QUERIES', 'SUBGRAPH_MAX_SOCKETS', 'SUBGRAPH_TIMEOUT_MS'] as const;

/**
 * What the benchmark always sets on our router (recorded in the results with the variables above):
 * its per-minute rate limits off, since the load comes from one address and one user at thousands
 * of requests a minute. The other systems have none.
 */
export const ROUTER_BENCH_ENV = { RATE_LIMIT_USER_PER_MINUTE: '0', RATE_LIMIT_IP_PER_MINUTE: '0' } as const;

/** The four systems under test, in the order they are run within a round. */
export const SYSTEM_NAMES = ['router', 'apollo-gateway', 'hive-gateway', 'monolith'] as const;
/**
 * The mixed scenario's: our router twice (`router-cached`: the entity cache on, kept fresh by the
 * services' events; `router`: ENTITY_CACHE=off), stock @apollo/gateway and the monolith.
 */
export const MIXED_SYSTEM_NAMES = ['router-cached', 'router', 'apollo-gateway', 'monolith'] as const;
export type SystemName = (typeof SYSTEM_NAMES)[number] | (typeof MIXED_SYSTEM_NAMES)[number];

export const SYSTEM_LABELS: Record<SystemName, string> = {
  'router-cached': 'our router, entity cache on',
  router: 'this supergraph (our router)',
  'apollo-gateway': 'stock @apollo/gateway',
  'hive-gateway': 'Hive Gateway',
  monolith: 'monolith (one server, one database)',
};

const SUPERGRAPH = fileURLToPath(new URL('../../../router/supergraph.graphql', import.meta.url));
/** Our router exactly as shipped: its own main.ts, configured through its environment. */
export const ROUTER_MAIN = join(dirname(fileURLToPath(import.meta.resolve('@commerce/router'))), 'main.ts');
/** One of the benchmark's own process scripts (`processes/<name>.ts`). */
export const processScript = (name: string) => fileURLToPath(new URL(`./processes/${name}.ts`, import.meta.url));

/** A server process the benchmark started: where to reach it, its pid (for RSS), its counters. */
export class ServerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  url = '';
  private nextId = 1;
  private readonly pending = new Map<number, (counters: Counters) => void>();
  private readonly output: string[] = [];
  exited = false;

  constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        this.output.push(chunk);
        if (this.output.length > 50) this.output.shift();
      });
    }
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'stats') {
        this.pending.get(message.id)?.({ requests: message.requests, statements: message.statements });
        this.pending.delete(message.id);
      }
    });
    child.on('exit', () => {
      this.exited = true;
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The last lines the process printed, for error messages. */
  tail(): string {
    return this.output.join('').split('\n').slice(-15).join('\n');
  }

  /** Waits for the process's `ready` message (IPC children) or for its /health to answer. */
  async ready(timeoutMs: number, healthUrl?: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    if (healthUrl) {
      while (Date.now() < deadline && !this.exited) {
        try {
          if ((await fetch(healthUrl, { signal: AbortSignal.timeout(1_000) })).ok) return;
        } catch {
          // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      throw new Error(`${this.name} did not become healthy within ${timeoutMs} ms${this.exited ? ' (it exited)' : ''}:\n${this.tail()}`);
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not start within ${timeoutMs} ms:\n${this.tail()}`)), timeoutMs);
      this.child.on('message', (message: ChildMessage) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          this.url = message.url;
          resolve();
        } else if (message.type === 'failed') {
          clearTimeout(timer);
          reject(new Error(`${this.name} failed to start: ${message.error}`));
        }
      });
      this.child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${signal ?? `code ${code}`}) before it was ready:\n${this.tail()}`));
      });
    });
  }

  /** Its counters since it started (zero for processes without any). */
  async counters(): Promise<Counters> {
    if (!this.child.connected) return { requests: 0, statements: 0 };
    const id = this.nextId++;
    return new Promise<Counters>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not report its counters within 30 s`)), 30_000);
      this.pending.set(id, (counters) => {
        clearTimeout(timer);
        resolve(counters);
      });
      this.child.send({ type: 'stats', id });
    });
  }

  /** SIGTERM, then SIGKILL after a grace period. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.exited || this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  killNow(): void {
    if (!this.exited && this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

// Own process group (detached): a terminal's Ctrl-C reaches only the benchmark, which stops its
// processes itself. NODE_ENV=production for everything: the router then runs as deployed.
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', APOLLO_TELEMETRY_DISABLED: '1', ...extra };
}

function forkScript(name: string, script: string, args: string[], env: Record<string, string>, flags: readonly string[] = SERVER_NODE_FLAGS): ServerProcess {
  // Node flags per role, as shipped: the three gateways get the router's, the subgraphs and the
  // monolith the servers', so only the software differs between systems of one role.
  const child = fork(processScript(script), args, { execArgv: [...flags], env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
  return new ServerProcess(name, child);
}

/** What a subgraph process is configured with, as deployed: its port, database, pool and secrets (accounts: its token key). */
export function subgraphEnv(service: ServiceName, databaseUrl: string, identity: RunIdentity, { port, pool }: { port: number; pool: number }): Record<string, string> {
  const prefix = service.toUpperCase();
  return {
    HOST: '127.0.0.1',
    [`${prefix}_PORT`]: String(port),
    [`${prefix}_DATABASE_URL`]: databaseUrl,
    [`${prefix}_DATABASE_POOL_MAX`]: String(pool),
    ...identity.subgraphEnv(service),
  };
}

/** Where the gateways' copy of the supergraph (routing URLs rewritten) is written for a data size. */
export function supergraphCopy(size: string): string {
  return join(tmpdir(), `bench-supergraph-${process.pid}-${size}.graphql`);
}

export interface Fleet {
  subgraphs: Map<ServiceName, ServerProcess>;
  systems: Map<SystemName, ServerProcess>;
  /** Headers every client request carries, on every system (the admin's bearer token). */
  clientHeaders: Readonly<Record<string, string>>;
  all(): ServerProcess[];
  stop(): Promise<void>;
  killNow(): void;
}

/**
 * Starts the five subgraphs on the data set's databases, each with its signing secret (accounts
 * with its token key), then every system: our router (its own main.ts), stock @apollo/gateway and
 * Hive Gateway in front of the same subgraphs, and the monolith on its own database. Each in its
 * own process, so each one's memory is its own.
 */
export async function startFleet(
  data: DataSet,
  identity: RunIdentity,
  options: {
    subgraphPool: number;
    monolithPool: number;
    systems: readonly SystemName[];
    /**
     * Mixed scenario: the subgraphs' events on, as `npm start` wires them (every subscriber's URL
     * and events secret; ROUTER_URL and ROUTER_EVENTS_SECRET for every publisher, pointing at
     * router-cached). Off: no events at all (the full scenario).
     */
    events?: boolean;
  },
  register: (fleet: Fleet) => void,
): Promise<Fleet> {
  const subgraphs = new Map<ServiceName, ServerProcess>();
  const systems = new Map<SystemName, ServerProcess>();
  const fleet: Fleet = {
    subgraphs,
    systems,
    clientHeaders: identity.clientHeaders,
    all: () => [...systems.values(), ...subgraphs.values()],
    async stop() {
      await Promise.all([...systems.values()].map((p) => p.stop()));
      await Promise.all([...subgraphs.values()].map((p) => p.stop()));
    },
    killNow() {
      for (const p of fleet.all()) p.killNow();
    },
  };
  register(fleet);

  // With events, every publisher must know where its subscribers and the router are before it
  // starts: their ports are chosen now, not by the kernel at listen time.
  const ports = new Map<ServiceName | 'router-cached', number>();
  const eventsEnv: Record<string, string> = {};
  if (options.events) {
    for (const name of [...SERVICE_NAMES, 'router-cached'] as const) ports.set(name, await freePort());
    Object.assign(eventsEnv, identity.eventsEnv());
    for (const service of SERVICE_NAMES) eventsEnv[`SUBGRAPH_${service.toUpperCase()}_URL`] = `http://127.0.0.1:${ports.get(service)}/graphql`;
  }
  for (const service of SERVICE_NAMES) {
    const toRouter: Record<string, string> =
      options.events && service in EVENT_CATALOG && options.systems.includes('router-cached')
        ? { ROUTER_URL: `http://127.0.0.1:${ports.get('router-cached')}`, ROUTER_EVENTS_SECRET: eventsEnv.ROUTER_EVENTS_SECRET! }
        : { ROUTER_URL: '', ROUTER_EVENTS_SECRET: '' };
    const env = {
      ...subgraphEnv(service, data.urls[service], identity, { port: ports.get(service) ?? 0, pool: options.subgraphPool }),
      ...(options.events ? { ...eventsEnv, ...toRouter, NATS_URL: '' } : {}),
    };
    subgraphs.set(service, forkScript(service, 'subgraph', options.events ? [service, 'events'] : [service], env));
  }
  await Promise.all([...subgraphs.values()].map((p) => p.ready(60_000)));

  // The gateways other than ours read a copy of the supergraph whose routing URLs are the running subgraphs'.
  let supergraph = await readFile(SUPERGRAPH, 'utf8');
  for (const [service, process] of subgraphs) {
    supergraph = supergraph.replace(new RegExp(`(@join__graph\\(name: "${service}", url: ")[^"]*(")`), `$1${process.url}$2`);
  }
  const rewritten = supergraphCopy(data.size);
  await writeFile(rewritten, supergraph);

  for (const system of options.systems) {
    if (system === 'router' || system === 'router-cached') {
      const port = ports.get(system as 'router-cached') ?? (await freePort());
      // Its shipped defaults, plus what this deployment needs: where the subgraphs are, their
      // secrets, and no rate limits. It verifies tokens against accounts' JWKS, found from accounts' URL.
      // router-cached: ROUTER_EVENTS_SECRET, so ENTITY_CACHE=auto turns the cache on (in memory,
      // invalidated by the events the publishers push); the mixed scenario's router: ENTITY_CACHE=off.
      const cache: Record<string, string> =
        system === 'router-cached'
          ? { ROUTER_EVENTS_SECRET: eventsEnv.ROUTER_EVENTS_SECRET ?? identity.eventsEnv().ROUTER_EVENTS_SECRET!, NATS_URL: '', REDIS_URL: '' }
          : options.events
            ? { ENTITY_CACHE: 'off' }
            : {};
      const env: Record<string, string> = { HOST: '127.0.0.1', ROUTER_PORT: String(port), ...identity.gatewayEnv(), ...ROUTER_BENCH_ENV, ...cache };
      for (const [service, p] of subgraphs) env[`SUBGRAPH_${service.toUpperCase()}_URL`] = p.url;
      const child = spawn(process.execPath, [...ROUTER_NODE_FLAGS, ROUTER_MAIN], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const router = new ServerProcess(system, child);
      systems.set(system, router);
      await router.ready(30_000, `http://127.0.0.1:${port}/health`);
      router.url = `http://127.0.0.1:${port}/graphql`;
    } else if (system === 'apollo-gateway' || system === 'hive-gateway') {
      // Stock means stock: the router's planner patches (docs/planner-patches.md) are off here.
      const env = system === 'apollo-gateway' ? { ...identity.gatewayEnv(), COMMERCE_PLANNER_PATCHES: 'off' } : identity.gatewayEnv();
      const p = forkScript(system, system, [rewritten], env, ROUTER_NODE_FLAGS);
      systems.set(system, p);
      await p.ready(60_000);
    } else {
      // No identity: the monolith has no authorization (and ignores the bearer token).
      const p = forkScript('monolith', 'monolith', [data.urls.monolith, String(options.monolithPool)], {});
      systems.set('monolith', p);
      await p.ready(60_000);
    }
  }
  return fleet;
}

/** VmRSS and VmHWM of a process, in MB (Linux /proc); null when unavailable. */
export async function memoryOf(pid: number): Promise<{ rssMb: number; hwmMb: number } | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** CPU time a process has used so far (user + system), in ms (Linux /proc); 0 when unavailable. */
export async function cpuMsOf(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Busy and total CPU time of the whole machine so far, in ms (every core; Linux /proc/stat). */
export async function machineCpuMs(): Promise<{ busy: number; total: number }> {
  try {
    const [line] = (await readFile('/proc/stat', 'utf8')).split('\n');
    const ticks = (line ?? '').trim().split(/\s+/).slice(1).map(Number);
    const total = ticks.reduce((sum, t) => sum + t, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return { busy: ((total - idle) * 1000) / CLOCK_TICKS, total: (total * 1000) / CLOCK_TICKS };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

/**
 * A process and every process below it (Linux /proc): a router started with ROUTER_WORKERS > 1
 * serves from node:cluster workers, and its memory and CPU are theirs together.
 */
export async function processTree(pid: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  }
  return tree;
}

/** Whether taskset (util-linux) can pin processes here. */
export function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Pins a process and all its threads to one CPU (Linux taskset), or with `mainThreadOnly` just its
 * main thread (V8's GC and compiler helpers stay free to run elsewhere); false when it could not.
 */
export function pin(pid: number, cpu: number, { mainThreadOnly = false } = {}): boolean {
  try {
    execFileSync('taskset', [...(mainThreadOnly ? [] : ['-a']), '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
