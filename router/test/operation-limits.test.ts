import { readdirSync, readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  Kind,
  getIntrospectionQuery,
  parse,
  print,
  validate,
  visit,
  type DefinitionNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_OPERATION_LIMITS,
  createOperationGuard,
  measureDocument,
  readListSizes,
  type OperationGuard,
  type OperationLimits,
  type OperationRequest,
} from '../src/operation-limits.ts';

const SUPERGRAPH_URL = new URL('../supergraph.graphql', import.meta.url);
const OPERATION_FOLDERS = [new URL('../operations/', import.meta.url), new URL('../../scripts/bench/operations/', import.meta.url)];

let supergraphSdl: string;
let apiSchema: GraphQLSchema;
let gateway: ApolloGateway;
let guard: OperationGuard;

beforeAll(async () => {
  process.env.APOLLO_TELEMETRY_DISABLED = '1';
  supergraphSdl = readFileSync(SUPERGRAPH_URL, 'utf8');
  gateway = new ApolloGateway({ supergraphSdl });
  ({ schema: apiSchema } = await gateway.load());
  guard = createOperationGuard({ supergraphSdl, apiSchema, limits: DEFAULT_OPERATION_LIMITS });
});

afterAll(async () => {
  await gateway?.stop();
});

const check = (query: string, variables?: Record<string, unknown> | null, operationName?: string | null) => guard({ query, variables, operationName });
const guardWith = (limits: Partial<OperationLimits>, sdl = supergraphSdl) =>
  createOperationGuard({ supergraphSdl: sdl, apiSchema, limits: { ...DEFAULT_OPERATION_LIMITS, ...limits } });
const repeat = (n: number, item: (i: number) => string) => Array.from({ length: n }, (_, i) => item(i)).join(' ');
const tooComplex = (limit: string, max: number, actual?: number) => ({
  code: 'QUERY_TOO_COMPLEX',
  limit,
  max,
  ...(actual === undefined ? {} : { actual }),
});

/** Every operation in the folders, with the fragments it spreads, as a client sends it. */
function projectOperations(): { name: string; request: OperationRequest; variableDefinitions: OperationDefinitionNode['variableDefinitions'] }[] {
  const result = [];
  for (const folder of OPERATION_FOLDERS) {
    const definitions: DefinitionNode[] = readdirSync(folder)
      .filter((file) => file.endsWith('.graphql'))
      .sort()
      .flatMap((file) => parse(readFileSync(new URL(file, folder), 'utf8')).definitions);
    const fragments = new Map(
      definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((fragment) => [fragment.name.value, fragment]),
    );
    for (const operation of definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)) {
      const used = new Set<string>();
      const collect = (node: OperationDefinitionNode | FragmentDefinitionNode) =>
        visit(node, {
          FragmentSpread(spread) {
            const fragment = fragments.get(spread.name.value);
            if (fragment && !used.has(spread.name.value)) {
              used.add(spread.name.value);
              collect(fragment);
            }
          },
        });
      collect(operation);
      const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [operation, ...[...used].map((name) => fragments.get(name)!)] };
      result.push({
        name: `${folder.pathname.split('/').slice(-3, -1).join('/')}: ${operation.name?.value ?? '(anonymous)'}`,
        request: { query: print(document), operationName: operation.name?.value ?? null },
        variableDefinitions: operation.variableDefinitions,
      });
    }
  }
  return result;
}

