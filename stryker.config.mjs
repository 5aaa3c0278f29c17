// Mutation testing: `npm run test:mutation` (docs/mutation-testing.md). StrykerJS changes the code
// one small fault at a time (a condition inverted, a statement removed, a constant changed) and
// runs the tests that cover it; a mutant no test notices is a fault the suite would let through.
//
// MUTATION_GROUP=kit|db|provision|router|limits|loaders (comma-separated; default all) picks the modules and the
// test projects (vitest.mutation.config.ts); `-- --mutate <file>` narrows further.
import { readFileSync } from 'node:fs';

/** The router's error handling: formatError and responseHygiene in router.ts, found by their text so edits elsewhere do not move the range. */
function routerErrorHandling() {
  const lines = readFileSync(new URL('./router/src/router.ts', import.meta.url), 'utf8').split('\n');
  const start = lines.findIndex((line) => line.includes('formatError: (formatted, original) =>')) + 1;
  const hygiene = lines.findIndex((line) => line.startsWith('function responseHygiene'));
  const end = lines.findIndex((line, i) => i > hygiene && line === '}') + 1;
  if (start <= 0 || hygiene < 0 || end <= 0) throw new Error('stryker.config.mjs: the error handling of router/src/router.ts was not found');
  return `router/src/router.ts:${start}-${end}`;
}

const GROUPS = {
  kit: { projects: ['kit'], mutate: ['errors', 'input', 'loaders', 'http', 'signing', 'authorization', 'identity'].map((m) => `subgraphs/kit/src/${m}.ts`) },
  db: { projects: ['db'], mutate: ['prisma/src/migrate.ts'] },
  // Provisioning is judged on real PostgreSQL clusters (initdb per test file): about an hour.
  provision: { projects: ['provision'], mutate: ['prisma/src/provision.ts'] },
  router: { projects: ['router'], mutate: ['router/src/fetcher.ts', 'router/src/auth.ts', routerErrorHandling()] },
  // The operation limits alone: about 700 mutants, half an hour on two cores.
  limits: { projects: ['router'], mutate: ['router/src/operation-limits.ts'] },
  loaders: {
    projects: ['accounts', 'products', 'inventory', 'reviews', 'orders'],
    mutate: ['accounts', 'products', 'inventory', 'reviews', 'orders'].map((s) => `subgraphs/${s}/src/loaders.ts`),
  },
};
const names = (process.env.MUTATION_GROUP ?? Object.keys(GROUPS).join(',')).split(',').map((g) => g.trim()).filter(Boolean);
const unknown = names.filter((name) => !(name in GROUPS));
if (unknown.length > 0) throw new Error(`MUTATION_GROUP: unknown group(s) ${unknown.join(', ')}; use ${Object.keys(GROUPS).join(', ')}`);
// Read by vitest.mutation.config.ts in the test runner processes Stryker starts.
process.env.MUTATION_PROJECTS = names.flatMap((name) => GROUPS[name].projects).join(',');

export default {
  packageManager: 'npm',
  plugins: ['@stryker-mutator/vitest-runner'],
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false, pool: 'forks' },
  coverageAnalysis: 'perTest',
  // Mutants in code that runs at import (constants, module-level setup) would rerun every test of
  // the group each: 20 % of the kit's mutants for 70 % of the time. Reported as ignored, not scored.
  ignoreStatic: true,
  mutate: names.flatMap((name) => GROUPS[name].mutate),
  // Two shared cores: one test runner per core at most.
  concurrency: 2,
  timeoutMS: 10_000,
  timeoutFactor: 2,
  // The sandbox is a copy of the repository: leave out what these tests never read.
  ignorePatterns: ['/.data', '/.turbo', '/clients', '/router/ide', '/scripts/bench/src', '/scripts/bench/results', '/docs', '/reports', '**/dist', '**/coverage'],
  reporters: ['html', 'json', 'clear-text', 'progress'],
  // One report per group selection, so running the groups one at a time keeps every report.
  htmlReporter: { fileName: `reports/mutation/${names.join('-')}/index.html` },
  jsonReporter: { fileName: `reports/mutation/${names.join('-')}/mutation.json` },
  thresholds: { high: 90, low: 80, break: null },
  // Results kept per group: a later run tests again only the mutants whose code or tests changed.
  incremental: true,
  incrementalFile: `reports/mutation/${names.join('-')}/incremental.json`,
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
