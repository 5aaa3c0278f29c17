// npm start: every subgraph in supergraph.yaml plus the router, each in its own process, logs
// prefixed by name. Embedded databases are migrated and seeded by each service on first run.
// Ctrl-C stops them all; if one dies, the rest are stopped too.
// Outside production it also makes the secrets the processes must share (a signing secret and an
// events secret per subgraph, the router's events secret, accounts' token key) and keeps them in
// <DATA_DIR>/development-secrets.json, so the Quick start needs no setup and a restart keeps everyone signed in.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ROUTER_NODE_FLAGS, SERVER_NODE_FLAGS } from '@commerce/service-kit/core';
import { EVENT_CATALOG, INTERNAL_PATHS } from '@commerce/service-kit';
import { readSubgraphs, REPO_ROOT } from './composition.ts';
import { callInternal, resolveTargets, ServiceError } from './consistency/internal.ts';

const COLORS = [36, 32, 33, 35, 34, 91];
const useColor = process.stdout.isTTY && !process.env.NO_COLOR;

interface Service {
  name: string;
  cwd: string;
  env: Record<string, string>;
  healthUrl: string;
}

const subgraphs = await readSubgraphs();
const secrets = process.env.NODE_ENV === 'production' ? {} : await developmentSecrets(subgraphs.map((s) => s.name));
// Every process learns where every subgraph is (the router to route, publishers to push events).
const locations = Object.fromEntries(subgraphs.map(({ name, url }) => [`SUBGRAPH_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_URL`, url]));
const services: Service[] = subgraphs.map(({ name, url }) => {
  const port = new URL(url).port;
  return {
    name,
    cwd: resolve(REPO_ROOT, 'subgraphs', name),
    env: { [`${name.toUpperCase()}_PORT`]: port },
    healthUrl: new URL('/health', url).toString(),
  };
});
const routerPort = process.env.ROUTER_PORT ?? '4000';
// Publishers push the events that change supergraph entities to the router's entity cache, signed
// with the router's events secret (the router reads it too): only when there is one, since
// ROUTER_URL without ROUTER_EVENTS_SECRET is a configuration error.
const routerEventsSecret = process.env.ROUTER_EVENTS_SECRET || secrets.ROUTER_EVENTS_SECRET;
const toRouter: Record<string, string> = routerEventsSecret ? { ROUTER_URL: `http://localhost:${routerPort}` } : {};
const width = Math.max(...[...services.map((s) => s.name), 'router'].map((n) => n.length));
const children = new Map<string, ChildProcess>();
let stopping = false;

function prefix(name: string, index: number): string {
  const label = `${name.padEnd(width)} |`;
  return useColor ? `\x1b[${COLORS[index % COLORS.length]}m${label}\x1b[0m` : label;
}

function launch(name: string, cwd: string, env: Record<string, string>, index: number, defaults: Record<string, string> = {}): ChildProcess {
  // Own process group: a terminal's Ctrl-C reaches only this runner, which stops children in order.
  // Node flags per role: the router's young generation is sized for its answers (kit's core.ts).
  const flags = name === 'router' ? ROUTER_NODE_FLAGS : SERVER_NODE_FLAGS;
  const child = spawn(process.execPath, [...flags, 'src/main.ts'], {
    cwd,
    // Secrets set in the environment win over the development ones, for every process alike.
    env: { ...secrets, ...locations, ...defaults, ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const label = prefix(name, index);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => console.log(`${label} ${line}`));
  }
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      console.error(`${label} exited (${signal ?? `code ${code}`}); stopping everything.`);
      void stopAll(1);
    }
  });
  children.set(name, child);
  return child;
}

async function waitForHealth(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

async function stopAll(exitCode: number): Promise<never> {
  stopping = true;
  const exits = [...children.values()].map(
    (child) => new Promise<void>((done) => (child.exitCode !== null ? done() : child.once('exit', () => done()))),
  );
  for (const child of children.values()) child.kill('SIGTERM');
  const forced = setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
  }, 5_000);
  await Promise.all(exits);
  clearTimeout(forced);
  process.exit(exitCode);
}

