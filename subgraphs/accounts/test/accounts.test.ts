import { errorCodes, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountsConfig } from '../src/server.ts';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { accountsHarness, ADMIN, asUser, verifyAccessToken, type Query } from './support.ts';

let harness: SubgraphHarness<PrismaClient>;
let config: AccountsConfig;
let query: Query;

beforeAll(async () => {
  ({ harness, config, query } = await accountsHarness());
});
afterAll(() => harness?.close());

describe('queries', () => {
  it('returns a seeded user by id, with the email to its owner', async () => {
    const result = await query(`{ user(id: "1") { id email name createdAt } }`, {}, { viewer: asUser(1) });
    expect(result.errors).toBeUndefined();
    expect(result.data?.user).toEqual({
      id: '1',
      email: 'user1@example.com',
      name: 'Ada Lovelace',
      createdAt: '2026-01-02T00:00:00.000Z',
    });
  });

  it('pages through every user in id order with opaque cursors', async () => {
    const ids: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const result: any = await query(`query($after: String) { users(first: 20, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }`, { after });
      expect(result.errors).toBeUndefined();
      ids.push(...result.data.users.nodes.map((n: { id: string }) => n.id));
      if (!result.data.users.pageInfo.hasNextPage) break;
      after = result.data.users.pageInfo.endCursor;
    }
    expect(ids).toEqual(Array.from({ length: 50 }, (_, i) => String(i + 1)));
  });

  it('defaults to 20 per page', async () => {
    const result = await query(`{ users { nodes { id } pageInfo { hasNextPage } } }`);
    expect(result.data?.users.nodes).toHaveLength(20);
    expect(result.data?.users.pageInfo.hasNextPage).toBe(true);
  });

  it('offers the page as Relay-style edges beside nodes, each cursor continuing after its user', async () => {
    const result: any = await query(`{ users(first: 3) { nodes { id } edges { cursor node { id name } } pageInfo { hasNextPage endCursor } } }`);
    expect(result.errors).toBeUndefined();
    const { nodes, edges, pageInfo } = result.data.users;
    expect(edges.map((edge: any) => edge.node.id)).toEqual(['1', '2', '3']);
    expect(nodes).toEqual(edges.map((edge: any) => ({ id: edge.node.id })));
    expect(edges[0].node.name).toBe('Ada Lovelace');
    expect(pageInfo).toEqual({ hasNextPage: true, endCursor: edges[2].cursor });
    const next: any = await query(`query($after: String) { users(first: 2, after: $after) { edges { node { id } } } }`, { after: edges[1].cursor });
    expect(next.data.users.edges.map((edge: any) => edge.node.id)).toEqual(['3', '4']);
  });
});

describe('me', () => {
  it('is null for an anonymous caller, without an error', async () => {
    const result = await query(`{ me { id } }`);
    expect(result).toEqual({ data: { me: null } });
  });

  it('is the signed-in user, email included', async () => {
    const result = await query(`{ me { id name email } }`, {}, { viewer: asUser(2) });
    expect(result).toEqual({ data: { me: { id: '2', name: 'Grace Lovelace', email: 'user2@example.com' } } });
  });
});

describe('email visibility (@ownerOrScope(anyOf: ["admin"]))', () => {
  const userThree = `{ user(id: "3") { id email } }`;

  it('shows a user their own email', async () => {
    const result = await query(userThree, {}, { viewer: asUser(3) });
    expect(result).toEqual({ data: { user: { id: '3', email: 'user3@example.com' } } });
  });

  it('shows an admin anyone’s email', async () => {
    const result = await query(userThree, {}, { viewer: ADMIN });
    expect(result).toEqual({ data: { user: { id: '3', email: 'user3@example.com' } } });
  });

  it('hides it from another user with FORBIDDEN', async () => {
    const result = await query(userThree, {}, { viewer: asUser(2) });
    expect(result.data).toEqual({ user: { id: '3', email: null } });
    expect(errorCodes(result)).toEqual(['FORBIDDEN']);
    expect(result.errors?.[0]?.path).toEqual(['user', 'email']);
  });

  it('hides it from an anonymous caller with UNAUTHENTICATED', async () => {
    const result = await query(userThree);
    expect(result.data).toEqual({ user: { id: '3', email: null } });
    expect(errorCodes(result)).toEqual(['UNAUTHENTICATED']);
  });

  it('in a list, shows only the caller’s own and reports the rest once', async () => {
    const result = await query(`{ users(first: 3) { nodes { id email } } }`, {}, { viewer: asUser(2) });
    expect(result.data?.users.nodes).toEqual([
      { id: '1', email: null },
      { id: '2', email: 'user2@example.com' },
      { id: '3', email: null },
    ]);
    expect(errorCodes(result)).toEqual(['FORBIDDEN']);
  });
});