describe('operation limits: the project’s own operations', () => {
  it('finds the operations to check', () => {
    expect(projectOperations().length).toBeGreaterThanOrEqual(9);
  });

  it('lets every operation in router/operations and scripts/bench/operations through, with and without variables at the largest page size', () => {
    for (const { name, request, variableDefinitions } of projectOperations()) {
      expect(guard(request), name).toBeNull();
      // Every Int variable at 100, the largest page any service serves.
      const largest = Object.fromEntries(
        (variableDefinitions ?? []).filter((v) => print(v.type).replace('!', '') === 'Int').map((v) => [v.variable.name.value, 100]),
      );
      expect(guard({ ...request, variables: largest }), name).toBeNull();
    }
  });

  it('counts depth, aliases and directives as the graphql-armor rules do (fragments flattened)', () => {
    const documents = [
      ...projectOperations().map(({ request }) => request.query),
      `query A($on: Boolean!) { a: product(id: "1") { b: reviews(first: 2) @include(if: $on) { ...R c: author { id } } } }
       fragment R on Review { d: id e: rating @skip(if: false) product { ...P } }
       fragment P on Product { f: name g: reviews { id @include(if: true) } }
       query B { ...Q ...Q } fragment Q on Query { x: user(id: "1") { ...U } y: user(id: "2") { ...U } } fragment U on User { n: name }`,
    ];
    for (const query of documents) {
      const document = parse(query);
      const armor: Record<string, number> = {};
      const record = (key: string) => (_context: unknown, details: { n: number }) => {
        armor[key] = Math.max(armor[key] ?? 0, details.n);
      };
      const errors = validate(apiSchema, document, [
        maxDepthRule({ n: 1000, flattenFragments: true, onAccept: [record('depth')] }),
        maxAliasesRule({ n: 1000, allowList: [], onAccept: [record('aliases')] }),
        maxDirectivesRule({ n: 1000, onAccept: [record('directives')] }),
      ]);
      expect(errors).toEqual([]);
      expect(measureDocument(document)).toEqual(armor);
    }
  });
});

