import type { OperationContext } from '@apollo/gateway/dist/operationContext.js';
import { computeResponse } from '@apollo/gateway/dist/resultShaping.js';
import { buildSchema, operationFromDocument, type FieldSelection, type Schema } from '@apollo/federation-internals';
import { Kind, parse, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createResultShaper, type ResultShaper } from '../src/result-shaping.ts';

/**
 * The router's result shaping against @apollo/gateway's own `computeResponse`, on the same
 * operation, variables and merged subgraph answers: the same data (keys in the same order) and the
 * same errors, or the same exception. Clean answers must be shaped by the compiled walk (counted),
 * answers with anything wrong must be handed to the gateway (counted), so neither half can pass
 * by never running.
 */

const SDL = `
  scalar JSON
  enum Color { RED GREEN }
  interface Node { id: ID! }
  type Product implements Node { id: ID! name: String! price: Int weight: Float color: Color tags: [String!] meta: JSON reviews: [Review!]! related: [Product] }
  type Review implements Node { id: ID! stars: Int! body: String author: User }
  type User implements Node { id: ID! email: String! score: Float active: Boolean }
  union SearchResult = Product | User
  type Query { product(id: ID!): Product products: [Product!]! node(id: ID!): Node search(q: String): [SearchResult!]! me: User! }
`;

const schema: Schema = buildSchema(SDL);

/** What the gateway hands its shaping: the operation (built per request, as the gateway does) and its context. */
function prepare(document: ReturnType<typeof parse>, input: Record<string, unknown> | null, variables?: Record<string, unknown>, on: Schema = schema): Parameters<ResultShaper['shape']>[0] {
  const definition = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const fragments = Object.fromEntries(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  );
  const operation = operationFromDocument(on, document, { validate: false });
  return {
    operation,
    operationContext: { operation: definition, fragments } as unknown as OperationContext,
    ...(variables ? { variables } : {}),
    input,
    // Stands in for the gateway's introspection: what it was asked, so both sides must ask the same.
    introspectionHandling: (selection: FieldSelection) => ({ asked: selection.toString(), variables: { ...variables } }),
  };
}

type Outcome = { data: unknown; errors: unknown } | { threw: string };

function outcome(run: () => ReturnType<typeof computeResponse>): Outcome {
  try {
    const { data, errors } = run();
    // Through JSON, as the answer goes out: key order kept, errors as the client sees them.
    return { data: JSON.parse(JSON.stringify(data ?? null)), errors: JSON.parse(JSON.stringify(errors)) };
  } catch (error) {
    return { threw: (error as Error).message };
  }
}

/** Ours and stock's outcome for one answer; `input` is cloned for each, so neither can see the other's work. */
function both(shaper: ResultShaper, document: ReturnType<typeof parse>, input: Record<string, unknown> | null, variables?: Record<string, unknown>) {
  const ours = outcome(() => shaper.shape(prepare(document, structuredClone(input), variables)));
  const stock = outcome(() => computeResponse(prepare(document, structuredClone(input), variables)));
  return { ours, stock };
}

const BIG = parse(`
  query Big($withTags: Boolean!, $skipMeta: Boolean = false, $noReviews: Boolean = true) {
    products {
      __typename
      id
      label: name
      price
      weight
      color
      tags @include(if: $withTags)
      meta @skip(if: $skipMeta)
      reviews @skip(if: $noReviews) { stars }
      reviews { id stars body author { email active score kind: __typename } }
      ...ProductBits
      ... on Node { id }
      ... on Review { body }
      related { id name related { id } }
    }
    first: product(id: "1") { name tag: __typename }
    node(id: "2") { id __typename ... on User { email } ... on Product { name } }
    search(q: "x") { __typename ... on Product { id name } ... on User { email } }
    me { email ... @include(if: $withTags) { score } ... @skip(if: true) { active } }
    __type(name: "Product") { name }
    __typename
  }
  fragment ProductBits on Product { name price reviews { body } }
`);

