import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CATALOG, check, cli, edit, REVIEWS, writeProject, type FixtureOptions } from './schema-check-support.ts';

const dirs: string[] = [];
async function project(options: FixtureOptions = {}) {
  const dir = await writeProject(options);
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const withoutLegacyCode = edit(CATALOG, '  legacyCode: String\n', '');
const TILE = 'query ProductTile($id: ID!) {\n  product(id: $id) {\n    id\n    name\n    legacyCode\n  }\n}\n';

describe('breaking-change classification', () => {
  it('passes when nothing changed', async () => {
    const report = await check(await project());
    expect(report.exitCode).toBe(0);
    expect(report.changes).toEqual([]);
    expect(report.composition.problems).toEqual([]);
    expect(report.supergraph.upToDate).toBe(true);
    expect(report.lint).toEqual([]);
  });

  it('fails on a removed field, attributing it to the subgraph that defined it', async () => {
    const report = await check(await project({ after: { catalog: withoutLegacyCode } }));
    expect(report.exitCode).toBe(1);
    expect(report.changes).toEqual([
      expect.objectContaining({
        type: 'FIELD_REMOVED',
        path: 'Product.legacyCode',
        criticality: 'BREAKING',
        status: 'failed',
        subgraphs: ['catalog'],
        impact: 'clients querying it will get a validation error',
        approval: null,
        usedBy: [],
      }),
    ]);
  });

  it('prints the change under its subgraph with why it matters', async () => {
    const dir = await project({ after: { catalog: withoutLegacyCode } });
    const result = cli(['--config', join(dir, 'supergraph.yaml'), '--base-file', join(dir, 'base.graphql')]);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/\ncatalog\n {2}✗ BREAKING FIELD_REMOVED Product\.legacyCode — clients querying it will get a validation error\n/);
    expect(result.out).toContain('✗ schema check failed: 1 breaking change(s)');
  });

  it('fails on a changed argument type', async () => {
    const report = await check(await project({ after: { catalog: edit(CATALOG, 'product(id: ID!)', 'product(id: String!)') } }));
    expect(report.exitCode).toBe(1);
    expect(report.changes).toEqual([
      expect.objectContaining({ type: 'FIELD_ARGUMENT_TYPE_CHANGED', path: 'Query.product.id', criticality: 'BREAKING', status: 'failed' }),
    ]);
  });

  it('passes a nullable → non-null change of an output field', async () => {
    const report = await check(await project({ after: { catalog: edit(CATALOG, 'legacyCode: String', 'legacyCode: String!') } }));
    expect(report.exitCode).toBe(0);
    expect(report.changes).toEqual([
      expect.objectContaining({ type: 'FIELD_TYPE_CHANGED', path: 'Product.legacyCode', criticality: 'NON_BREAKING', status: 'safe' }),
    ]);
  });

  it('fails on a nullable → non-null change of an input field', async () => {
    const report = await check(await project({ after: { catalog: edit(CATALOG, '  sku: String\n  category', '  sku: String!\n  category') } }));
    expect(report.exitCode).toBe(1);
    expect(report.changes).toEqual([
      expect.objectContaining({ type: 'INPUT_FIELD_TYPE_CHANGED', path: 'CreateProductInput.sku', criticality: 'BREAKING', status: 'failed' }),
    ]);
  });

  it('fails on a nullable → non-null change of an argument', async () => {
    const report = await check(await project({ after: { catalog: edit(CATALOG, 'first: Int)', 'first: Int!)') } }));
    expect(report.exitCode).toBe(1);
    expect(report.changes).toEqual([
      expect.objectContaining({ type: 'FIELD_ARGUMENT_TYPE_CHANGED', path: 'Query.products.first', criticality: 'BREAKING', status: 'failed' }),
    ]);
  });

  it('fails on a new required argument, and only warns about a new optional one', async () => {
    const required = await check(await project({ after: { catalog: edit(CATALOG, 'first: Int)', 'first: Int, region: String!)') } }));
    expect(required.exitCode).toBe(1);
    expect(required.changes).toEqual([
      expect.objectContaining({ type: 'FIELD_ARGUMENT_ADDED', path: 'Query.products.region', criticality: 'BREAKING', status: 'failed' }),
    ]);

    const optional = await check(await project({ after: { catalog: edit(CATALOG, 'first: Int)', 'first: Int, region: String)') } }));
    expect(optional.exitCode).toBe(0);
    expect(optional.changes).toEqual([
      expect.objectContaining({ type: 'FIELD_ARGUMENT_ADDED', path: 'Query.products.region', criticality: 'DANGEROUS', status: 'warning' }),
    ]);
  });

  it('fails on a removed enum value', async () => {
    const report = await check(await project({ after: { catalog: edit(CATALOG, '  GARDEN\n', '') } }));
    expect(report.exitCode).toBe(1);
    expect(report.changes).toEqual([
      expect.objectContaining({ type: 'ENUM_VALUE_REMOVED', path: 'Category.GARDEN', criticality: 'BREAKING', status: 'failed', subgraphs: ['catalog'] }),
    ]);
  });

  it('passes an added field and type as safe', async () => {
    const report = await check(
      await project({ after: { reviews: edit(REVIEWS, '  rating: Int!\n', '  rating: Int!\n  "Review text."\n  body: String\n') } }),
    );
    expect(report.exitCode).toBe(0);
    expect(report.changes).toEqual([expect.objectContaining({ type: 'FIELD_ADDED', path: 'Review.body', status: 'safe', subgraphs: ['reviews'] })]);
  });
});

