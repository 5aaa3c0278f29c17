// The authorization directives (authorization.ts) rule by rule, on a small schema of their own:
// the exact errors, owners that are missing or null, non-null fields and mutations that always
// report, one report per field per request, and what a schema without the directives gets.
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, parse } from 'graphql';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ANONYMOUS, enforceAuthorization, signedInUserId, viewer, type Viewer } from '../src/index.ts';
import { AUTH_DIRECTIVES } from '../src/authorization.ts';
import { execute } from '../src/testing.ts';

const SDL = `
extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@composeDirective"])
  @link(url: "https://commerce-supergraph.dev/auth/v1.0", import: ["@signedIn", "@requiresScope", "@ownerOrScope"])
  @composeDirective(name: "@signedIn")
  @composeDirective(name: "@requiresScope")
  @composeDirective(name: "@ownerOrScope")

directive @signedIn on FIELD_DEFINITION | OBJECT
directive @requiresScope(anyOf: [String!]!) on FIELD_DEFINITION | OBJECT
directive @ownerOrScope(anyOf: [String!]!) on FIELD_DEFINITION | OBJECT

type Query {
  open: String
  members: String @signedIn
  staff: String @requiresScope(anyOf: ["staff", "admin"])
  required: String! @requiresScope(anyOf: ["admin"])
  accounts: [Account]!
  files: [File!]!
  ledger: Ledger
  "A root field has no parent object to own."
  mine: Int @ownerOrScope(anyOf: ["admin"])
}

type Mutation {
  act: Int @signedIn
}

"Guarded as a type; one field overrides it."
type Account @ownerOrScope(anyOf: ["admin"]) {
  id: ID!
  balance: Int
  name: String @signedIn
  secret: String @requiresScope(anyOf: ["admin"])
}

"No owner function is given for File: only the scope opens it."
type File {
  id: ID!
  body: String @ownerOrScope(anyOf: ["auditor"])
}

type Ledger @key(fields: "id") {
  id: ID!
  total: Int @ownerOrScope(anyOf: ["admin"])
}
`;

const accounts = [
  { id: 1, owner: 7, balance: 10, name: 'a', secret: 's1' },
  { id: 2, owner: null, balance: 20, name: 'b', secret: 's2' },
  { id: 3, owner: undefined, balance: 30, name: 'c', secret: 's3' },
  { id: 4, owner: 8, balance: 40, name: 'd', secret: 's4' },
];
let acted = 0;
let server: ApolloServer<{ viewer: Viewer }>;
let guarded: string[];

// Built again for every test, not once in beforeAll: mutation testing (StrykerJS, perTest coverage)
// credits only code that runs inside a test or its beforeEach to that test, so a schema guarded in
// beforeAll would leave every test blind to a fault in enforceAuthorization's set-up.
beforeEach(async () => {
  const schema = buildSubgraphSchema([
    {
      typeDefs: parse(SDL),
      resolvers: {
        Query: {
          open: () => 'open',
          members: () => 'members',
          staff: () => 'staff',
          required: () => 'required',
          accounts: () => accounts,
          files: () => [{ id: 1, body: 'contents', owner: 7 }],
          ledger: () => null,
          mine: () => 1,
        },
        Mutation: { act: () => ++acted },
        Ledger: { total: () => 1 },
      } as never,
    },
  ]);
  guarded = enforceAuthorization(schema, { Account: (account: { owner: number | null | undefined }) => account.owner, Ledger: () => 7 });
  server = new ApolloServer({ schema });
  await server.start();
});
afterEach(() => server.stop());

const run = (query: string, who: Viewer) => execute(server, { viewer: who }, query);
const errorsOf = (result: { errors?: readonly { message: string; path?: readonly (string | number)[]; extensions?: Record<string, unknown> }[] }) =>
  (result.errors ?? []).map((e) => ({ message: e.message, path: e.path, code: e.extensions?.code }));

const UNAUTHENTICATED = 'You must be signed in to see or do this';
const FORBIDDEN = 'You are not allowed to see or do this';

