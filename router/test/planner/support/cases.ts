import type { GraphQLResolverMap } from '@apollo/subgraph';

/**
 * Fixture supergraphs, one per query-planner bug the patches fix (docs/planner-patches.md). Each is
 * the smallest set of subgraphs that makes stock @apollo/gateway 2.14.4 answer wrongly; the data is
 * tiny and fixed so that the tests can assert exact answers.
 */
export interface FixtureSubgraph {
  name: string;
  typeDefs: string;
  resolvers: GraphQLResolverMap<unknown>;
}

export interface FixtureCase {
  name: string;
  subgraphs: FixtureSubgraph[];
}

const LINK = (imports: string[]) =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: [${imports.map((i) => `"${i}"`).join(', ')}])`;

// ---------------------------------------------------------------------------------------------
// 1. @requires where the requiring subgraph's first key is not resolvable.
// Starting from `shipping` (deliverable), the planner fetches priceCents from `catalog` and then
// the entity back from `shipping` with the first key it finds there (`sku`, declared
// resolvable: false): `shipping` cannot look it up and the product turns null.

const CATALOG = [
  { id: '1', sku: 'BOOK-1', name: 'Novel', priceCents: 1_500 },
  { id: '2', sku: 'LAMP-2', name: 'Lamp', priceCents: 8_000 },
];

export const requiresNonResolvableKey: FixtureCase = {
  name: 'requires-non-resolvable-key',
  subgraphs: [
    {
      name: 'catalog',
      typeDefs: `${LINK(['@key'])}
        type Query { product(id: ID!): Product products: [Product!]! }
        type Product @key(fields: "id") @key(fields: "sku") {
          id: ID!
          sku: String!
          name: String!
          priceCents: Int!
        }`,
      resolvers: {
        Query: {
          product: (_: unknown, { id }: { id: string }) => CATALOG.find((p) => p.id === id) ?? null,
          products: () => CATALOG,
        },
        Product: {
          __resolveReference: (ref: { id?: string; sku?: string }) =>
            CATALOG.find((p) => (ref.id !== undefined ? p.id === ref.id : p.sku === ref.sku)) ?? null,
        },
      },
    },
    {
      name: 'shipping',
      // Shipping keeps its rates by product id; a sku is only something it can hand out.
      typeDefs: `${LINK(['@key', '@external', '@requires'])}
        type Query { deliverable: [Product]! }
        type Product @key(fields: "sku", resolvable: false) @key(fields: "id") {
          id: ID!
          sku: String!
          priceCents: Int! @external
          shippingCents: Int! @requires(fields: "priceCents")
        }`,
      resolvers: {
        Query: { deliverable: () => CATALOG.map(({ id, sku }) => ({ id, sku })) },
        Product: {
          __resolveReference: (ref: { id?: string; priceCents?: number }) => {
            const product = ref.id === undefined ? undefined : CATALOG.find((p) => p.id === ref.id);
            return product ? { id: product.id, sku: product.sku, priceCents: ref.priceCents } : null;
          },
          shippingCents: (product: { priceCents: number }) => (product.priceCents >= 5_000 ? 0 : 499),
        },
      },
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// 2. A field no subgraph can serve. `Node.field` exists only on b's @interfaceObject, whose key is
// not resolvable, and Node has no implementation anywhere: the planner prunes the field, and a
// query of nothing else gets an empty plan.

export const unreachableInterfaceField: FixtureCase = {
  name: 'unreachable-interface-field',
  subgraphs: [
    {
      name: 'a',
      typeDefs: `${LINK(['@key'])}
        type Query { a: Node }
        interface Node @key(fields: "id") { id: ID! }`,
      resolvers: {
        Query: { a: () => ({ __typename: 'Node', id: 'n1' }) },
        Node: { __resolveType: () => 'Node' },
      },
    },
    {
      name: 'b',
      typeDefs: `${LINK(['@key', '@interfaceObject'])}
        type Query { b: Node }
        type Node @key(fields: "id", resolvable: false) @interfaceObject { id: ID! field: String }`,
      resolvers: {
        Query: { b: () => ({ id: 'n1' }) },
        Node: { field: () => 'foo' },
      },
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// 3. @requires of a field with arguments, next to the same field with other arguments in the
// client's query (apollographql/federation#2996, #2276; apollographql/router#5000).

const COMMENTS = [
  { id: 'c1', postId: 'p1', body: 'first', authorId: 'u1' },
  { id: 'c2', postId: 'p1', body: 'second', authorId: 'u2' },
  { id: 'c3', postId: 'p1', body: 'third', authorId: 'u3' },
  { id: 'c4', postId: 'p1', body: 'fourth', authorId: 'u1' },
  { id: 'c5', postId: 'p2', body: 'fifth', authorId: 'u2' },
];
const POSTS = [
  { id: 'p1', title: 'Hello', tags: ['news', 'Tech'] },
  { id: 'p2', title: 'Again', tags: [] },
];
const USERS: Record<string, string> = { u1: 'Ada', u2: 'Grace', u3: 'Edsger' };

export const requiresWithArguments: FixtureCase = {
  name: 'requires-with-arguments',
  subgraphs: [
    {
      name: 'posts',
      typeDefs: `${LINK(['@key'])}
        type Query { post(id: ID!): Post posts: [Post!]! }
        type Post @key(fields: "id") {
          id: ID!
          title: String!
          comments(limit: Int!): [Comment!]!
          tags(upper: Boolean = false): [String!]!
        }
        type Comment @key(fields: "id") { id: ID! body: String! authorId: ID! }`,
      resolvers: {
        Query: {
          post: (_: unknown, { id }: { id: string }) => POSTS.find((p) => p.id === id) ?? null,
          posts: () => POSTS,
        },
        Post: {
          __resolveReference: (ref: { id: string }) => POSTS.find((p) => p.id === ref.id) ?? null,
          comments: (post: { id: string }, { limit }: { limit: number }) => COMMENTS.filter((c) => c.postId === post.id).slice(0, limit),
          tags: (post: { tags: string[] }, { upper }: { upper: boolean }) => post.tags.map((t) => (upper ? t.toUpperCase() : t)),
        },
        Comment: { __resolveReference: (ref: { id: string }) => COMMENTS.find((c) => c.id === ref.id) ?? null },
      },
    },
    {
      name: 'people',
      // The names of whoever wrote the newest three comments (people owns the names), and a hashtag
      // line made of the tags as they are stored (`tags` with its default argument).
      typeDefs: `${LINK(['@key', '@external', '@requires'])}
        type Post @key(fields: "id") {
          id: ID!
          comments(limit: Int!): [Comment!]! @external
          recentCommenters: [String!]! @requires(fields: "comments(limit: 3) { authorId }")
          tags(upper: Boolean = false): [String!]! @external
          hashtags: String! @requires(fields: "tags")
        }
        type Comment @key(fields: "id", resolvable: false) { id: ID! authorId: ID! @external }`,
      resolvers: {
        Post: {
          __resolveReference: (ref: { id: string; comments?: { authorId: string }[]; tags?: string[] }) => ref,
          recentCommenters: (post: { comments: { authorId: string }[] }) => post.comments.map((c) => USERS[c.authorId] ?? '?'),
          hashtags: (post: { tags: string[] }) => post.tags.map((t) => `#${t}`).join(' '),
        },
      },
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// 4. Two @requires of one field with different arguments: price in USD for one computed field,
// in EUR for the other.