describe('signUp', () => {
  const signUp = `mutation($input: SignUpInput!) {
    signUp(input: $input) { accessToken tokenType expiresIn refreshToken user { id email name } }
  }`;

  it('creates a customer with a lower-cased email, signs them in, and the token verifies against the JWKS', async () => {
    const result = await query(signUp, { input: { email: 'New.Person@Example.com', name: '  New Person ', password: 'correct horse battery' } });
    expect(result.errors).toBeUndefined();
    const payload = result.data?.signUp;
    // The new user sees their own email: the rest of the answer acts as them.
    expect(payload.user).toEqual({ id: '51', email: 'new.person@example.com', name: 'New Person' });
    expect(payload.tokenType).toBe('Bearer');
    expect(payload.expiresIn).toBe(900);
    expect(payload.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const { payload: claims, protectedHeader } = await verifyAccessToken(payload.accessToken, config.publicJwks, config);
    expect(protectedHeader).toEqual({ alg: 'EdDSA', kid: config.kid, typ: 'at+jwt' });
    expect(claims).toEqual({
      iss: 'commerce-accounts',
      aud: 'commerce-supergraph',
      sub: '51',
      scope: '',
      iat: expect.any(Number),
      exp: claims.iat! + 900,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(Math.abs(claims.iat! - Date.now() / 1000)).toBeLessThan(60);

    const stored = await harness.client.user.findUniqueOrThrow({ where: { id: 51 } });
    expect(stored.role).toBe('customer');
    expect(stored.passwordHash).toMatch(/^scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(stored.passwordHash).not.toContain('correct horse');
    expect(await harness.client.user.count()).toBe(51);
    // Announced in the same transaction, for the router's cached pages of users.
    expect(await harness.client.outboxEvent.findMany({ select: { source: true, type: true, version: true, aggregate: true, payload: true } })).toEqual([
      { source: 'accounts', type: 'UserCreated', version: 1, aggregate: 'user:51', payload: { userId: 51 } },
    ]);
  });

  it('counts a password’s length in characters, not UTF-16 units', async () => {
    // Ten emoji are ten characters (twenty UTF-16 units): long enough.
    const result = await query(signUp, { input: { email: 'emoji@example.com', name: 'Emoji', password: '🔑'.repeat(10) } });
    expect(result.errors).toBeUndefined();
    const signIn = await query(`mutation { signIn(email: "emoji@example.com", password: "${'🔑'.repeat(10)}") { user { id } } }`, {}, { ip: '10.9.9.9' });
    expect(signIn.errors).toBeUndefined();
  });

  it('rejects a taken email with CONFLICT on input.email and creates nothing', async () => {
    const before = await harness.client.user.count();
    const eventsBefore = await harness.client.outboxEvent.count();
    const result = await query(signUp, { input: { email: 'USER2@example.com', name: 'Dup', password: 'long enough password' } });
    expect(errorCodes(result)).toEqual(['CONFLICT']);
    expect(result.errors?.[0]?.message).toBe('An account with this email already exists');
    expect(result.errors?.[0]?.extensions?.field).toBe('input.email');
    expect(result.errors?.[0]?.message).not.toMatch(/prisma|constraint|P2002/i);
    expect(await harness.client.user.count()).toBe(before);
    // Rolled back with the user: no event announces an account that does not exist.
    expect(await harness.client.outboxEvent.count()).toBe(eventsBefore);
  });

  it('gives exactly one user and clean CONFLICTs for concurrent sign-ups with one email', async () => {
    const results = await Promise.all(
      Array.from({ length: 4 }, () => query(signUp, { input: { email: 'race@example.com', name: 'Racer', password: 'long enough password' } })),
    );
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.flatMap(errorCodes)).toEqual(Array(3).fill('CONFLICT'));
    expect(await harness.client.user.count({ where: { email: 'race@example.com' } })).toBe(1);
    const racer = await harness.client.user.findUniqueOrThrow({ where: { email: 'race@example.com' } });
    expect(await harness.client.outboxEvent.count({ where: { aggregate: `user:${racer.id}` } })).toBe(1);
  });
});

describe('bad input', () => {
  const signUp = (input: string) => `mutation { signUp(input: { ${input} }) { accessToken } }`;

  it.each([
    ['malformed id', `{ user(id: "abc") { id } }`, 'BAD_USER_INPUT', 'id'],
    ['negative id', `{ user(id: "-3") { id } }`, 'BAD_USER_INPUT', 'id'],
    ['id beyond int4', `{ user(id: "99999999999") { id } }`, 'BAD_USER_INPUT', 'id'],
    ['unknown id', `{ user(id: "9999") { id } }`, 'NOT_FOUND', undefined],
    ['page size over the bound', `{ users(first: 101) { nodes { id } } }`, 'BAD_USER_INPUT', 'first'],
    ['page size of zero', `{ users(first: 0) { nodes { id } } }`, 'BAD_USER_INPUT', 'first'],
    ['forged cursor', `{ users(after: "bm90LWEtY3Vyc29y") { nodes { id } } }`, 'BAD_USER_INPUT', 'after'],
    ['empty name', signUp(`email: "a@b.co", name: "   ", password: "long enough password"`), 'BAD_USER_INPUT', 'input.name'],
    ['oversized name', signUp(`email: "a@b.co", name: "${'x'.repeat(101)}", password: "long enough password"`), 'BAD_USER_INPUT', 'input.name'],
    ['name with a bidi override', signUp(`email: "a@b.co", name: "evil\\u202Eexe", password: "long enough password"`), 'BAD_USER_INPUT', 'input.name'],
    ['invalid email', signUp(`email: "not-an-email", name: "X", password: "long enough password"`), 'BAD_USER_INPUT', 'input.email'],
    ['oversized email', signUp(`email: "${'x'.repeat(250)}@b.co", name: "X", password: "long enough password"`), 'BAD_USER_INPUT', 'input.email'],
    ['password of 9 characters', signUp(`email: "a@b.co", name: "X", password: "123456789"`), 'BAD_USER_INPUT', 'input.password'],
    ['password of 129 characters', signUp(`email: "a@b.co", name: "X", password: "${'p'.repeat(129)}"`), 'BAD_USER_INPUT', 'input.password'],
  ])('%s → %s', async (_name, operation, code, field) => {
    const before = await harness.client.user.count();
    const result = await query(operation);
    expect(errorCodes(result)).toEqual([code]);
    expect(result.errors?.[0]?.extensions?.field).toBe(field);
    expect(JSON.stringify(result.errors)).not.toMatch(/stacktrace|prisma|at .*\.ts/i);
    expect(await harness.client.user.count()).toBe(before);
  });

  it('refuses a password that is not valid Unicode (a lone surrogate)', async () => {
    // Only variables can carry one: the GraphQL parser refuses it in a literal.
    const result = await query(`mutation($password: String!) { signUp(input: { email: "a@b.co", name: "X", password: $password }) { accessToken } }`, {
      password: 'long enough \uD800',
    });
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions?.field).toBe('input.password');
  });

  it('says how long the password must be', async () => {
    const result = await query(signUp(`email: "a@b.co", name: "X", password: "short"`));
    expect(result.errors?.[0]?.message).toBe('input.password must be 10 to 128 characters, got 5');
  });
});

describe('federation', () => {
  it('resolves User entities by id and by email, in order, with null for misses', async () => {
    const result = await query(
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id email name } } }`,
      {
        reps: [
          { __typename: 'User', id: '3' },
          { __typename: 'User', email: 'user7@example.com' },
          { __typename: 'User', id: '404' },
          { __typename: 'User', email: 'USER3@EXAMPLE.COM' },
          { __typename: 'User', email: 'nobody@example.com' },
          { __typename: 'User', id: 'not-an-id' },
        ],
      },
      { viewer: ADMIN },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([
      { id: '3', email: 'user3@example.com', name: 'Alan Lovelace' },
      { id: '7', email: 'user7@example.com', name: 'Donald Lovelace' },
      null,
      { id: '3', email: 'user3@example.com', name: 'Alan Lovelace' },
      null,
      null,
    ]);
  });

  it('batches entity lookups into one statement per key', async () => {
    const reps = Array.from({ length: 20 }, (_, i) => ({ __typename: 'User', id: String(i + 1) }));
    const { statements } = await harness.countStatements(() =>
      query(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { name } } }`, { reps }),
    );
    expect(statements).toBe(1);
  });

  it('publishes its SDL with both keys and the email rule', async () => {
    const result = await query(`{ _service { sdl } }`);
    expect(result.data?._service.sdl).toContain('@key(fields: "id")');
    expect(result.data?._service.sdl).toContain('@key(fields: "email")');
    expect(result.data?._service.sdl).toContain('email: String @ownerOrScope(anyOf: ["admin"])');
  });
});