describe('enforceAuthorization', () => {
  it('guards exactly the fields that carry a rule, or whose type does', () => {
    expect(guarded.sort()).toEqual([
      'Account.balance',
      'Account.id',
      'Account.name',
      'Account.secret',
      'File.body',
      'Ledger.total',
      'Mutation.act',
      'Query.members',
      'Query.mine',
      'Query.required',
      'Query.staff',
    ]);
    expect(AUTH_DIRECTIVES).toEqual(['signedIn', 'requiresScope', 'ownerOrScope']);
  });

  it('refuses a schema with a directive on an interface field, which would guard nothing', () => {
    const typeDefs = (directives: string) =>
      parse(`
        extend schema
          @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@composeDirective"])
          @link(url: "https://commerce-supergraph.dev/auth/v1.0", import: ["@signedIn"])
          @composeDirective(name: "@signedIn")

        directive @signedIn on FIELD_DEFINITION | OBJECT | INTERFACE

        type Query { notes: [Note] }
        interface Note ${directives.includes('type') ? '@signedIn' : ''} { id: ID! body: String ${directives.includes('field') ? '@signedIn' : ''} }
        type Memo implements Note { id: ID! body: String }
      `);
    const build = (directives: string) => buildSubgraphSchema([{ typeDefs: typeDefs(directives), resolvers: {} as never }]);
    expect(() => enforceAuthorization(build('field'))).toThrow(
      'Authorization directives on an interface are not enforced: Note.body. Put them on the fields (or types) that implement it.',
    );
    expect(() => enforceAuthorization(build('type'))).toThrow(/not enforced: Note\./);
    expect(enforceAuthorization(build(''))).toEqual([]);
  });

  it('guards nothing in a schema without the directives, whatever other directives it carries', () => {
    const plain = buildSubgraphSchema([{ typeDefs: parse('type Query { a: String @deprecated(reason: "use b") b: String }'), resolvers: { Query: { a: () => 'a' } } }]);
    expect(enforceAuthorization(plain)).toEqual([]);
  });

  it('works in a subgraph that declares only some of the directives, next to others such as @key', async () => {
    const typeDefs = parse(`
      extend schema
        @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@composeDirective"])
        @link(url: "https://commerce-supergraph.dev/auth/v1.0", import: ["@signedIn"])
        @composeDirective(name: "@signedIn")

      directive @signedIn on FIELD_DEFINITION | OBJECT

      type Query {
        review: Review
      }

      type Review @key(fields: "id") {
        id: ID!
        body: String @signedIn
      }
    `);
    const schema = buildSubgraphSchema([{ typeDefs, resolvers: { Query: { review: () => ({ id: 1, body: 'fine' }) } } as never }]);
    expect(enforceAuthorization(schema)).toEqual(['Review.body']);
    const local = new ApolloServer({ schema });
    await local.start();
    try {
      const anonymous = await execute(local, { viewer: ANONYMOUS }, '{ review { id body } }');
      expect(anonymous.data).toEqual({ review: { id: '1', body: null } });
      expect(errorsOf(anonymous)).toEqual([{ message: UNAUTHENTICATED, path: ['review', 'body'], code: 'UNAUTHENTICATED' }]);
      expect((await execute(local, { viewer: viewer(7) }, '{ review { id body } }')).data).toEqual({ review: { id: '1', body: 'fine' } });
    } finally {
      await local.stop();
    }
  });

  it('says UNAUTHENTICATED to nobody, FORBIDDEN to someone without the right, with exact messages', async () => {
    expect(errorsOf(await run('{ open members }', ANONYMOUS))).toEqual([{ message: UNAUTHENTICATED, path: ['members'], code: 'UNAUTHENTICATED' }]);
    expect((await run('{ open members }', viewer(7))).data).toEqual({ open: 'open', members: 'members' });
    expect(errorsOf(await run('{ staff }', viewer(7)))).toEqual([{ message: FORBIDDEN, path: ['staff'], code: 'FORBIDDEN' }]);
    expect(errorsOf(await run('{ staff }', ANONYMOUS))).toEqual([{ message: UNAUTHENTICATED, path: ['staff'], code: 'UNAUTHENTICATED' }]);
    expect((await run('{ staff }', viewer(7, ['staff']))).data).toEqual({ staff: 'staff' });
    expect((await run('{ staff }', viewer(7, ['other', 'admin']))).data).toEqual({ staff: 'staff' });
  });

  it('lets a scope holder without a user through scope rules only', async () => {
    const service = viewer(null, ['staff']);
    expect((await run('{ staff }', service)).data).toEqual({ staff: 'staff' });
    expect(errorsOf(await run('{ members }', service))).toEqual([{ message: FORBIDDEN, path: ['members'], code: 'FORBIDDEN' }]);
  });

  it('opens an object to its owner only when it has one: a null or missing owner is nobody’s', async () => {
    const owner = await run('{ accounts { id balance } }', viewer(7));
    expect(owner.data?.accounts).toEqual([{ id: '1', balance: 10 }, null, null, null]);
    // Account.id is non-null: every denial is reported (the null climbs to the list item).
    expect(errorsOf(owner).map((e) => [e.path?.join('.'), e.code])).toEqual([
      ['accounts.1.id', 'FORBIDDEN'],
      ['accounts.2.id', 'FORBIDDEN'],
      ['accounts.3.id', 'FORBIDDEN'],
    ]);
    const admin = await run('{ accounts { id balance } }', viewer(1, ['admin']));
    expect(admin.errors).toBeUndefined();
    expect(admin.data?.accounts.map((a: { balance: number }) => a.balance)).toEqual([10, 20, 30, 40]);
  });

  it('reports a nullable field once per request, and again in the next request', async () => {
    for (let i = 0; i < 2; i++) {
      const result = await run('{ files { body } accounts { name } }', viewer(7));
      expect(result.data).toEqual({ files: [{ body: null }], accounts: [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }] });
      expect(errorsOf(result)).toEqual([{ message: FORBIDDEN, path: ['files', 0, 'body'], code: 'FORBIDDEN' }]);
    }
    // A field's own rule replaces its type's: any signed-in user reads Account.name.
    const many = await run('{ a: accounts { balance } b: accounts { balance } }', viewer(9));
    expect(errorsOf(many)).toEqual([{ message: FORBIDDEN, path: ['a', 0, 'balance'], code: 'FORBIDDEN' }]);
  });

  it('gives a scope holder without a user nothing through ownership, not even an object without an owner', async () => {
    const service = await run('{ accounts { balance } }', viewer(null, ['staff']));
    expect(service.data).toEqual({ accounts: [{ balance: null }, { balance: null }, { balance: null }, { balance: null }] });
    expect(errorsOf(service)).toEqual([{ message: FORBIDDEN, path: ['accounts', 0, 'balance'], code: 'FORBIDDEN' }]);
  });

  it('does not open @requiresScope to the owner, even on a type with an owner function', async () => {
    const owner = await run('{ accounts { secret } }', viewer(7));
    expect(owner.data).toEqual({ accounts: [{ secret: null }, { secret: null }, { secret: null }, { secret: null }] });
    expect(errorsOf(owner)).toEqual([{ message: FORBIDDEN, path: ['accounts', 0, 'secret'], code: 'FORBIDDEN' }]);
    expect((await run('{ accounts { secret } }', viewer(7, ['admin']))).data).toEqual({
      accounts: [{ secret: 's1' }, { secret: 's2' }, { secret: 's3' }, { secret: 's4' }],
    });
  });

  it('opens a type without an owner function through its scopes only', async () => {
    expect((await run('{ files { body } }', viewer(null, ['auditor']))).data).toEqual({ files: [{ body: 'contents' }] });
  });

  it('reports a non-null field every time, and never runs a refused mutation', async () => {
    const required = await run('{ required }', viewer(7));
    expect(required.data).toBeNull();
    expect(errorsOf(required)).toEqual([{ message: FORBIDDEN, path: ['required'], code: 'FORBIDDEN' }]);
    acted = 0;
    const refused = await run('mutation { a: act b: act }', ANONYMOUS);
    expect(refused.data).toEqual({ a: null, b: null });
    expect(errorsOf(refused)).toEqual([
      { message: UNAUTHENTICATED, path: ['a'], code: 'UNAUTHENTICATED' },
      { message: UNAUTHENTICATED, path: ['b'], code: 'UNAUTHENTICATED' },
    ]);
    expect(acted).toBe(0);
    expect((await run('mutation { act }', viewer(7))).data).toEqual({ act: 1 });
  });

  it('asks the owner function about the object the field resolves on', async () => {
    const schema = buildSubgraphSchema([{ typeDefs: parse(SDL), resolvers: { Query: { ledger: () => ({ id: 1 }) } } as never }]);
    const seen: unknown[] = [];
    enforceAuthorization(schema, { Ledger: (parent: unknown) => (seen.push(parent), 7) });
    const local = new ApolloServer({ schema });
    await local.start();
    try {
      const result = await execute(local, { viewer: viewer(7) }, '{ ledger { total } }');
      expect(result.data).toEqual({ ledger: { total: null } });
      expect(seen).toEqual([{ id: 1 }]);
      expect((await execute(local, { viewer: viewer(8) }, '{ ledger { total } }')).errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    } finally {
      await local.stop();
    }
  });

  it('checks an owner rule on a root field, which has no parent object, as nobody’s unless the server gives a root value', async () => {
    const schema = buildSubgraphSchema([{ typeDefs: parse(SDL), resolvers: { Query: { mine: () => 1 } } as never }]);
    const seen: unknown[] = [];
    enforceAuthorization(schema, { Query: (root: unknown) => (seen.push(root), 7) });
    for (const rootValue of [undefined, null, { tenant: 1 }]) {
      const local = new ApolloServer({ schema, rootValue });
      await local.start();
      try {
        const result = await execute(local, { viewer: viewer(7) }, '{ mine }');
        if (rootValue) {
          expect(result).toEqual({ data: { mine: 1 } });
        } else {
          expect(result.data).toEqual({ mine: null });
          expect(errorsOf(result)).toEqual([{ message: FORBIDDEN, path: ['mine'], code: 'FORBIDDEN' }]);
        }
      } finally {
        await local.stop();
      }
    }
    expect(seen).toEqual([{ tenant: 1 }]);
  });
});

describe('signedInUserId', () => {
  it('is the caller’s id, or UNAUTHENTICATED when signed out (a scope alone is no user)', () => {
    expect(signedInUserId(viewer(7))).toBe(7);
    for (const who of [ANONYMOUS, viewer(null, ['admin'])]) {
      let error: unknown;
      try {
        signedInUserId(who);
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(GraphQLError);
      expect([(error as GraphQLError).message, (error as GraphQLError).extensions]).toEqual(['You must be signed in to do this', { code: 'UNAUTHENTICATED' }]);
    }
  });
});
