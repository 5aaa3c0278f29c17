import { readFile } from 'node:fs/promises';
import { ROUTER_NODE_FLAGS, SERVER_NODE_FLAGS } from '@commerce/service-kit/core';
import { describe, expect, it } from 'vitest';

// Node's heap flags only take effect on the command line, so each package's own `start` script
// spells them out, while `npm start` (scripts/src/start.ts) and the benchmark use the kit's
// constants. This keeps the two from drifting apart.
const startScript = async (folder: string) =>
  (JSON.parse(await readFile(new URL(`../../${folder}/package.json`, import.meta.url), 'utf8')) as { scripts: { start: string } }).scripts.start;

describe('each package’s start script runs with its role’s Node flags', () => {
  it('the router: ROUTER_NODE_FLAGS', async () => {
    expect(await startScript('router')).toBe(`node ${ROUTER_NODE_FLAGS.join(' ')} src/main.ts`);
  });

  it.each(['accounts', 'inventory', 'orders', 'products', 'reviews'])('subgraph %s: SERVER_NODE_FLAGS', async (name) => {
    expect(await startScript(`subgraphs/${name}`)).toBe(`node ${SERVER_NODE_FLAGS.join(' ')} src/main.ts`);
  });
});
