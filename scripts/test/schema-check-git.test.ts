// The default base (git merge-base HEAD main) and its fallbacks, on throw-away repositories in
// the temp dir, plus the real repository checked against its own committed supergraph.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUPERGRAPH_FILE } from '../src/composition.ts';
import { parseOptions } from '../src/schema-check/config.ts';
import { runSchemaCheck } from '../src/schema-check/run.ts';
import { CATALOG, cli, composeSchemas, edit, REVIEWS, writeProject } from './schema-check-support.ts';

function git(cwd: string, ...args: string[]): string {
  const result = spawnSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'init.defaultBranch=main', ...args], {
    cwd,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

/** Runs the check in-process with the default (git) base unless args say otherwise. */
async function checkRepo(dir: string, ...args: string[]) {
  const options = parseOptions(['--config', join(dir, 'supergraph.yaml'), ...args]);
  if (!options) throw new Error('--help');
  return runSchemaCheck(options);
}

const withoutLegacyCode = edit(CATALOG, '  legacyCode: String\n', '');

describe('base revision from git', () => {
  let root: string;
  let repo: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'schema-check-git-'));
    repo = join(root, 'repo');
    await writeProject({}, repo);
    git(repo, 'init', '--quiet');
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', 'supergraph');
    // A feature branch removes a field, recomposes and commits: exactly what a pull request holds.
    git(repo, 'checkout', '--quiet', '-b', 'feature');
    await writeFile(join(repo, 'subgraphs/catalog.graphql'), withoutLegacyCode);
    await writeFile(join(repo, 'router/supergraph.graphql'), composeSchemas(repo, { catalog: withoutLegacyCode, reviews: REVIEWS }));
    git(repo, 'commit', '--quiet', '-am', 'remove Product.legacyCode');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('compares with the supergraph at the merge base of HEAD and main by default', async () => {
    const report = await checkRepo(repo);
    expect(report.base).toMatchObject({ source: 'git', rev: git(repo, 'rev-parse', 'main'), notes: [] });
    expect(report.base.description).toMatch(/^merge-base of HEAD and main \([0-9a-f]{7}\)$/);
    expect(report.exitCode).toBe(1);
    expect(report.changes).toEqual([expect.objectContaining({ type: 'FIELD_REMOVED', path: 'Product.legacyCode', status: 'failed' })]);
  });

  it('takes the base revision from --base', async () => {
    const report = await checkRepo(repo, '--base', 'feature');
    expect(report.base.description).toMatch(/^feature \([0-9a-f]{7}\)$/);
    expect(report.exitCode).toBe(0);
    expect(report.changes).toEqual([]);
  });

  it('exits 2 on an unknown base revision', () => {
    const result = cli(['--config', join(repo, 'supergraph.yaml'), '--base', 'no-such-branch']);
    expect(result.code).toBe(2);
    expect(result.err).toContain('unknown base revision "no-such-branch"');
  });

  it("falls back to HEAD's committed supergraph in a shallow single-branch clone without main, and says so", async () => {
    const clone = join(root, 'shallow');
    git(root, 'clone', '--quiet', '--depth', '1', '--branch', 'feature', `file://${repo}`, clone);
    const report = await checkRepo(clone);
    expect(report.base).toMatchObject({
      source: 'git',
      rev: git(clone, 'rev-parse', 'HEAD'),
      notes: ['no main branch here (single-branch or shallow clone?)', "comparing with HEAD's committed supergraph instead"],
    });
    expect(report.exitCode).toBe(0);

    const result = cli(['--config', join(clone, 'supergraph.yaml')]);
    expect(result.code).toBe(0);
    expect(result.out).toContain("comparing with HEAD's committed supergraph instead");
  });

  it("compares with HEAD's committed supergraph on main itself, catching uncommitted changes", async () => {
    const onMain = join(root, 'on-main');
    git(root, 'clone', '--quiet', '--branch', 'main', `file://${repo}`, onMain);
    await writeFile(join(onMain, 'subgraphs/catalog.graphql'), withoutLegacyCode);
    await writeFile(join(onMain, 'router/supergraph.graphql'), composeSchemas(onMain, { catalog: withoutLegacyCode, reviews: REVIEWS }));
    const report = await checkRepo(onMain);
    expect(report.base.notes).toEqual(['HEAD is the merge base with main', "comparing with HEAD's committed supergraph instead"]);
    expect(report.changes).toEqual([expect.objectContaining({ type: 'FIELD_REMOVED', path: 'Product.legacyCode', status: 'failed' })]);
  });

  it("falls back to HEAD's committed supergraph when the merge base predates the supergraph file", async () => {
    const young = await writeProject({}, join(root, 'young'));
    await rm(join(young, 'router'), { recursive: true });
    git(young, 'init', '--quiet');
    git(young, 'add', '.');
    git(young, 'commit', '--quiet', '-m', 'subgraphs only');
    git(young, 'checkout', '--quiet', '-b', 'feature');
    await writeProject({}, young);
    git(young, 'add', '.');
    git(young, 'commit', '--quiet', '-m', 'compose');
    const report = await checkRepo(young);
    expect(report.base.notes).toEqual([
      expect.stringMatching(/^the merge base [0-9a-f]{7} has no supergraph\.graphql$/),
      "comparing with HEAD's committed supergraph instead",
    ]);
    expect(report.exitCode).toBe(0);
  });

  it('skips the breaking-change check with a warning outside git, and still checks the rest', async () => {
    const plain = await writeProject({}, join(root, 'plain'));
    const report = await checkRepo(plain);
    expect(report.base).toMatchObject({ source: 'none', rev: null });
    expect(report.changes).toBeNull();
    expect(report.warnings).toEqual(['breaking-change check skipped: no base supergraph (not a git repository with commits)']);
    expect(report.exitCode).toBe(0);
  });
});