process.on('SIGINT', () => void stopAll(0));
// Last resort if the runner itself is ended abruptly: never leave services behind.
process.on('exit', () => {
  for (const child of children.values()) child.kill('SIGKILL');
});
process.on('SIGTERM', () => void stopAll(0));

services.forEach((service, index) => launch(service.name, service.cwd, service.env, index, service.name in EVENT_CATALOG ? toRouter : {}));
const healthy = await Promise.all(services.map((service) => waitForHealth(service.healthUrl, 120_000)));
const missing = services.filter((_, i) => !healthy[i]).map((s) => s.name);
if (missing.length > 0 && !stopping) console.error(`Not healthy after 120 s: ${missing.join(', ')} (the router starts anyway).`);

launch('router', resolve(REPO_ROOT, 'router'), { ROUTER_PORT: routerPort }, services.length);
const routerUp = await waitForHealth(`http://localhost:${routerPort}/health`, 30_000);
// After the router: the snapshots are pushed to its entity cache too, and it is there to take them.
if (process.env.NODE_ENV !== 'production' && missing.length === 0 && !stopping) await refreshReplicas();
if (routerUp) {
  console.log(`
  Supergraph ready. Open http://localhost:${routerPort}/graphql in a browser for the IDE, or:

  curl -s http://localhost:${routerPort}/graphql -H 'content-type: application/json' \\
    -d '{"query":"{ product(id: \\"1\\") { name priceCents stock shippingEstimateCents averageRating } }"}'

  Ctrl-C stops everything.
`);
}

/**
 * Development secrets: one signing secret per subgraph (the router and that subgraph read the same
 * variable), an events secret per subgraph and one for the router (ROUTER_EVENTS_SECRET: the
 * router verifies the events publishers push to it) and accounts' Ed25519 token key. Made once, kept beside the embedded databases (0600),
 * never used in production, where every process must be given its own through the environment.
 */
async function developmentSecrets(names: readonly string[]): Promise<Record<string, string>> {
  const file = resolve(REPO_ROOT, process.env.DATA_DIR ?? '.data', 'development-secrets.json');
  const stored = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Record<string, string>;
  const variables = names.map((name) => name.toUpperCase().replace(/[^A-Z0-9]/g, '_'));
  const wanted = [...variables.flatMap((name) => [`${name}_SIGNING_SECRET`, `${name}_EVENTS_SECRET`]), 'ROUTER_EVENTS_SECRET', 'ACCOUNTS_JWT_PRIVATE_KEY'];
  let changed = false;
  for (const variable of wanted) {
    if (stored[variable]) continue;
    stored[variable] =
      variable === 'ACCOUNTS_JWT_PRIVATE_KEY'
        ? generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
        : randomBytes(32).toString('base64url');
    changed = true;
  }
  if (changed) {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  }
  return stored;
}

/**
 * Development data kept from before a service gained a replica of the catalogue has an empty one
 * (seeds only run on fresh databases): ask products to publish a snapshot of every product, as an
 * operator backfills a new subscriber. Replicas ignore facts they already have, so this is harmless
 * on every start. Production deployments backfill deliberately (`npm run events -- backfill products`).
 */
async function refreshReplicas(): Promise<void> {
  const targets = await resolveTargets(['products'], { ...process.env, ...secrets, ...locations });
  const products = targets.get('products');
  if (!products || products instanceof ServiceError) return;
  try {
    const answer = (await callInternal(products, { method: 'POST', path: INTERNAL_PATHS.backfill, body: {} })) as { published?: number };
    console.log(`Catalogue replicas refreshed from products (${answer.published ?? 0} products).`);
  } catch (error) {
    console.error(`Could not refresh the catalogue replicas: ${(error as Error).message}`);
  }
}