describe('operation limits: depth, aliases, directives, tokens', () => {
  it('rejects nesting deeper than the limit', () => {
    // user → reviews → author → … : 14 fields deep, 1 node per list.
    const query = `{ user(id: "1") { ${'reviews(first: 1) { author { '.repeat(6)} id ${'} } '.repeat(6)} } }`;
    expect(check(query)).toEqual({
      message: 'Query is too deep: it nests 14 fields deep; the limit is 12.',
      extensions: tooComplex('depth', 12, 14),
    });
    expect(guardWith({ maxDepth: 14 })({ query })).toBeNull();
  });

  it('counts fields through fragments, a fragment adding no level', () => {
    const query = `{ user(id: "1") { ...A } } fragment A on User { reviews(first: 1) { ...B } } fragment B on Review { author { ...A } }`;
    // A cycle: no hang, no throw; Apollo's NoFragmentCycles answers it.
    expect(check(query)).toBeNull();
    const deep = `{ user(id: "1") { ...A1 } } ${repeat(6, (i) => `fragment A${i + 1} on User { reviews(first: 1) { author { ${i < 5 ? `...A${i + 2}` : 'id'} } } }`)}`;
    expect(check(deep)?.extensions).toEqual(tooComplex('depth', 12, 14));
  });

  it('rejects nesting that would overflow a recursive parser, before parsing', () => {
    const query = `{ ${'a {'.repeat(1600)} b ${'}'.repeat(1600)} }`;
    expect(() => check(query)).not.toThrow();
    expect(check(query)?.extensions).toEqual(tooComplex('depth', 12, 1601));
    // Fragments nested through inline fragments add no depth, but every walk recurses through them,
    // whatever order they are defined in.
    const fragments = repeat(100, (i) => `fragment F${99 - i} on User { ... on User { ${i === 0 ? 'id' : `...F${100 - i}`} } }`);
    for (const chain of [`{ user(id: "1") { ...F0 } } ${fragments}`, `${fragments} { user(id: "1") { ...F0 } }`]) {
      expect(() => check(chain)).not.toThrow();
      expect(check(chain)?.extensions).toEqual(tooComplex('depth', 12, 65));
    }
  });

  it('rejects 1,000 and 10,000 aliases without running validation', () => {
    const fields = (n: number) => repeat(n, (i) => `a${i}: user(id: "1") { id }`);
    const aliases = (n: number) => `{ ${fields(n)} }`;
    const typenames = (n: number) => `{ ${repeat(n, (i) => `a${i}: __typename`)} }`;
    expect(check(typenames(1000))).toEqual({
      message: 'Query has too many aliases: 1000; the limit is 30.',
      extensions: tooComplex('aliases', 30, 1000),
    });
    // 1,000 aliased lookups are 11,000 tokens, 10,000 are 110,000: the token limit stops the lexer first.
    expect(check(aliases(1000))?.extensions).toEqual(tooComplex('tokens', 5000));
    expect(check(aliases(10_000))?.extensions).toEqual(tooComplex('tokens', 5000));
    expect(check(typenames(10_000))?.extensions).toEqual(tooComplex('tokens', 5000));
    // With tokens allowed, the alias count rejects it.
    expect(guardWith({ maxTokens: 1_000_000 })({ query: aliases(10_000) })?.extensions).toEqual(tooComplex('aliases', 30, 10_000));
    // Also when the aliases are in an operation that is not selected, or in a fragment no operation uses: validation would still visit them.
    expect(check(`query A { __typename } query B ${aliases(40)}`, null, 'A')?.extensions).toEqual(tooComplex('aliases', 30, 40));
    expect(check(`{ __typename } fragment F on Query { ${fields(40)} }`)?.extensions).toEqual(tooComplex('aliases', 30, 40));
  });

  it('counts a fragment once per spread, and a fragment cycle does not lower the count', () => {
    const fragment = `fragment F on Query { ${repeat(10, (i) => `f${i}: __typename`)} }`;
    expect(check(`{ ...F ...F ...F ...F } ${fragment}`)?.extensions).toEqual(tooComplex('aliases', 30, 40));
    const cycle = `{ ...A } fragment A on Query { ${repeat(31, (i) => `a${i}: __typename`)} ...B } fragment B on Query { ...A }`;
    expect(check(cycle)?.extensions).toEqual(tooComplex('aliases', 30, 31));
  });

  it('rejects a directive flood', () => {
    expect(check(`{ __typename ${'@skip(if: false) '.repeat(60)} }`)).toEqual({
      message: 'Query has too many directives: 60; the limit is 50.',
      extensions: tooComplex('directives', 50, 60),
    });
  });

  it('rejects a huge token count without counting past the limit', () => {
    expect(check(`{ ${'__typename '.repeat(100_000)} }`)).toEqual({
      message: 'Query is too large: it has more than 5000 tokens; the limit is 5000.',
      extensions: tooComplex('tokens', 5000),
    });
  });

  it('leaves syntax errors to Apollo', () => {
    expect(check('{ user(id: "1") { id }')).toBeNull();
    expect(check('')).toBeNull();
    expect(check('{ a: "unterminated }')).toBeNull();
  });

  it('lets the standard GraphiQL introspection query and deep __type lookups through', () => {
    expect(check(getIntrospectionQuery())).toBeNull();
    const full = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true });
    expect(check(full, null, 'IntrospectionQuery')).toBeNull();
    expect(check(`{ __type(name: "Product") { fields { type { ${'ofType { '.repeat(12)} name ${'} '.repeat(12)} } } } }`)).toBeNull();
  });
});

