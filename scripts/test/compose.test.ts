import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compose, readSubgraphs, SUPERGRAPH_FILE } from '../src/composition.ts';

const COMPOSE = fileURLToPath(new URL('../src/compose.ts', import.meta.url));
const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable"])';

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [COMPOSE, ...args], { encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe('the repository supergraph', () => {
  it('composes from every subgraph listed in supergraph.yaml', async () => {
    const subgraphs = await readSubgraphs();
    expect(subgraphs.map((s) => s.name).sort()).toEqual(['accounts', 'inventory', 'orders', 'products', 'reviews']);
    const outcome = compose(subgraphs);
    expect(outcome.ok).toBe(true);
  });

  it('is committed up to date (router/supergraph.graphql equals a fresh composition)', async () => {
    const outcome = compose(await readSubgraphs());
    if (!outcome.ok) throw new Error('does not compose');
    expect(await readFile(SUPERGRAPH_FILE, 'utf8')).toBe(outcome.supergraphSdl);
  });
});

describe('compose script on fixtures', () => {
  let dir: string;
  const config = () => join(dir, 'supergraph.yaml');
  const out = () => join(dir, 'supergraph.graphql');

  async function writeFixture(a: string, b: string) {
    await writeFile(join(dir, 'a.graphql'), a);
    await writeFile(join(dir, 'b.graphql'), b);
    await writeFile(
      config(),
      [
        'subgraphs:',
        '  alpha:',
        '    routing_url: http://localhost:5001/graphql',
        '    schema: { file: ./a.graphql }',
        '  beta:',
        '    routing_url: http://localhost:5002/graphql',
        '    schema: { file: ./b.graphql }',
      ].join('\n'),
    );
  }

  const alpha = `${LINK}\ntype Query { thing(id: ID!): Thing }\ntype Thing @key(fields: "id") { id: ID! name: String! }\n`;
  const beta = `${LINK}\ntype Thing @key(fields: "id") { id: ID! size: Int }\n`;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'compose-test-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes a supergraph, then --check passes on it', async () => {
    await writeFixture(alpha, beta);
    expect(run('--config', config(), '--out', out()).code).toBe(0);
    expect(await readFile(out(), 'utf8')).toContain('join__Graph');
    const check = run('--check', '--config', config(), '--out', out());
    expect(check.code).toBe(0);
    expect(check.out).toContain('is up to date');
  });

  it('--check fails on a stale supergraph and says how to fix it', async () => {
    await writeFixture(alpha, beta);
    expect(run('--config', config(), '--out', out()).code).toBe(0);
    await writeFixture(alpha, beta.replace('size: Int', 'size: Int\n  colour: String'));
    const check = run('--check', '--config', config(), '--out', out());
    expect(check.code).toBe(1);
    expect(check.err).toContain('is stale');
    expect(check.err).toContain('npm run compose');
  });

  it('--check fails when no supergraph was ever written', async () => {
    await writeFixture(alpha, beta);
    expect(run('--check', '--config', config(), '--out', out()).code).toBe(1);
  });

  it('reports a field defined by two subgraphs without @shareable, naming code, subgraphs and location', async () => {
    await writeFixture(alpha, beta.replace('size: Int', 'size: Int\n  name: String!'));
    const outcome = compose(await readSubgraphs(config()));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.problems).toHaveLength(1);
    expect(outcome.problems[0]).toMatchObject({ code: 'INVALID_FIELD_SHARING' });
    expect(outcome.problems[0]?.message).toMatch(/"Thing\.name".*"alpha" and "beta"/);
    expect(outcome.problems[0]?.location).toMatch(/a\.graphql:3:\d+|b\.graphql:\d+:\d+/);

    const result = run('--config', config(), '--out', out());
    expect(result.code).toBe(1);
    expect(result.err).toContain('INVALID_FIELD_SHARING');
  });

  it('reports a syntax error with the subgraph name and file position', async () => {
    await writeFixture(alpha, `${LINK}\ntype Thing @key(fields: "id") { id: ID! size: }\n`);
    const outcome = compose(await readSubgraphs(config()));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.problems[0]).toMatchObject({ subgraph: 'beta', code: 'INVALID_GRAPHQL' });
    expect(outcome.problems[0]?.location).toMatch(/b\.graphql:2:\d+$/);
  });

  it('reports incompatible field types across subgraphs', async () => {
    const shared = (type: string) => `${LINK}\ntype Query { ping: String @shareable }\ntype Thing @key(fields: "id") { id: ID! size: ${type} @shareable }\n`;
    await writeFixture(shared('Int'), shared('String'));
    const outcome = compose(await readSubgraphs(config()));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.problems.map((p) => p.code)).toContain('FIELD_TYPE_MISMATCH');
  });

  it('exits 2 on an unknown option', () => {
    const result = run('--frobnicate');
    expect(result.code).toBe(2);
    expect(result.err).toContain('usage');
  });
});