describe('composition and the committed supergraph', () => {
  it('fails with INVALID_FIELD_SHARING when two subgraphs define a field without @shareable', async () => {
    const dir = await project({ after: { reviews: edit(REVIEWS, '  reviews: [Review!]\n', '  reviews: [Review!]\n  name: String!\n') }, committed: 'none' });
    const report = await check(dir);
    expect(report.exitCode).toBe(1);
    expect(report.composition.ok).toBe(false);
    expect(report.composition.problems).toEqual([
      expect.objectContaining({ code: 'INVALID_FIELD_SHARING', coordinate: 'Product.name', subgraphs: ['catalog', 'reviews'] }),
    ]);
    expect(report.composition.problems[0]?.location).toMatch(/^subgraphs\/(catalog|reviews)\.graphql:\d+:\d+$/);
    expect(report.changes).toBeNull();
    expect(report.warnings).toEqual(['breaking-change and operation checks skipped: the subgraphs do not compose']);
    expect(report.operations.validated).toBe(false);

    const result = cli(['--config', join(dir, 'supergraph.yaml'), '--base-file', join(dir, 'base.graphql')]);
    expect(result.code).toBe(1);
    expect(result.out).toContain('catalog, reviews\n  ✗ INVALID_FIELD_SHARING Product.name at subgraphs/');
  });

  it('names the subgraph and position of a syntax error', async () => {
    const report = await check(await project({ after: { reviews: edit(REVIEWS, 'rating: Int!', 'rating: ') }, committed: 'none' }));
    expect(report.exitCode).toBe(1);
    expect(report.composition.problems).toEqual([
      expect.objectContaining({ code: 'INVALID_GRAPHQL', subgraphs: ['reviews'], location: expect.stringMatching(/^subgraphs\/reviews\.graphql:13:\d+$/) }),
    ]);
  });

  it('fails on a subgraph that is not Federation 2', async () => {
    const fed1 = REVIEWS.replace(/^extend schema[^\n]*\n[^\n]*\n/, '');
    const report = await check(await project({ after: { reviews: fed1 } }));
    expect(report.exitCode).toBe(1);
    expect(report.composition.problems).toEqual([
      expect.objectContaining({ code: 'NOT_FEDERATION_2', subgraphs: ['reviews'], location: 'subgraphs/reviews.graphql:1:1' }),
    ]);
  });

  it('fails on a stale committed supergraph and says how to fix it', async () => {
    const after = { reviews: edit(REVIEWS, '  rating: Int!\n', '  rating: Int!\n  "Review text."\n  body: String\n') };
    const dir = await project({ after, committed: 'before' });
    const report = await check(dir);
    expect(report.exitCode).toBe(1);
    expect(report.supergraph).toEqual({ file: 'router/supergraph.graphql', upToDate: false });

    const result = cli(['--config', join(dir, 'supergraph.yaml'), '--base-file', join(dir, 'base.graphql')]);
    expect(result.code).toBe(1);
    expect(result.out).toContain('router/supergraph.graphql is stale');
    expect(result.out).toContain('Fix: npm run compose');
  });

  it('fails when no supergraph was ever committed', async () => {
    const report = await check(await project({ committed: 'none' }));
    expect(report.exitCode).toBe(1);
    expect(report.supergraph.upToDate).toBe(false);
  });
});

