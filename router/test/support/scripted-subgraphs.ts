import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { overrideVariable, signingSecretVariable } from '../../src/env.ts';
import { startRouter, type RouterOptions, type RunningRouter } from '../../src/router.ts';

const SUPERGRAPH = fileURLToPath(new URL('../../supergraph.graphql', import.meta.url));
const NAMES = ['accounts', 'products', 'inventory', 'reviews', 'orders'];

export interface ScriptedGraph {
  router: RunningRouter;
  close(): Promise<void>;
}

/**
 * The router built from the committed supergraph in front of scripted subgraphs: all five are
 * `answer` on one local server, at `/<subgraph>/graphql`. Fresh signing secrets (the scripts check
 * none), no rate limits and no retries unless `options` say otherwise.
 */
export async function routerInFrontOf(answer: RequestListener, options: Partial<RouterOptions> = {}): Promise<ScriptedGraph> {
  const subgraphs = createServer(answer);
  await new Promise<void>((resolve) => subgraphs.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(subgraphs.address() as AddressInfo).port}`;
  const router = await startRouter({
    supergraphSdl: await readFile(SUPERGRAPH, 'utf8'),
    signingSecrets: new Map(NAMES.map((name) => [signingSecretVariable(name), randomBytes(32).toString('base64url')])),
    overrides: new Map(NAMES.map((name) => [overrideVariable(name), `${base}/${name}/graphql`])),
    rateLimits: { userPerMinute: 0, ipPerMinute: 0 },
    resilience: { retries: 0 },
    ...options,
  });
  return {
    router,
    async close() {
      await router.stop();
      await new Promise((resolve) => subgraphs.close(resolve));
    },
  };
}