describe('operation limits: root fields', () => {
  it('rejects too many root fields in the selected operation, counting fragments at the root', () => {
    const products = (n: number) => repeat(n, (i) => `p${i}: product(id: "${i + 1}") { id }`);
    expect(check(`{ ${products(21)} }`)).toEqual({
      message: 'Query selects too many root fields: 21; the limit is 20.',
      extensions: tooComplex('rootFields', 20, 21),
    });
    expect(check(`{ ${products(20)} }`)).toBeNull();
    expect(check(`{ ...F ... on Query { __typename } } fragment F on Query { ${products(20)} }`)?.extensions).toEqual(tooComplex('rootFields', 20, 21));
    // Only the operation that runs: the other one is not counted (its aliases still are).
    const two = `query Small { __typename } query Large { ${products(21)} }`;
    expect(check(two, null, 'Small')).toBeNull();
    expect(check(two, null, 'Large')?.extensions).toEqual(tooComplex('rootFields', 20, 21));
    // No operation can be selected: a client mistake the gateway would answer with a 500.
    expect(check(two)?.extensions).toEqual({ code: 'BAD_USER_INPUT' });
    expect(check(two, null, 'Missing')).toEqual({ message: 'The document has no operation named "Missing".', extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('rejects more than 5 mutations in one request', () => {
    const restocks = (n: number) => `mutation { ${repeat(n, (i) => `r${i}: restock(productId: "${i + 1}", quantity: 1) { product { id } }`)} }`;
    expect(check(restocks(5))).toBeNull();
    expect(check(restocks(6))).toEqual({
      message: 'Too many mutations in one request: 6; the limit is 5. Send them in separate requests.',
      extensions: tooComplex('mutationRootFields', 5, 6),
    });
  });
});

describe('operation limits: fields once fragments are expanded', () => {
  // Each fragment spreads the previous one twice, once through an inline fragment: no depth, no
  // alias, and with `first: 0` no node is added, but the planner walks every copy (12 steps took it 0.5 s).
  const doubling = (steps: number, first: number) =>
    `{ user(id: "1") { ...F${steps} } } fragment F0 on User { name reviews(first: ${first}) { product { name reviews(first: ${first}) { rating author { email } } } } } ` +
    repeat(steps, (i) => `fragment F${i + 1} on User { ...F${i} ... on User { ...F${i} } }`);

  it('rejects an operation whose fragments expand past the field limit, whatever its lists cost', () => {
    expect(check(doubling(5, 0))).toBeNull(); // 257 fields
    expect(check(doubling(6, 0))).toEqual({
      message: 'Query is too large: it selects 513 fields once its fragments are expanded; the limit is 500.',
      extensions: tooComplex('fields', 500, 513),
    });
    expect(check(doubling(20, 1))?.extensions).toEqual(tooComplex('fields', 500, 2 ** 23 + 1));
  });

  it('counts introspection fields too, and GraphiQL’s query stays well inside the limit', () => {
    expect(guardWith({ maxFields: 230 })({ query: getIntrospectionQuery() })).toBeNull();
    expect(guardWith({ maxFields: 200 })({ query: getIntrospectionQuery() })?.extensions).toMatchObject({ limit: 'fields' });
  });
});

describe('operation limits: nodes', () => {
  it('prices nested lists as the rows they can return (user → reviews → author → reviews …)', () => {
    const query = `{ user(id: "1") { reviews { author { reviews { author { reviews { author { reviews { id } } } } } } } } }`;
    // 20 + 20² + 20³ + 20⁴: every list at its assumed page size of 20.
    expect(check(query)).toEqual({
      message: 'Query is too complex: it may return 168420 nodes; the limit is 10000. Lower the "first" arguments.',
      extensions: tooComplex('nodes', 10_000, 168_420),
    });
    // With smaller pages the same shape passes: 5 + 25 + 125 + 625.
    expect(check(query.replaceAll('reviews {', 'reviews(first: 5) {'))).toBeNull();
  });

  it('prices a connection by its sized field, and lists without a slicing argument at their assumed size', () => {
    expect(check('{ products(first: 10000) { nodes { reviews(first: 100) { id } } } }')).toEqual({
      message: 'Query is too complex: it may return 1010000 nodes; the limit is 10000. Lower the "first" arguments.',
      extensions: tooComplex('nodes', 10_000, 1_010_000),
    });
    // products (first 100) → 100 nodes; orders 20 each → 2,000; items 50 each → 100,000.
    const orders = '{ users(first: 100) { nodes { orders { items { quantity } } } pageInfo { hasNextPage } } }';
    expect(check(orders)?.extensions).toEqual(tooComplex('nodes', 10_000, 102_100));
  });

  it('prices first: 1000000 as a million, as a literal, a variable or a variable default', () => {
    expect(check('{ products(first: 1000000) { nodes { id } } }')?.extensions).toEqual(tooComplex('nodes', 10_000, 1_000_000));
    const byVariable = 'query Page($first: Int) { products(first: $first) { nodes { id } } }';
    expect(check(byVariable, { first: 1_000_000 })?.extensions).toEqual(tooComplex('nodes', 10_000, 1_000_000));
    expect(check(byVariable, { first: 100 })).toBeNull();
    // The cached analysis of the same text prices every request's variables anew.
    expect(check(byVariable, { first: 1_000_000 })?.extensions).toEqual(tooComplex('nodes', 10_000, 1_000_000));
    const byDefault = 'query Page($first: Int = 1000000) { products(first: $first) { nodes { id } } }';
    expect(check(byDefault)?.extensions).toEqual(tooComplex('nodes', 10_000, 1_000_000));
    expect(check(byDefault, { first: 10 })).toBeNull();
    // An explicit null is no slicing argument: the assumed page size applies.
    expect(check(byDefault, { first: null })).toBeNull();
  });

  it('follows fragments and inline fragments, and prices a fragment spread many times without expanding it', () => {
    const query = `{ user(id: "1") { ...U } } fragment U on User { reviews(first: 100) { ... on Review { author { ...V } } } } fragment V on User { orders(first: 100) { id } }`;
    expect(check(query)?.extensions).toEqual(tooComplex('nodes', 10_000, 10_100));
    // 40 fragments, each spreading the previous one twice: 2^40 lists, priced without expanding them.
    const doubling = `{ user(id: "1") { ...F40 } } fragment F0 on User { orders(first: 1) { id } } ${repeat(40, (i) => `fragment F${i + 1} on User { ...F${i} ...F${i} }`)}`;
    expect(guardWith({ maxFields: Number.MAX_SAFE_INTEGER })({ query: doubling })?.extensions).toEqual(tooComplex('nodes', 10_000, 2 ** 40));
  });

  it('prices a list without @listSize at the default list size (100 unless configured)', () => {
    const unannotated = supergraphSdl.replace(/(items: \[OrderItem!\]![^\n]*?) @listSize\(assumedSize: 50\)/, '$1');
    expect(unannotated).not.toBe(supergraphSdl);
    const query = '{ user(id: "1") { orders(first: 100) { items { quantity } } } }';
    expect(check(query)).toBeNull(); // 100 + 100 × 50
    expect(guardWith({}, unannotated)({ query })?.extensions).toEqual(tooComplex('nodes', 10_000, 10_100)); // 100 + 100 × 100
    const smaller = createOperationGuard({ supergraphSdl: unannotated, apiSchema, limits: DEFAULT_OPERATION_LIMITS, defaultListSize: 10 });
    expect(smaller({ query })).toBeNull();
  });

  it('prices a connection’s Relay-style edges like its nodes (sizedFields names both)', () => {
    const tight = guardWith({ maxNodes: 100 });
    expect(tight({ query: '{ products(first: 100) { edges { cursor node { id } } } }' })).toBeNull();
    expect(tight({ query: '{ products(first: 100) { nodes { id } edges { cursor node { id } } } }' })?.extensions).toEqual(tooComplex('nodes', 100, 200));
    expect(tight({ query: '{ product(id: "1") { reviewsConnection(first: 60) { edges { node { id } } nodes { id } } } }' })?.extensions).toEqual(tooComplex('nodes', 100, 120));
    expect(tight({ query: '{ me { ordersConnection(first: 50) { edges { cursor node { id } } nodes { id } } } }' })).toBeNull();
  });

  it('reads @listSize from the supergraph, and enforces requireOneSlicingArgument when set', () => {
    const sizes = readListSizes(supergraphSdl);
    expect(sizes.get('Query')?.get('products')).toEqual({ assumedSize: 20, slicingArguments: ['first'], sizedFields: ['nodes', 'edges'], requireOneSlicingArgument: false });
    expect(sizes.get('Order')?.get('items')).toEqual({ assumedSize: 50, slicingArguments: [], sizedFields: [], requireOneSlicingArgument: true });
    const strict = supergraphSdl.replace(
      /(products\(first: Int, after: String, category: Category\): ProductConnection![^\n]*requireOneSlicingArgument: )false/,
      '$1true',
    );
    expect(strict).not.toBe(supergraphSdl);
    const strictGuard = guardWith({}, strict);
    expect(strictGuard({ query: '{ products { nodes { id } } }' })).toEqual({
      message: 'The "products" field needs exactly one of its "first" arguments.',
      extensions: { code: 'BAD_USER_INPUT', field: 'products' },
    });
    expect(strictGuard({ query: 'query ($n: Int) { page: products(first: $n) { nodes { id } } }', variables: {} })?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'page',
    });
    expect(strictGuard({ query: '{ products(first: 5) { nodes { id } } }' })).toBeNull();
  });
});

// The cost spec's @listSize may be imported under another name, or not imported at all and then
// used namespaced (`@cost__listSize`, or `@<as>__listSize` when the @link is renamed): the price
// must follow the name this supergraph gives it, never a same-named directive of another spec.
describe('operation limits: which directive is @listSize', () => {
  const COST = 'https://specs.apollo.dev/cost/v0.1';
  /** A supergraph-like SDL whose field `a` carries @<name>(assumedSize: 7) and `b` @listSize(assumedSize: 9). */
  const sdl = (schema: string, name: string) => `${schema}
type Query { a: [Int] @${name}(assumedSize: 7) b: [Int] @listSize(assumedSize: 9) }`;
  const sizesOf = (text: string) => {
    const query = readListSizes(text).get('Query');
    return { a: query?.get('a')?.assumedSize ?? null, b: query?.get('b')?.assumedSize ?? null };
  };

  it.each([
    ['imported as is', `schema @link(url: "${COST}", import: ["@listSize"]) { query: Query }`, 'listSize', { a: 7, b: 9 }],
    ['imported under another name', `schema @link(url: "${COST}", import: [{ name: "@listSize", as: "@size" }]) { query: Query }`, 'size', { a: 7, b: null }],
    ['renamed without the @', `schema @link(url: "${COST}", import: [{ name: "@listSize", as: "size" }]) { query: Query }`, 'size', { a: 7, b: null }],
    ['imported by name only', `schema @link(url: "${COST}", import: [{ name: "@listSize" }]) { query: Query }`, 'listSize', { a: 7, b: 9 }],
    ['not imported: namespaced by the spec', `schema @link(url: "${COST}", import: ["@cost"]) { query: Query }`, 'cost__listSize', { a: 7, b: null }],
    ['not imported, the link renamed', `schema @link(url: "${COST}", as: "price", import: [{ name: "@cost", as: "@c" }]) { query: Query }`, 'price__listSize', { a: 7, b: null }],
    ['linked in a schema extension', `schema { query: Query } extend schema @link(url: "${COST}", import: [{ name: "@listSize", as: "@size" }])`, 'size', { a: 7, b: null }],
    ['no cost link at all', 'schema { query: Query }', 'listSize', { a: 7, b: 9 }],
  ])('%s', (_what, schema, name, expected) => {
    expect(sizesOf(sdl(schema, name))).toEqual(expected);
  });

  it('ignores @link of other specs, and other directives on the schema, when looking for the cost spec', () => {
    const schema = `schema @tag(name: "x") @link(url: "https://specs.apollo.dev/federation/v2.9", import: [{ name: "@listSize", as: "@other" }]) @link(url: 42) @link(url: "${COST}", import: [{ name: "@listSize", as: "@size" }]) { query: Query }`;
    expect(sizesOf(sdl(schema, 'size'))).toEqual({ a: 7, b: null });
    expect(sizesOf(sdl(schema, 'other'))).toEqual({ a: null, b: null });
  });

  it('reads every argument as the spec defines it, on object and interface types and their extensions', () => {
    const sizes = readListSizes(`schema @link(url: "${COST}", import: ["@listSize"]) { query: Query }
type Query { a: [Int] @listSize(slicingArguments: "first", sizedFields: "nodes") }
extend type Query { b: [Int] @listSize(assumedSize: "7", slicingArguments: ["first", "input.first", 3], requireOneSlicingArgument: false) }
interface Page { items: [Int] @listSize(assumedSize: 3, requireOneSlicingArgument: "no") }
extend interface Page { more: [Int] @listSize(sizedFields: ["edges", "nodes"]) }
type Unsized { c: [Int] @other(assumedSize: 1) }
input Filter { first: Int }`);
    expect(sizes.get('Query')?.get('a')).toEqual({ assumedSize: null, slicingArguments: ['first'], sizedFields: ['nodes'], requireOneSlicingArgument: true });
    expect(sizes.get('Query')?.get('b')).toEqual({ assumedSize: null, slicingArguments: ['first'], sizedFields: [], requireOneSlicingArgument: false });
    expect(sizes.get('Page')?.get('items')).toEqual({ assumedSize: 3, slicingArguments: [], sizedFields: [], requireOneSlicingArgument: true });
    expect(sizes.get('Page')?.get('more')).toEqual({ assumedSize: null, slicingArguments: [], sizedFields: ['edges', 'nodes'], requireOneSlicingArgument: true });
    expect(sizes.has('Unsized')).toBe(false);
    expect(sizes.has('Filter')).toBe(false);
  });
});

describe('operation limits: strings', () => {
  it('rejects a NUL character in a string literal', () => {
    expect(check('{ product(id: "1\\u0000") { id } }')).toEqual({
      message: 'A string literal in the query contains a NUL character (U+0000).',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(check('query ($id: ID = "\\u0000") { product(id: $id) { id } }')?.extensions.code).toBe('BAD_USER_INPUT');
  });

  it('rejects a NUL character in a variable, naming the variable and where in it', () => {
    const addReview = 'mutation ($input: AddReviewInput!) { addReview(input: $input) { review { id } } }';
    expect(check(addReview, { input: { productId: '1', rating: 5, body: 'fine\u0000' } })).toEqual({
      message: 'Variable "$input" contains a NUL character (U+0000) at input.body.',
      extensions: { code: 'BAD_USER_INPUT', variable: 'input', path: 'input.body' },
    });
    expect(check('query ($id: ID!) { product(id: $id) { id } }', { id: '\u0000' })).toEqual({
      message: 'Variable "$id" contains a NUL character (U+0000).',
      extensions: { code: 'BAD_USER_INPUT', variable: 'id', path: 'id' },
    });
  });

  it('rejects a lone surrogate in a variable', () => {
    expect(check('query ($ids: [ID!]) { __typename }', { ids: ['1', 'a\uD800b'] })).toEqual({
      message: 'Variable "$ids" contains a lone surrogate (malformed UTF-16) at ids[1].',
      extensions: { code: 'BAD_USER_INPUT', variable: 'ids', path: 'ids[1]' },
    });
    // A well-formed pair is fine.
    expect(check('query ($id: ID!) { product(id: $id) { id } }', { id: '\uD83D\uDE00' })).toBeNull();
  });

  it('walks deeply nested variables without recursion, within a budget of values', () => {
    let nested: unknown = 'end\u0000';
    for (let i = 0; i < 50_000; i++) nested = [nested];
    expect(check('{ __typename }', { deep: nested })?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', variable: 'deep' });
    expect(check('{ __typename }', { many: Array.from({ length: 100_001 }, () => 1) })?.extensions).toEqual(tooComplex('variableValues', 100_000));
  });
});
