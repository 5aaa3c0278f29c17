import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { composeServices } from '@apollo/composition';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import type { FixtureCase } from './cases.ts';

/**
 * Test plumbing for the planner patches: fixture subgraphs on ephemeral ports, and gateways over
 * them. These tests build a bare ApolloGateway + ApolloServer (what router/src/router.ts wraps)
 * so they depend only on the Apollo packages, not on the router's own options;
 * `patches.test.ts` checks that the router loads the same (patched) modules.
 *
 * The patched code reads COMMERCE_PLANNER_PATCHES once, when it is loaded, so each gateway runs
 * in a child process with the switch set as asked (`startGatewayProcess`).
 */

export interface SubgraphRequest {
  query: string;
  variables: Record<string, unknown>;
}

export interface RunningSubgraphs {
  urls: Map<string, string>;
  /** Every request each subgraph received, in order. */
  requests: Map<string, SubgraphRequest[]>;
  stop(): Promise<void>;
}

export async function startSubgraphs(fixture: FixtureCase): Promise<RunningSubgraphs> {
  const urls = new Map<string, string>();
  const requests = new Map<string, SubgraphRequest[]>();
  const servers: ApolloServer[] = [];
  try {
    for (const subgraph of fixture.subgraphs) {
      const log: SubgraphRequest[] = [];
      requests.set(subgraph.name, log);
      const recorder: ApolloServerPlugin = {
        async requestDidStart({ request }) {
          log.push({ query: request.query ?? '', variables: request.variables ?? {} });
        },
      };
      const server = new ApolloServer({
        schema: buildSubgraphSchema([{ typeDefs: parse(subgraph.typeDefs), resolvers: subgraph.resolvers }]),
        plugins: [recorder, ApolloServerPluginInlineTraceDisabled()],
        includeStacktraceInErrorResponses: false,
      });
      servers.push(server);
      const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } });
      urls.set(subgraph.name, url);
    }
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    throw error;
  }
  return {
    urls,
    requests,
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}

/** The fixture's supergraph, with each subgraph routed to `urls` (or a placeholder). */
export function composeFixture(fixture: FixtureCase, urls: ReadonlyMap<string, string> = new Map()): string {
  const result = composeServices(
    fixture.subgraphs.map((s) => ({ name: s.name, url: urls.get(s.name) ?? `http://${s.name}.invalid/graphql`, typeDefs: parse(s.typeDefs) })),
  );
  if (result.errors) throw new Error(`${fixture.name} does not compose:\n${result.errors.map(String).join('\n')}`);
  return result.supergraphSdl;
}

export interface RunningGateway {
  url: string;
  stop(): Promise<void>;
}

/** A gateway in this process, with the planner this process loaded (see gateway-main.ts). */
export async function startGateway(supergraphSdl: string): Promise<RunningGateway> {
  process.env.APOLLO_TELEMETRY_DISABLED = '1';
  const server = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl }), includeStacktraceInErrorResponses: false });
  const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } });
  return { url, stop: () => server.stop() };
}

const GATEWAY_MAIN = fileURLToPath(new URL('./gateway-main.ts', import.meta.url));

/** A gateway in a child process, with the patches switched on or off there. */
export async function startGatewayProcess(supergraphSdl: string, patches: 'on' | 'off'): Promise<RunningGateway> {
  const dir = await mkdtemp(join(tmpdir(), 'planner-fixture-'));
  const file = join(dir, 'supergraph.graphql');
  await writeFile(file, supergraphSdl);
  const child = spawn(process.execPath, [GATEWAY_MAIN, file], {
    env: { ...process.env, COMMERCE_PLANNER_PATCHES: patches, APOLLO_TELEMETRY_DISABLED: '1' },
    // stdin stays open: the child exits when it closes, so it never outlives this process.
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
      child.once('exit', (code) => reject(new Error(`gateway process exited with ${code} before it was ready`)));
    });
    return {
      url,
      stop: async () => {
        child.stdin!.end();
        await exited;
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    child.kill();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface GraphQLAnswer {
  status: number;
  body: { data?: unknown; errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[]; extensions?: Record<string, unknown> };
}

export async function ask(url: string, query: string, variables?: Record<string, unknown>): Promise<GraphQLAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as GraphQLAnswer['body'] };
}

/**
 * A fixture's subgraphs, and two gateways over them in child processes: one with the planner
 * patches, one without (stock @apollo/gateway), whatever this process was started with.
 */
export async function startFixture(fixture: FixtureCase) {
  const subgraphs = await startSubgraphs(fixture);
  const supergraphSdl = composeFixture(fixture, subgraphs.urls);
  const gateways: RunningGateway[] = [];
  try {
    const [patched, stock] = await Promise.all([startGatewayProcess(supergraphSdl, 'on'), startGatewayProcess(supergraphSdl, 'off')]);
    gateways.push(patched, stock);
    return {
      subgraphs,
      supergraphSdl,
      /** Asks the gateway with the patches. */
      patched: (query: string, variables?: Record<string, unknown>) => ask(patched.url, query, variables),
      /** Asks stock @apollo/gateway (patches off). */
      stock: (query: string, variables?: Record<string, unknown>) => ask(stock.url, query, variables),
      /** The requests one subgraph received since the last call (and forgets them). */
      takeRequests(name: string): SubgraphRequest[] {
        const log = subgraphs.requests.get(name);
        if (!log) throw new Error(`no subgraph ${name}`);
        return log.splice(0);
      },
      async close() {
        await Promise.all(gateways.map((g) => g.stop()));
        await subgraphs.stop();
      },
    };
  } catch (error) {
    await Promise.all(gateways.map((g) => g.stop()));
    await subgraphs.stop();
    throw error;
  }
}

export type Fixture = Awaited<ReturnType<typeof startFixture>>;
