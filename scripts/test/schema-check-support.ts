// Fixture projects for the schema-check tests: a supergraph.yaml with two subgraphs (catalog,
// reviews; plain or with authorization rules), a base supergraph composed from the "before"
// schemas, and optionally a committed supergraph, client operations and approvals.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compose } from '../src/composition.ts';
import { parseOptions } from '../src/schema-check/config.ts';
import type { Report } from '../src/schema-check/report.ts';
import { runSchemaCheck } from '../src/schema-check/run.ts';

const FIXTURES = new URL('./fixtures/schema-check/', import.meta.url);
export const CATALOG = await readFile(new URL('catalog.graphql', FIXTURES), 'utf8');
export const REVIEWS = await readFile(new URL('reviews.graphql', FIXTURES), 'utf8');
/** The same two subgraphs with authorization rules (@signedIn, @requiresScope, @ownerOrScope). */
export const AUTH_CATALOG = await readFile(new URL('catalog-auth.graphql', FIXTURES), 'utf8');
export const AUTH_REVIEWS = await readFile(new URL('reviews-auth.graphql', FIXTURES), 'utf8');
export const SCHEMA_CHECK = fileURLToPath(new URL('../src/schema-check.ts', import.meta.url));

export interface Schemas {
  catalog: string;
  reviews: string;
}

export interface FixtureOptions {
  /** Schemas of the base supergraph; default: the fixtures. */
  before?: Partial<Schemas>;
  /** Schemas in the working tree; default: `before`. */
  after?: Partial<Schemas>;
  /** router/supergraph.graphql: a fresh composition of `after` (default), of `before`, or none. */
  committed?: 'fresh' | 'before' | 'none';
  /** router/operations/<file> → document. */
  operations?: Record<string, string>;
  /** clients/web/src/<file> → document: the storefront's operations, the other default folder. */
  storefront?: Record<string, string>;
  /** router/schema-approvals.json contents (JSON-serialised unless a string). */
  approvals?: unknown;
}

export const CONFIG_YAML = [
  'subgraphs:',
  '  catalog:',
  '    routing_url: http://localhost:5001/graphql',
  '    schema: { file: ./subgraphs/catalog.graphql }',
  '  reviews:',
  '    routing_url: http://localhost:5002/graphql',
  '    schema: { file: ./subgraphs/reviews.graphql }',
].join('\n');

export function composeSchemas(dir: string, schemas: Schemas): string {
  const outcome = compose([
    { name: 'catalog', url: 'http://localhost:5001/graphql', file: join(dir, 'subgraphs/catalog.graphql'), sdl: schemas.catalog },
    { name: 'reviews', url: 'http://localhost:5002/graphql', file: join(dir, 'subgraphs/reviews.graphql'), sdl: schemas.reviews },
  ]);
  if (!outcome.ok) throw new Error(`fixture does not compose: ${JSON.stringify(outcome.problems)}`);
  return outcome.supergraphSdl;
}

/** Writes a fixture project into `dir` (a fresh temp dir by default) and returns the dir. */
export async function writeProject(options: FixtureOptions = {}, dir?: string): Promise<string> {
  const root = dir ?? (await mkdtemp(join(tmpdir(), 'schema-check-')));
  const before: Schemas = { catalog: CATALOG, reviews: REVIEWS, ...options.before };
  const after: Schemas = { ...before, ...options.after };
  const write = async (path: string, text: string) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  };
  await write('supergraph.yaml', CONFIG_YAML);
  await write('subgraphs/catalog.graphql', after.catalog);
  await write('subgraphs/reviews.graphql', after.reviews);
  await write('base.graphql', composeSchemas(root, before));
  const committed = options.committed ?? 'fresh';
  if (committed !== 'none') await write('router/supergraph.graphql', composeSchemas(root, committed === 'fresh' ? after : before));
  for (const [file, text] of Object.entries(options.operations ?? {})) await write(`router/operations/${file}`, text);
  for (const [file, text] of Object.entries(options.storefront ?? {})) await write(`clients/web/src/${file}`, text);
  if (options.approvals !== undefined) {
    const text = typeof options.approvals === 'string' ? options.approvals : JSON.stringify(options.approvals, null, 2);
    await write('router/schema-approvals.json', text);
  }
  return root;
}

/** Runs the check in-process against the project's base.graphql. */
export async function check(dir: string, ...args: string[]): Promise<Report> {
  const options = parseOptions(['--config', join(dir, 'supergraph.yaml'), '--base-file', join(dir, 'base.graphql'), ...args]);
  if (!options) throw new Error('--help');
  return runSchemaCheck(options);
}

/** Runs the command line, as CI does. */
export function cli(args: string[], cwd?: string) {
  const result = spawnSync(process.execPath, [SCHEMA_CHECK, ...args], { encoding: 'utf8', cwd });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

/** Replaces `from` with `to` in `text`, failing loudly when the fixture no longer contains it. */
export function edit(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`fixture does not contain ${JSON.stringify(from)}`);
  return text.replace(from, to);
}