function cleanInput(): Record<string, unknown> {
  const review = (id: number) => ({ id: `r${id}`, stars: id % 5, body: id % 2 ? null : `body ${id}`, author: id % 3 ? { email: `u${id}@example.com`, active: id % 2 === 0, score: id / 3, __typename: 'User' } : null });
  const product = (id: number) => ({
    __typename: 'Product',
    id: String(id),
    name: `product ${id}`,
    label: `product ${id}`,
    price: id * 100,
    weight: id + 0.5,
    color: id % 2 ? 'RED' : 'GREEN',
    tags: ['a', `t${id}`],
    meta: { nested: [1, 'two', { three: 3 }] },
    reviews: [review(id), review(id + 1)],
    related: id % 2 ? [{ id: '9', name: 'nine', related: null }, null] : null,
    ignoredByTheOperation: 'x',
  });
  return {
    products: [product(1), product(2), product(3)],
    first: { name: 'one', __typename: 'Product' },
    node: { id: '2', __typename: 'User', email: 'u2@example.com' },
    search: [{ __typename: 'User', email: 'a@example.com' }, { __typename: 'Product', id: '4', name: 'four', price: 1 }],
    me: { email: 'me@example.com', score: 1.5, active: true },
  };
}

describe('result shaping', () => {
  it('shapes clean answers itself, exactly as the gateway does', () => {
    const shaper = createResultShaper();
    for (const variables of [{ withTags: true }, { withTags: false, skipMeta: true, noReviews: false }, { withTags: true, noReviews: false }]) {
      const { ours, stock } = both(shaper, BIG, cleanInput(), variables);
      expect(ours).toEqual(stock);
      expect('threw' in stock).toBe(false);
      // Key order is part of the answer.
      expect(JSON.stringify(ours)).toBe(JSON.stringify(stock));
    }
    expect(shaper.stats).toEqual({ shaped: 3, fallbacks: 0, compiled: 1 });
  });

  it('gives the fields in the operation’s order, merged across fragments, without what was not selected', () => {
    const shaper = createResultShaper();
    const { ours, stock } = both(shaper, BIG, cleanInput(), { withTags: false });
    expect(ours).toEqual(stock);
    const first = (ours as { data: { products: Record<string, unknown>[] } }).data.products[0]!;
    expect(Object.keys(first)).toEqual(['__typename', 'id', 'label', 'price', 'weight', 'color', 'meta', 'reviews', 'name', 'related']);
    expect(first.reviews).toEqual([
      { id: 'r1', stars: 1, body: null, author: { email: 'u1@example.com', active: false, score: 1 / 3, kind: 'User' } },
      { id: 'r2', stars: 2, body: 'body 2', author: { email: 'u2@example.com', active: true, score: 2 / 3, kind: 'User' } },
    ]);
    const data = (ours as { data: Record<string, unknown> }).data;
    expect(data.first).toEqual({ name: 'one', tag: 'Product' });
    expect(data.search).toEqual([{ __typename: 'User', email: 'a@example.com' }, { __typename: 'Product', id: '4', name: 'four' }]);
    expect(data.me).toEqual({ email: 'me@example.com' });
    expect(data.__typename).toBe('Query');
    expect(shaper.stats.shaped).toBe(1);
  });

  it('asks the gateway’s introspection for __schema/__type fields, with the request’s variables', () => {
    const shaper = createResultShaper();
    const { ours, stock } = both(shaper, BIG, cleanInput(), { withTags: true });
    expect(ours).toEqual(stock);
    expect((ours as { data: { __type: unknown } }).data.__type).toEqual({ asked: '__type(name: "Product") { name }', variables: { withTags: true } });
  });

  it('hands every answer with an error to the gateway, which reports it as it always has', () => {
    const cases: [string, (input: Record<string, any>) => void][] = [
      ['null in a non-null field', (input) => void (input.products[0].name = null)],
      ['null in a non-null list element', (input) => void (input.products[1] = null)],
      ['missing non-null field', (input) => void delete input.me.email],
      ['an enum value the schema lacks', (input) => void (input.products[0].color = 'BLUE')],
      ['an Int given as a string', (input) => void (input.products[0].price = '100')],
      ['a Float given as a string', (input) => void (input.products[0].weight = '1.5')],
      ['a Boolean given as a number', (input) => void (input.products[0].reviews[0].author.active = 1)],
      ['a String given as a number', (input) => void (input.products[0].reviews[1].body = 7)],
      ['an unknown __typename', (input) => void (input.node.__typename = 'Ghost')],
      ['an interface as __typename', (input) => void (input.products[0].__typename = 'Node')],
      ['a scalar as __typename', (input) => void (input.first.__typename = 'String')],
    ];
    for (const [name, mutate] of cases) {
      const shaper = createResultShaper();
      const input = cleanInput();
      mutate(input);
      const { ours, stock } = both(shaper, BIG, input, { withTags: true });
      expect(ours, name).toEqual(stock);
      expect(JSON.stringify(ours), name).toBe(JSON.stringify(stock));
      expect(shaper.stats, name).toEqual({ shaped: 0, fallbacks: 1, compiled: 1 });
    }
  });

  it('leaves an ID given as a number, an Int past the safe range, a custom scalar of any shape and a null in a nullable place to the compiled walk', () => {
    const shaper = createResultShaper();
    const input = cleanInput();
    // The gateway checks an Int's digits, not its range.
    (input.products as Record<string, unknown>[])[1]!.price = 2 ** 60;
    (input.products as Record<string, unknown>[])[0]!.id = 12;
    (input.products as Record<string, unknown>[])[1]!.meta = 'just a string';
    (input.products as Record<string, unknown>[])[2]!.price = null;
    input.node = null;
    const { ours, stock } = both(shaper, BIG, input, { withTags: true });
    expect(ours).toEqual(stock);
    expect(shaper.stats).toEqual({ shaped: 1, fallbacks: 0, compiled: 1 });
  });

  it('throws what the gateway throws for an answer of the wrong shape or a missing variable', () => {
    const cases: [string, (input: Record<string, any>) => void, Record<string, unknown>][] = [
      ['an object where a list belongs', (input) => void (input.products = { 0: {} }), { withTags: true }],
      ['a string where an object belongs', (input) => void (input.me = 'me'), { withTags: true }],
      ['a number as __typename', (input) => void (input.search[0].__typename = 3), { withTags: true }],
      ['no value for a @include variable', () => undefined, {}],
      ['a string for a @skip variable', () => undefined, { withTags: true, skipMeta: 'yes' }],
    ];
    for (const [name, mutate, variables] of cases) {
      const shaper = createResultShaper();
      const input = cleanInput();
      mutate(input);
      const { ours, stock } = both(shaper, BIG, input, variables);
      expect(ours, name).toEqual(stock);
      expect(shaper.stats.fallbacks, name).toBe(1);
    }
  });

  it('compiles each operation once, again for another document or schema', () => {
    const shaper = createResultShaper();
    const text = 'query { me { email } }';
    const document = parse(text);
    for (let i = 0; i < 3; i++) shaper.shape(prepare(document, { me: { email: `${i}@example.com` } }));
    expect(shaper.stats.compiled).toBe(1);
    shaper.shape(prepare(parse(text), { me: { email: 'x@example.com' } }));
    expect(shaper.stats.compiled).toBe(2);
    // The same document against a reloaded schema (a new supergraph): compiled for that schema.
    const reloaded = buildSchema(SDL.replace('me: User!', 'me: User! other: Int'));
    const answer = shaper.shape(prepare(document, { me: { email: 'y@example.com' } }, undefined, reloaded));
    expect(shaper.stats.compiled).toBe(3);
    expect(JSON.parse(JSON.stringify(answer))).toEqual({ data: { me: { email: 'y@example.com' } }, errors: [] });
  });

  it('agrees with the gateway on thousands of damaged answers', () => {
    // Seeded, so a failure is repeatable: each answer is the clean one with a few random changes.
    let seed = 20261202;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const replacements: unknown[] = [null, undefined, 0, -1, 1.5, 2 ** 60, '', 'RED', 'x', true, false, {}, [], [null], 'Product', 'User', 'Review', 'Node', 'Ghost'];
    const places = (value: unknown, into: [Record<string, unknown> | unknown[], string | number][] = []) => {
      if (value && typeof value === 'object') {
        for (const [key, child] of Object.entries(value)) {
          into.push([value as Record<string, unknown>, Array.isArray(value) ? Number(key) : key]);
          places(child, into);
        }
      }
      return into;
    };
    const shaper = createResultShaper();
    const variableSets = [{ withTags: true }, { withTags: false, noReviews: false }, { withTags: true, skipMeta: true }];
    for (let i = 0; i < 3000; i++) {
      const input = cleanInput();
      const changes = 1 + Math.floor(random() * 3);
      for (let c = 0; c < changes && random() < 0.9; c++) {
        const [parent, key] = pick(places(input));
        const value = pick(replacements);
        if (value === undefined && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[key as string];
        else (parent as Record<string | number, unknown>)[key] = structuredClone(value);
      }
      const variables = pick(variableSets);
      const { ours, stock } = both(shaper, BIG, input, variables);
      expect(ours, `answer ${i}: ${JSON.stringify(input)}`).toEqual(stock);
      expect(JSON.stringify(ours)).toBe(JSON.stringify(stock));
    }
    // Both halves ran, many times each.
    expect(shaper.stats.shaped).toBeGreaterThan(300);
    expect(shaper.stats.fallbacks).toBeGreaterThan(300);
    expect(shaper.stats.compiled).toBe(1);
  });
});