describe('approvals', () => {
  const reason = 'legacyCode has been unused since the 2025 migration; announced in #api';

  it('lets an approved breaking change pass', async () => {
    const approvals = { approvals: [{ type: 'FIELD_REMOVED', path: 'Product.legacyCode', reason }] };
    const report = await check(await project({ after: { catalog: withoutLegacyCode }, approvals }));
    expect(report.exitCode).toBe(0);
    expect(report.changes).toEqual([
      expect.objectContaining({ type: 'FIELD_REMOVED', path: 'Product.legacyCode', criticality: 'BREAKING', status: 'approved', approval: { type: 'FIELD_REMOVED', path: 'Product.legacyCode', reason } }),
    ]);
    expect(report.approvals).toEqual({ file: 'router/schema-approvals.json', count: 1, stale: [] });
  });

  it('does not let an approval for another change or path pass', async () => {
    const approvals = { approvals: [{ type: 'FIELD_TYPE_CHANGED', path: 'Product.legacyCode', reason }] };
    const report = await check(await project({ after: { catalog: withoutLegacyCode }, approvals }));
    expect(report.exitCode).toBe(1);
    expect(report.approvals.stale).toEqual([{ type: 'FIELD_TYPE_CHANGED', path: 'Product.legacyCode', reason }]);
  });

  it('reports a stale approval as a warning, not a failure', async () => {
    const approvals = { approvals: [{ type: 'FIELD_REMOVED', path: 'Product.colour', reason }] };
    const dir = await project({ approvals });
    const report = await check(dir);
    expect(report.exitCode).toBe(0);
    expect(report.approvals.stale).toEqual([{ type: 'FIELD_REMOVED', path: 'Product.colour', reason }]);

    const result = cli(['--config', join(dir, 'supergraph.yaml'), '--base-file', join(dir, 'base.graphql')]);
    expect(result.code).toBe(0);
    expect(result.out).toContain('! stale approval FIELD_REMOVED Product.colour matches no change; delete it from router/schema-approvals.json');
  });

  it.each([
    ['not JSON', '{ approvals: '],
    ['no approvals array', { approved: [] }],
    ['an empty reason', { approvals: [{ type: 'FIELD_REMOVED', path: 'Product.legacyCode', reason: ' ' }] }],
    ['no path', { approvals: [{ type: 'FIELD_REMOVED', reason }] }],
  ])('exits 2 on an approvals file with %s', async (_, approvals) => {
    const dir = await project({ approvals });
    const result = cli(['--config', join(dir, 'supergraph.yaml'), '--base-file', join(dir, 'base.graphql')]);
    expect(result.code).toBe(2);
    expect(result.err).toContain('approvals file');
  });

  it('exits 2 when an explicitly named approvals file is missing', async () => {
    const dir = await project();
    const result = cli(['--config', join(dir, 'supergraph.yaml'), '--base-file', join(dir, 'base.graphql'), '--approvals', join(dir, 'nope.json')]);
    expect(result.code).toBe(2);
    expect(result.err).toContain('cannot read approvals file');
  });
});

