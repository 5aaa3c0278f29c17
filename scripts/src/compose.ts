// npm run compose            → write router/supergraph.graphql from every subgraph's schema.graphql
// npm run compose:check      → exit 1 when the committed supergraph is stale (or does not compose)
// Options: --config <supergraph.yaml> --out <supergraph.graphql> (defaults: the repository's own).
import { readFile, writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compose, formatProblems, readSubgraphs, SUPERGRAPH_CONFIG, SUPERGRAPH_FILE } from './composition.ts';

let args;
try {
  args = parseArgs({
    options: { check: { type: 'boolean', default: false }, config: { type: 'string' }, out: { type: 'string' } },
  }).values;
} catch (error) {
  console.error(`${(error as Error).message}\nusage: compose [--check] [--config supergraph.yaml] [--out supergraph.graphql]`);
  process.exit(2);
}
const configFile = args.config ? resolve(args.config) : SUPERGRAPH_CONFIG;
const outFile = args.out ? resolve(args.out) : SUPERGRAPH_FILE;
const shown = relative(process.cwd(), outFile) || outFile;

const outcome = compose(await readSubgraphs(configFile));
if (!outcome.ok) {
  console.error(`Composition failed with ${outcome.problems.length} error(s):\n${formatProblems(outcome.problems)}`);
  process.exit(1);
}
if (args.check) {
  const committed = await readFile(outFile, 'utf8').catch(() => '');
  if (committed !== outcome.supergraphSdl) {
    console.error(`${shown} is stale: it differs from a fresh composition of the subgraphs.\nFix: npm run compose, then commit ${shown}.`);
    process.exit(1);
  }
  console.log(`${shown} is up to date.`);
} else {
  await writeFile(outFile, outcome.supergraphSdl);
  for (const hint of outcome.hints) console.log(`hint: ${hint}`);
  console.log(`Composed ${shown}.`);
}