const PRODUCTS = [
  { upc: 'u1', name: 'Kettle', usd: 5_200, eur: 4_800, weightGrams: 1_200 },
  { upc: 'u2', name: 'Mug', usd: 1_000, eur: 900, weightGrams: 300 },
];
/** Free shipping from 50.00 in either currency, else a base rate plus a rate per started kilogram. */
export const shippingFor = (price: number, weightGrams: number) => (price >= 5_000 ? 0 : 300 + 100 * Math.ceil(weightGrams / 1_000));

export const requiresArgumentConflict: FixtureCase = {
  name: 'requires-argument-conflict',
  subgraphs: [
    {
      name: 'pricing',
      typeDefs: `${LINK(['@key'])}
        type Query { products: [Product!]! }
        type Product @key(fields: "upc") {
          upc: String!
          name: String!
          price(currency: String!): Int!
          weightGrams: Int!
        }`,
      resolvers: {
        Query: { products: () => PRODUCTS },
        Product: {
          __resolveReference: (ref: { upc: string }) => PRODUCTS.find((p) => p.upc === ref.upc) ?? null,
          price: (product: { usd: number; eur: number }, { currency }: { currency: string }) => {
            if (currency === 'USD') return product.usd;
            if (currency === 'EUR') return product.eur;
            throw new Error(`unknown currency ${currency}`);
          },
        },
      },
    },
    {
      name: 'delivery',
      // Delivery charges by the EUR price in Europe and by the USD price elsewhere.
      typeDefs: `${LINK(['@key', '@external', '@requires'])}
        type Query { shippable: [Product!]! }
        type Product @key(fields: "upc") {
          upc: String!
          carrier: String!
          price(currency: String!): Int! @external
          weightGrams: Int! @external
          shippingUSD: Int! @requires(fields: "price(currency: \\"USD\\") weightGrams")
          shippingEUR: Int! @requires(fields: "price(currency: \\"EUR\\") weightGrams")
        }`,
      resolvers: {
        Query: { shippable: () => PRODUCTS.map(({ upc }) => ({ upc })) },
        Product: {
          __resolveReference: (ref: { upc: string; price?: number; weightGrams?: number }) => ref,
          carrier: (product: { upc: string }) => (product.upc === 'u1' ? 'Post' : 'Courier'),
          shippingUSD: (product: { price: number; weightGrams: number }) => shippingFor(product.price, product.weightGrams),
          shippingEUR: (product: { price: number; weightGrams: number }) => shippingFor(product.price, product.weightGrams),
        },
      },
    },
  ],
};

export const PRODUCT_DATA = PRODUCTS;
export const ALL_CASES = [requiresNonResolvableKey, unreachableInterfaceField, requiresWithArguments, requiresArgumentConflict];
