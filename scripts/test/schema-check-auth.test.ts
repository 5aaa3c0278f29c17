// The authorization-rule model of schema-check (src/schema-check/auth.ts), without composition:
// how rules are found in a supergraph SDL and when one rule is at least as strict as another.
import { describe, expect, it } from 'vitest';
import { atLeastAsStrict, diffAuthRules, readAuthRules, type AuthRule } from '../src/schema-check/auth.ts';

const supergraph = (link: string, body: string) => `schema\n  @link(url: "https://specs.apollo.dev/link/v1.0")\n  ${link}\n{\n  query: Query\n}\n\n${body}`;

describe('reading rules from a supergraph', () => {
  it('finds imported, renamed and namespaced auth directives, and nothing else', () => {
    const rules = readAuthRules(
      supergraph(
        '@link(url: "https://commerce-supergraph.dev/auth/v1.2", as: "authz", import: [{ name: "@requiresScope", as: "@scoped" }, "@signedIn"])',
        [
          'type Query { a: Int @scoped(anyOf: ["b", "a", "a"]) b: Int @authz__ownerOrScope(anyOf: "x") c: Int @signedIn d: Int @requiresScope(anyOf: ["x"]) }',
          'type Thing @authz__ownerOrScope(anyOf: []) { id: ID }',
          'extend type Thing @signedIn',
        ].join('\n'),
      ),
    );
    expect(rules.fields.get('Query')).toEqual(
      new Map<string, AuthRule[]>([
        ['a', [{ kind: 'requiresScope', anyOf: ['a', 'b'] }]],
        ['b', [{ kind: 'ownerOrScope', anyOf: ['x'] }]],
        ['c', [{ kind: 'signedIn', anyOf: [] }]],
        ['d', []], // not the linked name: an unrelated directive
      ]),
    );
    expect(rules.types.get('Thing')).toEqual([
      { kind: 'ownerOrScope', anyOf: [] },
      { kind: 'signedIn', anyOf: [] },
    ]);
  });

  it('finds no rules without the auth @link', () => {
    const rules = readAuthRules(supergraph('@link(url: "https://example.com/auth/v1.0", import: ["@signedIn"])', 'type Query { a: Int @signedIn }'));
    expect(rules.fields.get('Query')).toEqual(new Map([['a', []]]));
  });
});

describe('strictness', () => {
  const signedIn: AuthRule = { kind: 'signedIn', anyOf: [] };
  const scope = (...anyOf: string[]): AuthRule => ({ kind: 'requiresScope', anyOf });
  const owner = (...anyOf: string[]): AuthRule => ({ kind: 'ownerOrScope', anyOf });

  it.each([
    [[scope('a')], [], true],
    [[], [signedIn], false],
    [[scope('a')], [scope('a', 'b')], true],
    [[scope('a', 'b')], [scope('a')], false],
    [[scope('a')], [owner('a')], true],
    [[owner('a')], [scope('a')], false],
    [[owner('a')], [owner('a', 'b')], true],
    [[signedIn], [owner('a')], false],
    [[owner('a')], [signedIn], false], // a scope holder need not be signed in as a user
    [[owner()], [signedIn], true], // only the owner, who is signed in
    [[scope('a')], [signedIn], false],
    [[signedIn, scope('a')], [signedIn], true],
    [[signedIn, scope('a')], [scope('a')], true],
    [[signedIn], [signedIn, scope('a')], false],
  ] as [AuthRule[], AuthRule[], boolean][])('%j at least as strict as %j: %s', (after, before, expected) => {
    expect(atLeastAsStrict(after, before)).toBe(expected);
  });
});

describe('diffing rules', () => {
  const link = '@link(url: "https://commerce-supergraph.dev/auth/v1.0", import: ["@signedIn", "@requiresScope", "@ownerOrScope"])';
  const diff = (before: string, after: string) =>
    diffAuthRules(readAuthRules(supergraph(link, before)), readAuthRules(supergraph(link, after))).map((c) => [c.type, c.path, c.criticality]);

  it('says "call" for mutations and skips coordinates missing on one side', () => {
    const before = 'type Query { a: Int }\ntype Mutation { go: Int @signedIn gone: Int @signedIn }';
    const after = 'type Query { a: Int }\ntype Mutation { go: Int }\ntype New @signedIn { x: Int }';
    const changes = diffAuthRules(readAuthRules(supergraph(link, before)), readAuthRules(supergraph(link, after)));
    expect(changes.map((c) => [c.type, c.path])).toEqual([['AUTH_RULE_REMOVED', 'Mutation.go']]);
    expect(changes[0]?.message).toBe(
      'Mutation.go lost its authorization rule @signedIn: anyone, even a caller who is not signed in, can now call it (before: only a signed-in user).',
    );
  });

  it('treats several rules on one coordinate as all required', () => {
    expect(diff('type Query { a: Int @signedIn @requiresScope(anyOf: ["x"]) }', 'type Query { a: Int @requiresScope(anyOf: ["x"]) }')).toEqual([
      ['AUTH_RULE_WEAKENED', 'Query.a', 'BREAKING'],
    ]);
    expect(diff('type Query { a: Int @requiresScope(anyOf: ["x"]) }', 'type Query { a: Int @requiresScope(anyOf: ["x"]) @signedIn }')).toEqual([
      ['AUTH_RULE_NARROWED', 'Query.a', 'DANGEROUS'],
    ]);
  });

  it('reports only the type when its rule changes, not each field that inherits it', () => {
    expect(diff('type Query { a: Thing }\ntype Thing @signedIn { x: Int y: Int }', 'type Query { a: Thing }\ntype Thing @requiresScope(anyOf: ["x"]) { x: Int y: Int }')).toEqual([
      ['AUTH_RULE_WEAKENED', 'Thing', 'BREAKING'],
    ]);
  });
});