describe('client operations', () => {
  it('fails when a change breaks an operation, naming the operation and its file', async () => {
    const report = await check(await project({ after: { catalog: withoutLegacyCode }, operations: { 'tile.graphql': TILE } }));
    expect(report.exitCode).toBe(1);
    expect(report.operations).toEqual({
      files: ['router/operations/tile.graphql'],
      count: 1,
      validated: true,
      problems: [{ operation: 'ProductTile', file: 'router/operations/tile.graphql', line: 5, message: 'Cannot query field "legacyCode" on type "Product".' }],
    });
    expect(report.changes?.[0]?.usedBy).toEqual([{ operation: 'ProductTile', file: 'router/operations/tile.graphql' }]);
  });

  it('fails when a field an operation uses is removed, even though the removal is approved', async () => {
    const approvals = { approvals: [{ type: 'FIELD_REMOVED', path: 'Product.legacyCode', reason: 'no longer needed' }] };
    const dir = await project({ after: { catalog: withoutLegacyCode }, operations: { 'tile.graphql': TILE }, approvals });
    const report = await check(dir);
    expect(report.exitCode).toBe(1);
    expect(report.changes).toEqual([
      expect.objectContaining({
        type: 'FIELD_REMOVED',
        path: 'Product.legacyCode',
        status: 'failed',
        approval: expect.objectContaining({ reason: 'no longer needed' }),
        usedBy: [{ operation: 'ProductTile', file: 'router/operations/tile.graphql' }],
      }),
    ]);

    const result = cli(['--config', join(dir, 'supergraph.yaml'), '--base-file', join(dir, 'base.graphql')]);
    expect(result.code).toBe(1);
    expect(result.out).toContain('used by ProductTile (router/operations/tile.graphql)');
    expect(result.out).toContain('usage wins over approval');
  });

  it('fails on an approved type change of a used field that every operation still validates against', async () => {
    const operation = 'query Rating($id: ID!) { review(id: $id) { id rating } }\n';
    const approvals = { approvals: [{ type: 'FIELD_TYPE_CHANGED', path: 'Review.rating', reason: 'half stars' }] };
    const report = await check(
      await project({ after: { reviews: edit(REVIEWS, 'rating: Int!', 'rating: Float!') }, operations: { 'rating.graphql': operation }, approvals }),
    );
    expect(report.exitCode).toBe(1);
    expect(report.operations.problems).toEqual([]);
    expect(report.changes).toEqual([
      expect.objectContaining({ type: 'FIELD_TYPE_CHANGED', status: 'failed', usedBy: [{ operation: 'Rating', file: 'router/operations/rating.graphql' }] }),
    ]);
  });

  it('warns about removing a deprecated field, but fails when an operation still uses it', async () => {
    const deprecated = edit(CATALOG, 'legacyCode: String', 'legacyCode: String @deprecated(reason: "Use sku.")');
    const unused = await check(await project({ before: { catalog: deprecated }, after: { catalog: withoutLegacyCode } }));
    expect(unused.exitCode).toBe(0);
    expect(unused.changes).toEqual([expect.objectContaining({ type: 'FIELD_REMOVED', criticality: 'DANGEROUS', status: 'warning' })]);

    const used = await check(
      await project({ before: { catalog: deprecated }, after: { catalog: withoutLegacyCode }, operations: { 'tile.graphql': TILE } }),
    );
    expect(used.exitCode).toBe(1);
    expect(used.changes).toEqual([expect.objectContaining({ type: 'FIELD_REMOVED', criticality: 'DANGEROUS', status: 'failed' })]);
  });

  it('fails on a new required input field of an input an operation sends', async () => {
    const operation = 'mutation Create($input: CreateProductInput!) { createProduct(input: $input) { id } }\n';
    const approvals = { approvals: [{ type: 'INPUT_FIELD_ADDED', path: 'CreateProductInput.weight', reason: 'x' }] };
    const after = { catalog: edit(CATALOG, '  sku: String\n  category: Category!\n', '  sku: String\n  category: Category!\n  weight: Int!\n') };
    const report = await check(await project({ after, operations: { 'create.graphql': operation }, approvals }));
    expect(report.exitCode).toBe(1);
    expect(report.changes).toEqual([
      expect.objectContaining({ type: 'INPUT_FIELD_ADDED', path: 'CreateProductInput.weight', status: 'failed', usedBy: [{ operation: 'Create', file: 'router/operations/create.graphql' }] }),
    ]);
  });

  it('resolves fragments across files and reports a document that does not parse', async () => {
    const report = await check(
      await project({
        operations: {
          'card.graphql': 'fragment Card on Product { id name }\n',
          'list.graphql': 'query List { products(first: 3) { ...Card } }\n',
          'broken.graphql': 'query Broken { product(id: "1") { id }\n',
        },
      }),
    );
    expect(report.exitCode).toBe(1);
    expect(report.operations.count).toBe(1);
    expect(report.operations.problems).toEqual([
      expect.objectContaining({ operation: null, file: 'router/operations/broken.graphql', line: 2, message: expect.stringContaining('Syntax Error') }),
    ]);
  });

  it('takes the operation folders from --operations, and exits 2 on a missing one', async () => {
    const dir = await project({
      after: { catalog: withoutLegacyCode },
      operations: { 'web/tile.graphql': TILE, 'ios/review.graphql': 'query Review { review(id: "1") { rating } }\n' },
    });
    const both = await check(dir);
    expect(both.operations.files).toEqual(['router/operations/ios/review.graphql', 'router/operations/web/tile.graphql']);
    expect(both.exitCode).toBe(1);

    const ios = await check(dir, '--operations', join(dir, 'router/operations/ios'));
    expect(ios.operations).toEqual({ files: ['router/operations/ios/review.graphql'], count: 1, validated: true, problems: [] });

    const result = cli(['--config', join(dir, 'supergraph.yaml'), '--base-file', join(dir, 'base.graphql'), '--operations', join(dir, 'nope')]);
    expect(result.code).toBe(2);
    expect(result.err).toContain('is not a readable folder');
  });
});

