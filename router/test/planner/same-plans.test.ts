import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALL_CASES, requiresArgumentConflict, requiresNonResolvableKey, requiresWithArguments, unreachableInterfaceField } from './support/cases.ts';
import { composeFixture } from './support/harness.ts';
import { collectOperations, SUPERGRAPH_FILE, type NamedOperation } from './support/operations.ts';
import type { PlanResult } from './support/plan-main.ts';

/**
 * The patches must not change a correct answer. Every operation of the project (client operations,
 * benchmark, the router's test suites) is planned against the current router/supergraph.graphql
 * with the patches on and off, in two processes: the query plans must be identical, which is
 * stronger than comparing answers (same fetches, same subgraph queries, same inputs). And no plan
 * is empty unless the operation selects only introspection, so the empty-plan error (patch 2)
 * never applies to them.
 */

const PLAN_MAIN = fileURLToPath(new URL('./support/plan-main.ts', import.meta.url));

function planAll(supergraphFile: string, operations: NamedOperation[], patches: 'on' | 'off'): Promise<PlanResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PLAN_MAIN, supergraphFile], {
      env: { ...process.env, COMMERCE_PLANNER_PATCHES: patches },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve(JSON.parse(stdout) as PlanResult[]);
      else reject(new Error(`plan-main.ts (patches ${patches}) exited with ${code}:\n${stderr}`));
    });
    child.stdin.end(JSON.stringify(operations));
  });
}

describe('query plans of every project operation, patches on and off', () => {
  let operations: NamedOperation[];
  let patched: PlanResult[];
  let stock: PlanResult[];

  beforeAll(async () => {
    operations = collectOperations();
    [patched, stock] = await Promise.all([planAll(SUPERGRAPH_FILE, operations, 'on'), planAll(SUPERGRAPH_FILE, operations, 'off')]);
  });

  it('covers the client, benchmark and test-suite operations', () => {
    const planned = patched.filter((r) => 'plan' in r).map((r) => r.source);
    expect(planned.filter((s) => s.startsWith('router/operations/')).length).toBeGreaterThanOrEqual(5);
    expect(planned.filter((s) => s.startsWith('scripts/bench/operations/')).length).toBeGreaterThanOrEqual(4);
    // The integration suite alone has more than twenty; a collector that finds few is broken.
    expect(planned.filter((s) => s.startsWith('router/test/')).length).toBeGreaterThan(20);
  });

  it('plans each one identically', () => {
    expect(patched.map((r) => r.source)).toEqual(stock.map((r) => r.source));
    for (const [i, result] of patched.entries()) {
      expect(result, result.source).toEqual(stock[i]);
    }
  });

  it('fetches something for each one, unless it selects nothing but introspection (no empty plan error)', () => {
    for (const result of patched) {
      if ('plan' in result && JSON.parse(result.json).node === undefined) {
        expect(result.rootFields.filter((name) => !name.startsWith('__')), result.source).toEqual([]);
      }
    }
  });
});

describe('the comparison itself, on the fixture supergraphs', () => {
  // Each fixture's wrong answer comes with a different plan, and its other queries with the same
  // one: the comparison above would notice a patch that changed a plan.
  const queries: Record<string, { changed: string[]; same: string[] }> = {
    [requiresNonResolvableKey.name]: {
      changed: ['{ deliverable { name shippingCents } }'],
      same: ['{ product(id: "1") { name shippingCents } }', '{ deliverable { id sku name } }'],
    },
    [unreachableInterfaceField.name]: {
      // Patch 2 acts when the empty plan is executed; the plan itself does not change.
      changed: [],
      same: ['{ a { field } }', '{ b { id field } }', '{ __typename }'],
    },
    [requiresWithArguments.name]: {
      // The required field travels under its alias even when nothing else selects it.
      changed: [
        '{ post(id: "p1") { comments(limit: 1) { id } recentCommenters } }',
        '{ post(id: "p1") { recentCommenters } }',
        '{ post(id: "p1") { tags(upper: true) hashtags } }',
      ],
      same: ['{ posts { id title comments(limit: 2) { id body } } }'],
    },
    [requiresArgumentConflict.name]: {
      changed: ['{ products { upc shippingUSD shippingEUR } }', '{ products { shippingUSD } }'],
      same: ['{ products { upc name price(currency: "EUR") weightGrams } }', '{ shippable { carrier } }'],
    },
  };

  for (const fixture of ALL_CASES) {
    it(fixture.name, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'planner-plans-'));
      try {
        const file = join(dir, 'supergraph.graphql');
        await writeFile(file, composeFixture(fixture));
        const { changed, same } = queries[fixture.name]!;
        const operations = [...changed, ...same].map((document, i) => ({ source: `${i < changed.length ? 'changed' : 'same'}#${i}`, document }));
        const [on, off] = await Promise.all([planAll(file, operations, 'on'), planAll(file, operations, 'off')]);
        for (const [i, result] of on.entries()) {
          expect('plan' in result, result.source).toBe(true);
          if (result.source.startsWith('changed')) expect(result, operations[i]!.document).not.toEqual(off[i]);
          else expect(result, operations[i]!.document).toEqual(off[i]);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