describe('the repository itself', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'schema-check-repo-'));
  });
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  /** inventory's `Product.inStock` as the committed supergraph composes it. */
  const INSTOCK = '  inStock: Boolean @join__field(graph: INVENTORY) @cacheable(maxAge: 300)\n';
  /** The committed supergraph with `from` replaced by `to`: a base revision that differs in one known way. */
  async function baseFile(name: string, from: string, to: string): Promise<string> {
    const file = join(scratch, name);
    await writeFile(file, edit(await readFile(SUPERGRAPH_FILE, 'utf8'), from, to));
    return file;
  }
  const runAgainst = async (base: string) => {
    const options = parseOptions(['--base-file', base]);
    if (!options) throw new Error('--help');
    return runSchemaCheck(options);
  };

  it('passes every check of schema:check (composition, freshness, operations, conventions), with no change against its own supergraph', async () => {
    const result = cli(['--base-file', SUPERGRAPH_FILE]);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/client operations \(\d+ in \d+ file\(s\)\)\n {2}✓ all valid against the new API schema/);
    expect(result.out).toContain('✓ schema check passed');
    const report = await runAgainst(SUPERGRAPH_FILE);
    expect(report).toMatchObject({ exitCode: 0, composition: { ok: true, problems: [] }, supergraph: { upToDate: true }, changes: [], lint: [] });
    expect(report.operations.problems).toEqual([]);
  });

  it('finds a field the real supergraph removed against a base that had it: breaking, unapproved, failed', async () => {
    const base = await baseFile('with-legacy.graphql', INSTOCK, `${INSTOCK}  legacyCode: String @join__field(graph: INVENTORY)\n`);
    const report = await runAgainst(base);
    expect(report.exitCode).toBe(1);
    expect(report.changes?.map(({ type, path, criticality, status, subgraphs, usedBy }) => ({ type, path, criticality, status, subgraphs, usedBy }))).toEqual([
      { type: 'FIELD_REMOVED', path: 'Product.legacyCode', criticality: 'BREAKING', status: 'failed', subgraphs: ['inventory'], usedBy: [] },
    ]);
    const result = cli(['--base-file', base]);
    expect(result.code).toBe(1);
    expect(result.out).toContain('Product.legacyCode');
  });

  it('finds a field the real supergraph added against a base without it: safe, passing', async () => {
    const base = await baseFile('without-instock.graphql', INSTOCK, '');
    const report = await runAgainst(base);
    expect(report.exitCode).toBe(0);
    expect(report.changes?.map(({ type, path, criticality, status }) => ({ type, path, criticality, status }))).toEqual([
      { type: 'FIELD_ADDED', path: 'Product.inStock', criticality: 'NON_BREAKING', status: 'safe' },
    ]);
  });

  it('validates the storefront’s operations (clients/web/src) by default, beside router/operations', async () => {
    const options = parseOptions(['--base-file', SUPERGRAPH_FILE]);
    if (!options) throw new Error('--help');
    const report = await runSchemaCheck(options);
    expect(report.operations.problems).toEqual([]);
    expect(report.operations.files).toEqual(expect.arrayContaining(['router/operations/product-page.graphql', 'clients/web/src/product/product.graphql', 'clients/web/src/orders/orders.graphql']));
  });
});