describe('lint', () => {
  const lintOf = async (schemas: FixtureOptions['before']) => {
    const report = await check(await project({ before: schemas }));
    return { exitCode: report.exitCode, lint: report.lint };
  };

  it('fails on a root field without a description, naming subgraph and file:line', async () => {
    expect(await lintOf({ reviews: edit(REVIEWS, '  "A review by id."\n', '') })).toEqual({
      exitCode: 1,
      lint: [
        {
          subgraph: 'reviews',
          file: 'subgraphs/reviews.graphql',
          line: 5,
          column: 3,
          rule: 'root-field-description',
          coordinate: 'Query.review',
          message: 'query field Query.review has no description',
        },
      ],
    });
  });

  it('fails on an enum value that is not SCREAMING_SNAKE_CASE', async () => {
    const { exitCode, lint } = await lintOf({ catalog: edit(CATALOG, 'GARDEN', 'gardenTools') });
    expect(exitCode).toBe(1);
    expect(lint).toEqual([
      expect.objectContaining({ subgraph: 'catalog', line: 28, rule: 'enum-value-screaming-snake-case', coordinate: 'Category.gardenTools' }),
    ]);
  });

  it('fails on a mutation that does not start with a verb', async () => {
    const { exitCode, lint } = await lintOf({ catalog: edit(CATALOG, 'createProduct(', 'productCreate(') });
    expect(exitCode).toBe(1);
    expect(lint).toEqual([
      expect.objectContaining({
        subgraph: 'catalog',
        line: 13,
        rule: 'mutation-verb-first',
        coordinate: 'Mutation.productCreate',
        message: 'mutation productCreate should start with a verb: create, update, delete, add, remove, restock, place, cancel, set',
      }),
    ]);
  });

  it('checks type, field and argument case and the Input suffix', async () => {
    let catalog = edit(CATALOG, 'input CreateProductInput {', 'input NewProduct {');
    catalog = edit(catalog, 'CreateProductInput!', 'NewProduct!');
    catalog = edit(catalog, 'first: Int)', 'page_size: Int)');
    catalog += '\ntype shelf_item {\n  id: ID!\n  Label: String\n}\n';
    const { exitCode, lint } = await lintOf({ catalog });
    expect(exitCode).toBe(1);
    expect(lint.map((p) => [p.rule, p.coordinate])).toEqual([
      ['argument-camel-case', 'Query.products(page_size:)'],
      ['input-suffix', 'NewProduct'],
      ['type-pascal-case', 'shelf_item'],
      ['field-camel-case', 'shelf_item.Label'],
    ]);
  });

  it('wants an entity description in the subgraph that owns it, not in one that extends it', async () => {
    const catalog = edit(CATALOG, '"Something the shop sells."\n', '');
    const reviews = edit(REVIEWS, 'type Product @key', '"Something the shop sells."\ntype Product @key');
    const { lint } = await lintOf({ catalog, reviews });
    expect(lint).toEqual([
      expect.objectContaining({ subgraph: 'catalog', line: 16, rule: 'entity-description', coordinate: 'Product', message: 'entity Product has no description in catalog, the subgraph that owns it' }),
    ]);
  });
});

describe('command line', () => {
  it('exits 2 on an unknown flag, with usage', () => {
    const result = cli(['--frobnicate']);
    expect(result.code).toBe(2);
    expect(result.err).toContain('usage: schema-check');
  });

  it('exits 2 on --base together with --base-file, and on an unreadable --base-file', async () => {
    expect(cli(['--base', 'main', '--base-file', 'x.graphql']).code).toBe(2);
    const dir = await project();
    const result = cli(['--config', join(dir, 'supergraph.yaml'), '--base-file', join(dir, 'missing.graphql')]);
    expect(result.code).toBe(2);
    expect(result.err).toContain('cannot read --base-file');
  });

  it('writes the report as JSON with --json', async () => {
    const dir = await project({ after: { catalog: withoutLegacyCode } });
    const result = cli(['--config', join(dir, 'supergraph.yaml'), '--base-file', join(dir, 'base.graphql'), '--json', join(dir, 'out/report.json')]);
    expect(result.code).toBe(1);
    const json = JSON.parse(await readFile(join(dir, 'out/report.json'), 'utf8'));
    expect(json).toMatchObject({
      exitCode: 1,
      subgraphs: ['catalog', 'reviews'],
      base: { source: 'file' },
      supergraph: { file: 'router/supergraph.graphql', upToDate: true },
      changes: [{ type: 'FIELD_REMOVED', path: 'Product.legacyCode', criticality: 'BREAKING', status: 'failed' }],
    });
  });
});
