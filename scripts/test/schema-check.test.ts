import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AUTH_CATALOG, AUTH_REVIEWS, CATALOG, check, cli, edit, REVIEWS, writeProject, type FixtureOptions } from './schema-check-support.ts';

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
    expect(report.approvals).toEqual({ file: 'router/schema-approvals.json', count: 1, stale: [], unusedAcknowledgements: [] });
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
    ['not JSON', '{ approvals: ', 'is not valid JSON'],
    ['no approvals array', { approved: [] }, 'expected { "approvals": [ … ] }'],
    ['an empty reason', { approvals: [{ type: 'FIELD_REMOVED', path: 'Product.legacyCode', reason: ' ' }] }, 'needs a non-empty reason'],
    ['no path', { approvals: [{ type: 'FIELD_REMOVED', reason }] }, 'needs a non-empty path'],
    ['operations that is not a list', { approvals: [{ type: 'FIELD_REMOVED', path: 'Product.legacyCode', reason, operations: 'ProductTile' }] }, 'approvals[0].operations must be a list of operation names'],
    ['an empty operation name', { approvals: [{ type: 'FIELD_REMOVED', path: 'Product.legacyCode', reason, operations: ['ProductTile', ' '] }] }, 'approvals[0].operations must be a list'],
    ['an operation name that is not a string', { approvals: [{ type: 'FIELD_REMOVED', path: 'Product.legacyCode', reason, operations: [42] }] }, 'got [42]'],
    ['operations: null', { approvals: [{ type: 'FIELD_REMOVED', path: 'Product.legacyCode', reason, operations: null }] }, 'approvals[0].operations must be a list'],
  ])('exits 2 on an approvals file with %s', async (_, approvals, message) => {
    const dir = await project({ approvals });
    const result = cli(['--config', join(dir, 'supergraph.yaml'), '--base-file', join(dir, 'base.graphql')]);
    expect(result.code).toBe(2);
    expect(result.err).toContain('approvals file');
    expect(result.err).toContain(message);
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

  it('checks the storefront’s operations too: a subgraph change that breaks one fails, naming it and its file', async () => {
    const dir = await project({
      after: { catalog: withoutLegacyCode },
      operations: { 'review.graphql': 'query Review { review(id: "1") { rating } }\n' },
      storefront: {
        'catalogue/tile.graphql': TILE,
        // What the storefront's codegen writes there: the API schema (.graphqls) is not an operation.
        'generated/schema.graphqls': 'type Query { product(id: ID!): Product }\n',
      },
    });
    const report = await check(dir);
    expect(report.exitCode).toBe(1);
    expect(report.operations).toEqual({
      files: ['router/operations/review.graphql', 'clients/web/src/catalogue/tile.graphql'],
      count: 2,
      validated: true,
      problems: [{ operation: 'ProductTile', file: 'clients/web/src/catalogue/tile.graphql', line: 5, message: 'Cannot query field "legacyCode" on type "Product".' }],
    });
    expect(report.changes?.[0]).toMatchObject({ type: 'FIELD_REMOVED', path: 'Product.legacyCode', usedBy: [{ operation: 'ProductTile', file: 'clients/web/src/catalogue/tile.graphql' }] });

    const result = cli(['--config', join(dir, 'supergraph.yaml'), '--base-file', join(dir, 'base.graphql')]);
    expect(result.code).toBe(1);
    expect(result.out).toContain('used by ProductTile (clients/web/src/catalogue/tile.graphql)');
  });

  it('passes the storefront’s operations that still validate, and reads no client folder that does not exist', async () => {
    const withStorefront = await check(await project({ storefront: { 'catalogue/tile.graphql': TILE } }));
    expect(withStorefront.exitCode).toBe(0);
    expect(withStorefront.operations).toEqual({ files: ['clients/web/src/catalogue/tile.graphql'], count: 1, validated: true, problems: [] });
    const none = await check(await project());
    expect(none.operations).toEqual({ files: [], count: 0, validated: true, problems: [] });
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

describe('approvals that acknowledge the operations using a change', () => {
  // Review.rating becomes nullable: every operation still validates, but its clients must handle null.
  const nullableRating = { reviews: edit(REVIEWS, 'rating: Int!', 'rating: Int') };
  const RATING = 'query Rating($id: ID!) { review(id: $id) { id rating } }\n';
  const PRODUCT_REVIEWS = 'query ProductReviews { product(id: "1") { reviews { rating } } }\n';
  const NAME = 'query ProductName { product(id: "1") { name } }\n';
  const approval = (operations?: unknown) => ({
    approvals: [{ type: 'FIELD_TYPE_CHANGED', path: 'Review.rating', reason: 'ratings can be withdrawn', ...(operations === undefined ? {} : { operations }) }],
  });
  const args = (dir: string) => ['--config', join(dir, 'supergraph.yaml'), '--base-file', join(dir, 'base.graphql')];

  it('fails without an acknowledgement, and prints the approval entry to add', async () => {
    const dir = await project({ after: nullableRating, operations: { 'rating.graphql': RATING } });
    const report = await check(dir);
    expect(report.exitCode).toBe(1);
    expect(report.changes).toEqual([
      expect.objectContaining({ type: 'FIELD_TYPE_CHANGED', path: 'Review.rating', status: 'failed', acknowledged: [], unacknowledged: ['Rating'], invalidUsers: [] }),
    ]);
    const result = cli(args(dir));
    expect(result.code).toBe(1);
    expect(result.out).toContain('still valid: Rating; change them, or approve the change acknowledging them once their clients handle it:');
    expect(result.out).toContain('{ "type": "FIELD_TYPE_CHANGED", "path": "Review.rating", "reason": "…", "operations": ["Rating"] }');
  });

  it('passes when the approval acknowledges every operation that uses the change and they still validate', async () => {
    const dir = await project({
      after: nullableRating,
      operations: { 'rating.graphql': RATING, 'product-reviews.graphql': PRODUCT_REVIEWS, 'name.graphql': NAME },
      approvals: approval(['Rating', 'ProductReviews']),
    });
    const report = await check(dir);
    expect(report.exitCode).toBe(0);
    expect(report.changes).toEqual([
      expect.objectContaining({
        type: 'FIELD_TYPE_CHANGED',
        path: 'Review.rating',
        criticality: 'BREAKING',
        status: 'approved',
        usedBy: [
          { operation: 'ProductReviews', file: 'router/operations/product-reviews.graphql' },
          { operation: 'Rating', file: 'router/operations/rating.graphql' },
        ],
        acknowledged: ['ProductReviews', 'Rating'],
        unacknowledged: [],
        invalidUsers: [],
      }),
    ]);
    expect(report.approvals.unusedAcknowledgements).toEqual([]);

    const result = cli(args(dir));
    expect(result.code).toBe(0);
    expect(result.out).toContain('✓ BREAKING FIELD_TYPE_CHANGED Review.rating');
    expect(result.out).toContain('acknowledged operation(s), still valid against the new API schema: ProductReviews, Rating');
  });

  it('fails when one operation that uses the change is not acknowledged, naming it', async () => {
    const dir = await project({
      after: nullableRating,
      operations: { 'rating.graphql': RATING, 'product-reviews.graphql': PRODUCT_REVIEWS },
      approvals: approval(['Rating']),
    });
    const report = await check(dir);
    expect(report.exitCode).toBe(1);
    expect(report.changes).toEqual([
      expect.objectContaining({ status: 'failed', acknowledged: ['Rating'], unacknowledged: ['ProductReviews'], invalidUsers: [] }),
    ]);
    const result = cli(args(dir));
    expect(result.code).toBe(1);
    expect(result.out).toContain('usage wins over approval unless the approval acknowledges them');
    expect(result.out).toContain('not acknowledged: add "ProductReviews" to the approval\'s "operations" once their clients handle the change, or change them');
  });

  it('lets an approval acknowledge an operation that sends a removed input field through a variable', async () => {
    const operation = 'mutation Create($input: CreateProductInput!) { createProduct(input: $input) { id } }\n';
    const after = { catalog: edit(CATALOG, '  sku: String\n  category', '  category') };
    const approvals = { approvals: [{ type: 'INPUT_FIELD_REMOVED', path: 'CreateProductInput.sku', reason: 'SKUs are generated now', operations: ['Create'] }] };
    const acknowledged = await check(await project({ after, operations: { 'create.graphql': operation }, approvals }));
    expect(acknowledged.exitCode).toBe(0);
    expect(acknowledged.changes).toEqual([
      expect.objectContaining({ type: 'INPUT_FIELD_REMOVED', path: 'CreateProductInput.sku', status: 'approved', acknowledged: ['Create'] }),
    ]);

    const { operations: _, ...plain } = approvals.approvals[0] as { operations: string[] };
    const unacknowledged = await check(await project({ after, operations: { 'create.graphql': operation }, approvals: { approvals: [plain] } }));
    expect(unacknowledged.exitCode).toBe(1);
    expect(unacknowledged.changes?.[0]).toMatchObject({ status: 'failed', unacknowledged: ['Create'] });
  });

  it('never lets an acknowledgement pass an operation that no longer validates', async () => {
    const approvals = { approvals: [{ type: 'FIELD_REMOVED', path: 'Product.legacyCode', reason: 'gone', operations: ['ProductTile'] }] };
    const dir = await project({ after: { catalog: withoutLegacyCode }, operations: { 'tile.graphql': TILE }, approvals });
    const report = await check(dir);
    expect(report.exitCode).toBe(1);
    expect(report.operations.problems).toEqual([expect.objectContaining({ operation: 'ProductTile' })]);
    expect(report.changes).toEqual([
      expect.objectContaining({ status: 'failed', acknowledged: ['ProductTile'], unacknowledged: [], invalidUsers: ['ProductTile'] }),
    ]);
    const result = cli(args(dir));
    expect(result.out).toContain('no longer valid against the new API schema, change first: ProductTile (an approval cannot acknowledge a broken operation)');
  });

  it('warns about an acknowledged operation that does not use the change, or does not exist', async () => {
    const dir = await project({
      after: nullableRating,
      operations: { 'rating.graphql': RATING, 'name.graphql': NAME },
      approvals: approval(['Rating', 'ProductName', 'Checkout']),
    });
    const report = await check(dir);
    expect(report.exitCode).toBe(0);
    expect(report.changes?.[0]).toMatchObject({ status: 'approved', acknowledged: ['Rating'] });
    expect(report.approvals.unusedAcknowledgements).toEqual([
      { type: 'FIELD_TYPE_CHANGED', path: 'Review.rating', operation: 'ProductName', exists: true },
      { type: 'FIELD_TYPE_CHANGED', path: 'Review.rating', operation: 'Checkout', exists: false },
    ]);
    const result = cli(args(dir));
    expect(result.code).toBe(0);
    expect(result.out).toContain(
      '! approval FIELD_TYPE_CHANGED Review.rating acknowledges ProductName, which does not use the change; remove it from its "operations" in router/schema-approvals.json',
    );
    expect(result.out).toContain('acknowledges Checkout, which is not an operation in the operation folders');
    expect(result.out).toContain('(1 approved, 2 warning(s))');
  });

  it('writes acknowledgements and unused ones to --json', async () => {
    const dir = await project({ after: nullableRating, operations: { 'rating.graphql': RATING }, approvals: approval(['Rating', 'Nope']) });
    const result = cli([...args(dir), '--json', join(dir, 'report.json')]);
    expect(result.code).toBe(0);
    const json = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
    expect(json.changes).toEqual([
      expect.objectContaining({
        type: 'FIELD_TYPE_CHANGED',
        category: 'api',
        rules: null,
        status: 'approved',
        approval: { type: 'FIELD_TYPE_CHANGED', path: 'Review.rating', reason: 'ratings can be withdrawn', operations: ['Rating', 'Nope'] },
        acknowledged: ['Rating'],
        unacknowledged: [],
        invalidUsers: [],
      }),
    ]);
    expect(json.approvals.unusedAcknowledgements).toEqual([{ type: 'FIELD_TYPE_CHANGED', path: 'Review.rating', operation: 'Nope', exists: false }]);
  });
});

describe('authorization rules', () => {
  const base = { catalog: AUTH_CATALOG, reviews: AUTH_REVIEWS };
  const authProject = (after: Partial<FixtureOptions['after']>, extra: FixtureOptions = {}) =>
    project({ before: base, after: { ...base, ...after }, ...extra });
  const args = (dir: string) => ['--config', join(dir, 'supergraph.yaml'), '--base-file', join(dir, 'base.graphql')];
  const authChanges = (changes: { category: string }[] | null) => (changes ?? []).filter((c) => c.category === 'authorization');
  const withoutCostRule = edit(AUTH_CATALOG, 'costCents: Int @requiresScope(anyOf: ["admin"])', 'costCents: Int');
  const COST = 'query Cost { product(id: "1") { id costCents } }\n';

  it('reports nothing when the rules are unchanged', async () => {
    const report = await check(await authProject({}));
    expect(report.exitCode).toBe(0);
    expect(report.changes).toEqual([]);
  });

  it('fails when a field loses its rule, saying who can now read it', async () => {
    const dir = await authProject({ catalog: withoutCostRule }, { operations: { 'cost.graphql': COST } });
    const report = await check(dir);
    expect(report.exitCode).toBe(1);
    expect(report.changes).toEqual([
      {
        type: 'AUTH_RULE_REMOVED',
        path: 'Product.costCents',
        criticality: 'BREAKING',
        inherentCriticality: 'BREAKING',
        category: 'authorization',
        rules: { before: [{ kind: 'requiresScope', anyOf: ['admin'] }], after: [] },
        message:
          'Product.costCents lost its authorization rule @requiresScope(anyOf: ["admin"]): anyone, even a caller who is not signed in, can now read it (before: only a caller with scope "admin").',
        impact: 'callers it used to deny can now read or call it',
        subgraphs: ['catalog'],
        status: 'failed',
        approval: null,
        // Who reads it is listed, but an operation that still validates never blocks an auth change.
        usedBy: [{ operation: 'Cost', file: 'router/operations/cost.graphql' }],
        acknowledged: [],
        unacknowledged: [],
        invalidUsers: [],
      },
    ]);

    const result = cli(args(dir));
    expect(result.code).toBe(1);
    expect(result.out).toContain('catalog\n  ✗ BREAKING AUTH_RULE_REMOVED Product.costCents — callers it used to deny can now read or call it\n');
    expect(result.out).toContain('if intended, approve it in the approvals file with a reason');
    expect(result.out).toContain('✗ schema check failed: 1 breaking change(s)');
  });

  it('passes an approved rule removal, even though an operation reads the field', async () => {
    const approvals = { approvals: [{ type: 'AUTH_RULE_REMOVED', path: 'Product.costCents', reason: 'cost is public now' }] };
    const report = await check(await authProject({ catalog: withoutCostRule }, { operations: { 'cost.graphql': COST }, approvals }));
    expect(report.exitCode).toBe(0);
    expect(report.changes).toEqual([expect.objectContaining({ type: 'AUTH_RULE_REMOVED', path: 'Product.costCents', status: 'approved' })]);
    expect(report.approvals.stale).toEqual([]);
  });

  it('fails as weakened when a scope is added to anyOf', async () => {
    const catalog = edit(AUTH_CATALOG, 'Product! @requiresScope(anyOf: ["admin"])', 'Product! @requiresScope(anyOf: ["admin", "support"])');
    const report = await check(await authProject({ catalog }));
    expect(report.exitCode).toBe(1);
    expect(report.changes).toEqual([
      expect.objectContaining({
        type: 'AUTH_RULE_WEAKENED',
        path: 'Mutation.createProduct',
        criticality: 'BREAKING',
        status: 'failed',
        message:
          'Mutation.createProduct: authorization rule @requiresScope(anyOf: ["admin"]) became @requiresScope(anyOf: ["admin", "support"]): a caller with scope "support" can now call it (before: only a caller with scope "admin").',
      }),
    ]);
  });

  it('reports a removed scope as narrowed: a warning, not a failure', async () => {
    const catalog = edit(AUTH_CATALOG, 'type ShoppingList @ownerOrScope(anyOf: ["support"])', 'type ShoppingList @ownerOrScope(anyOf: [])');
    const report = await check(await authProject({ catalog }));
    expect(report.exitCode).toBe(0);
    expect(report.changes).toEqual([
      expect.objectContaining({ type: 'AUTH_RULE_NARROWED', path: 'ShoppingList', criticality: 'DANGEROUS', status: 'warning' }),
    ]);
  });

  it('passes an added rule with a notice that clients may now be denied, naming who reads it', async () => {
    const catalog = edit(AUTH_CATALOG, '  sku: String!\n', '  sku: String! @signedIn\n');
    const dir = await authProject({ catalog }, { operations: { 'sku.graphql': 'query Sku { product(id: "1") { sku } }\n' } });
    const report = await check(dir);
    expect(report.exitCode).toBe(0);
    expect(report.changes).toEqual([
      expect.objectContaining({
        type: 'AUTH_RULE_ADDED',
        path: 'Product.sku',
        criticality: 'DANGEROUS',
        status: 'warning',
        impact: 'clients may start getting FORBIDDEN (or UNAUTHENTICATED) where they got data before',
        usedBy: [{ operation: 'Sku', file: 'router/operations/sku.graphql' }],
      }),
    ]);
    const result = cli(args(dir));
    expect(result.code).toBe(0);
    expect(result.out).toContain('! DANGEROUS AUTH_RULE_ADDED Product.sku');
    expect(result.out).toContain('Product.sku now requires @signedIn: only a signed-in user may read it');
    expect(result.out).toContain('used by Sku (router/operations/sku.graphql)');
  });

  it('reports the first rules of a subgraph that starts declaring them as added', async () => {
    let reviews = edit(
      REVIEWS,
      'import: ["@key"])\n',
      [
        'import: ["@key", "@composeDirective"])',
        '  @link(url: "https://commerce-supergraph.dev/auth/v1.0", import: ["@signedIn"])',
        '  @composeDirective(name: "@signedIn")',
        '',
        '"The caller must be signed in."',
        'directive @signedIn on FIELD_DEFINITION | OBJECT',
        '',
      ].join('\n'),
    );
    reviews = edit(reviews, 'type Review @key(fields: "id") {', 'type Review @key(fields: "id") @signedIn {');
    const report = await check(await project({ after: { reviews } }));
    expect(report.exitCode).toBe(0);
    expect(authChanges(report.changes)).toEqual([
      expect.objectContaining({
        type: 'AUTH_RULE_ADDED',
        path: 'Review',
        status: 'warning',
        message:
          "Type Review now requires @signedIn: only a signed-in user may read its fields; other callers now get FORBIDDEN or UNAUTHENTICATED. Fields guarded only by the type's rule: Review.id, Review.rating and Review.product.",
      }),
    ]);
  });

  describe('type-level rules', () => {
    it('passes a field whose own rule is removed while its type still carries the same rule', async () => {
      const catalog = edit(AUTH_CATALOG, 'terms: String @requiresScope(anyOf: ["buyer"])', 'terms: String');
      const dir = await authProject({ catalog });
      const report = await check(dir);
      expect(report.exitCode).toBe(0);
      expect(report.changes).toEqual([
        expect.objectContaining({
          type: 'AUTH_RULE_MOVED',
          path: 'Supplier.terms',
          criticality: 'NON_BREAKING',
          status: 'safe',
          rules: { before: [{ kind: 'requiresScope', anyOf: ['buyer'] }], after: [{ kind: 'requiresScope', anyOf: ['buyer'] }] },
          message:
            'Supplier.terms is still guarded by @requiresScope(anyOf: ["buyer"]) (its own rule was removed; type Supplier\'s rule applies instead): the same callers may read it as before.',
        }),
      ]);
      expect(cli(args(dir)).out).toContain('· NON_BREAKING AUTH_RULE_MOVED Supplier.terms — safe: the same callers are allowed as before');
    });

    it('reports a field falling back to a stricter type rule as narrowed', async () => {
      const wider = edit(AUTH_CATALOG, 'terms: String @requiresScope(anyOf: ["buyer"])', 'terms: String @requiresScope(anyOf: ["admin", "buyer"])');
      const report = await check(
        await project({ before: { ...base, catalog: wider }, after: { ...base, catalog: edit(wider, 'terms: String @requiresScope(anyOf: ["admin", "buyer"])', 'terms: String') } }),
      );
      expect(report.exitCode).toBe(0);
      expect(report.changes).toEqual([
        expect.objectContaining({
          type: 'AUTH_RULE_NARROWED',
          path: 'Supplier.terms',
          status: 'warning',
          message:
            'Supplier.terms: authorization rule @requiresScope(anyOf: ["admin", "buyer"]) became @requiresScope(anyOf: ["buyer"]) (its own rule was removed; type Supplier\'s rule applies instead): only a caller with scope "buyer" may read it (before: a caller with one of the scopes "admin" or "buyer"); the others now get FORBIDDEN.',
        }),
      ]);
    });

    it('fails when a field falls back from @signedIn to its type\'s @ownerOrScope: a scope holder need not be signed in', async () => {
      const catalog = edit(AUTH_CATALOG, 'sharedNote: String @signedIn', 'sharedNote: String');
      const report = await check(await authProject({ catalog }));
      expect(report.exitCode).toBe(1);
      expect(report.changes).toEqual([
        expect.objectContaining({
          type: 'AUTH_RULE_WEAKENED',
          path: 'ShoppingList.sharedNote',
          status: 'failed',
          message: expect.stringContaining('a caller with scope "support" who is not signed in as a user (e.g. a service credential) can now read it'),
        }),
      ]);
    });

    it('fails when a field falls back to a weaker type rule, or overrides its type with a weaker rule', async () => {
      // A field's own rule replaces its type's rule (subgraphs/kit/src/authorization.ts), so @signedIn
      // on ShoppingList.title lets any signed-in user read what only the owner and support could.
      const catalog = edit(AUTH_CATALOG, '  title: String!\n', '  title: String! @signedIn\n');
      const report = await check(await authProject({ catalog }));
      expect(report.exitCode).toBe(1);
      expect(report.changes).toEqual([
        expect.objectContaining({
          type: 'AUTH_RULE_WEAKENED',
          path: 'ShoppingList.title',
          status: 'failed',
          message:
            'ShoppingList.title: authorization rule @ownerOrScope(anyOf: ["support"]) became @signedIn (it now declares its own rule, which replaces type ShoppingList\'s rule): any signed-in user can now read it (before: only the user it belongs to or a caller with scope "support").',
        }),
      ]);
    });

    it('fails when a type loses its rule, listing the fields that relied on it', async () => {
      const catalog = edit(AUTH_CATALOG, 'type Supplier @requiresScope(anyOf: ["buyer"]) {', 'type Supplier {');
      const report = await check(await authProject({ catalog }));
      expect(report.exitCode).toBe(1);
      // Supplier.terms keeps its own rule: only the type is reported.
      expect(report.changes).toEqual([
        expect.objectContaining({
          type: 'AUTH_RULE_REMOVED',
          path: 'Supplier',
          status: 'failed',
          message:
            'Type Supplier lost its authorization rule @requiresScope(anyOf: ["buyer"]): anyone, even a caller who is not signed in, can now read its fields (before: only a caller with scope "buyer"). Fields guarded only by the type\'s rule: Supplier.id and Supplier.name.',
        }),
      ]);
    });

    it('reports a rule moved from the type to every field as removed from the type and moved to the fields', async () => {
      let catalog = edit(AUTH_CATALOG, 'type Supplier @requiresScope(anyOf: ["buyer"]) {', 'type Supplier {');
      catalog = edit(catalog, '  id: ID!\n  name: String!\n  "Contract terms."', '  id: ID! @requiresScope(anyOf: ["buyer"])\n  name: String! @requiresScope(anyOf: ["buyer"])\n  "Contract terms."');
      const report = await check(await authProject({ catalog }));
      expect(report.changes?.map((c) => [c.type, c.path, c.status])).toEqual([
        ['AUTH_RULE_REMOVED', 'Supplier', 'failed'],
        ['AUTH_RULE_MOVED', 'Supplier.id', 'safe'],
        ['AUTH_RULE_MOVED', 'Supplier.name', 'safe'],
      ]);
      expect(report.changes?.[0]?.message).toContain('No field of Supplier relies on it today (each declares its own rule), but fields added later will.');
    });
  });

  describe('rule kinds', () => {
    const kindChange = async (from: string, to: string) => {
      const catalog = edit(AUTH_CATALOG, `type ShoppingList ${from} {`, `type ShoppingList ${to} {`);
      const report = await check(await authProject({ catalog }));
      return report.changes?.map((c) => [c.type, c.criticality]);
    };

    it.each([
      ['@ownerOrScope(anyOf: ["support"])', '@requiresScope(anyOf: ["support"])', 'AUTH_RULE_NARROWED', 'DANGEROUS'],
      ['@ownerOrScope(anyOf: ["support"])', '@requiresScope(anyOf: ["support", "admin"])', 'AUTH_RULE_WEAKENED', 'BREAKING'],
      ['@ownerOrScope(anyOf: ["support"])', '@signedIn', 'AUTH_RULE_WEAKENED', 'BREAKING'],
      ['@ownerOrScope(anyOf: ["support"])', '@ownerOrScope(anyOf: ["support", "support"])', undefined, undefined],
      ['@ownerOrScope(anyOf: ["support"])', '@ownerOrScope(anyOf: "support")', undefined, undefined],
    ])('%s → %s', async (from, to, type, criticality) => {
      expect(await kindChange(from, to)).toEqual(type ? [[type, criticality]] : []);
    });

    it('treats @signedIn → @requiresScope as weakened: a scope holder need not be signed in as a user', async () => {
      const reviews = edit(AUTH_REVIEWS, 'Review! @signedIn', 'Review! @requiresScope(anyOf: ["reviewer"])');
      const withDirective = edit(
        edit(reviews, 'import: ["@signedIn"])', 'import: ["@signedIn", "@requiresScope"])\n  @composeDirective(name: "@requiresScope")'),
        'directive @signedIn on FIELD_DEFINITION | OBJECT\n',
        'directive @signedIn on FIELD_DEFINITION | OBJECT\n"The caller must hold one of these scopes."\ndirective @requiresScope(anyOf: [String!]!) on FIELD_DEFINITION | OBJECT\n',
      );
      const report = await check(await authProject({ reviews: withDirective }));
      expect(report.exitCode).toBe(1);
      expect(report.changes).toEqual([
        expect.objectContaining({
          type: 'AUTH_RULE_WEAKENED',
          path: 'Mutation.addReview',
          message:
            'Mutation.addReview: authorization rule @signedIn became @requiresScope(anyOf: ["reviewer"]): a caller with scope "reviewer" who is not signed in as a user (e.g. a service credential) can now call it (before: only a signed-in user).',
        }),
      ]);
    });
  });

  it('leaves a removed field with a rule to the API diff', async () => {
    const catalog = edit(AUTH_CATALOG, '  "What the shop pays for it."\n  costCents: Int @requiresScope(anyOf: ["admin"])\n', '');
    const report = await check(await authProject({ catalog }));
    expect(report.changes?.map((c) => [c.type, c.path])).toEqual([['FIELD_REMOVED', 'Product.costCents']]);
  });

  it('writes authorization changes to --json with their rules', async () => {
    const dir = await authProject({ catalog: withoutCostRule });
    const result = cli([...args(dir), '--json', join(dir, 'report.json')]);
    expect(result.code).toBe(1);
    const json = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
    expect(json).toMatchObject({
      exitCode: 1,
      changes: [
        {
          type: 'AUTH_RULE_REMOVED',
          path: 'Product.costCents',
          category: 'authorization',
          criticality: 'BREAKING',
          status: 'failed',
          rules: { before: [{ kind: 'requiresScope', anyOf: ['admin'] }], after: [] },
        },
      ],
    });
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
        message: 'mutation productCreate should start with a verb: create, update, delete, add, remove, restock, place, cancel, set, sign, refresh',
      }),
    ]);
  });

  it('accepts the identity mutations: sign up, in and out, refresh a session', async () => {
    const mutations = ['signUp', 'signIn', 'signOut', 'refreshSession'].map((name) => `  "${name}."\n  ${name}(token: String): Boolean\n`).join('');
    const { exitCode, lint } = await lintOf({ catalog: edit(CATALOG, 'type Mutation {\n', `type Mutation {\n${mutations}`) });
    expect(lint).toEqual([]);
    expect(exitCode).toBe(0);

    const { lint: signage } = await lintOf({ catalog: edit(CATALOG, 'type Mutation {\n', 'type Mutation {\n  "Not a verb."\n  signage: Boolean\n') });
    expect(signage).toEqual([expect.objectContaining({ rule: 'mutation-verb-first', coordinate: 'Mutation.signage' })]);
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
