import { errorCodes, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { accounts } from '../src/server.ts';

let harness: SubgraphHarness<PrismaClient>;

beforeAll(async () => {
  harness = await subgraphHarness(accounts);
});
afterAll(() => harness?.close());

describe('queries', () => {
  it('returns a seeded user by id', async () => {
    const result = await harness.query(`{ user(id: "1") { id email name createdAt } }`);
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
      const result: any = await harness.query(
        `query($after: String) { users(first: 20, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }`,
        { after },
      );
      expect(result.errors).toBeUndefined();
      ids.push(...result.data.users.nodes.map((n: { id: string }) => n.id));
      if (!result.data.users.pageInfo.hasNextPage) break;
      after = result.data.users.pageInfo.endCursor;
    }
    expect(ids).toEqual(Array.from({ length: 50 }, (_, i) => String(i + 1)));
  });

  it('defaults to 20 per page', async () => {
    const result = await harness.query(`{ users { nodes { id } pageInfo { hasNextPage } } }`);
    expect(result.data?.users.nodes).toHaveLength(20);
    expect(result.data?.users.pageInfo.hasNextPage).toBe(true);
  });
});

describe('createUser', () => {
  it('creates a user with a lower-cased email and a fresh id past the seed', async () => {
    const result = await harness.query(
      `mutation { createUser(input: { email: "New.Person@Example.com", name: "  New Person " }) { user { id email name } } }`,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?.createUser.user).toEqual({ id: '51', email: 'new.person@example.com', name: 'New Person' });
    expect(await harness.client.user.count()).toBe(51);
  });

  it('rejects a taken email with CONFLICT and creates nothing', async () => {
    const before = await harness.client.user.count();
    const result = await harness.query(`mutation { createUser(input: { email: "USER2@example.com", name: "Dup" }) { user { id } } }`);
    expect(errorCodes(result)).toEqual(['CONFLICT']);
    expect(result.errors?.[0]?.message).not.toMatch(/prisma|constraint|P2002/i);
    expect(await harness.client.user.count()).toBe(before);
  });

  it('gives exactly one user and clean CONFLICTs for concurrent creates of one email', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        harness.query(`mutation { createUser(input: { email: "race@example.com", name: "Racer" }) { user { id } } }`),
      ),
    );
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.flatMap(errorCodes)).toEqual(Array(9).fill('CONFLICT'));
    expect(await harness.client.user.count({ where: { email: 'race@example.com' } })).toBe(1);
  });
});

describe('bad input', () => {
  it.each([
    ['malformed id', `{ user(id: "abc") { id } }`, 'BAD_USER_INPUT'],
    ['negative id', `{ user(id: "-3") { id } }`, 'BAD_USER_INPUT'],
    ['id beyond int4', `{ user(id: "99999999999") { id } }`, 'BAD_USER_INPUT'],
    ['unknown id', `{ user(id: "9999") { id } }`, 'NOT_FOUND'],
    ['page size over the bound', `{ users(first: 101) { nodes { id } } }`, 'BAD_USER_INPUT'],
    ['page size of zero', `{ users(first: 0) { nodes { id } } }`, 'BAD_USER_INPUT'],
    ['forged cursor', `{ users(after: "bm90LWEtY3Vyc29y") { nodes { id } } }`, 'BAD_USER_INPUT'],
    ['empty name', `mutation { createUser(input: { email: "a@b.co", name: "   " }) { user { id } } }`, 'BAD_USER_INPUT'],
    ['oversized name', `mutation { createUser(input: { email: "a@b.co", name: "${'x'.repeat(101)}" }) { user { id } } }`, 'BAD_USER_INPUT'],
    ['invalid email', `mutation { createUser(input: { email: "not-an-email", name: "X" }) { user { id } } }`, 'BAD_USER_INPUT'],
    ['oversized email', `mutation { createUser(input: { email: "${'x'.repeat(250)}@b.co", name: "X" }) { user { id } } }`, 'BAD_USER_INPUT'],
  ])('%s → %s', async (_name, query, code) => {
    const result = await harness.query(query);
    expect(errorCodes(result)).toEqual([code]);
    expect(JSON.stringify(result.errors)).not.toMatch(/stacktrace|prisma|at .*\.ts/i);
  });

  it('names the offending field', async () => {
    const result = await harness.query(`mutation { createUser(input: { email: "a@b.co", name: "" }) { user { id } } }`);
    expect(result.errors?.[0]?.extensions?.field).toBe('input.name');
  });
});

describe('federation', () => {
  it('resolves User entities by id and by email, in order, with null for misses', async () => {
    const result = await harness.query(
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

  it('publishes its SDL with both keys', async () => {
    const result = await harness.query(`{ _service { sdl } }`);
    expect(result.data?._service.sdl).toContain('@key(fields: "id")');
    expect(result.data?._service.sdl).toContain('@key(fields: "email")');
  });
});
