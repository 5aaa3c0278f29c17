// `_entities` with its representations in no particular order, by either key: the router maps
// answers back by position, so a loader returning rows in any order but the keys' would give one
// user another's name or email. Ascending ids (what most tests send) would never show it.
import { ADMIN, keyedReadsByColumn } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../src/generated/prisma/client.ts';
import { accountsHarness, type Query } from './support.ts';

let harness: Awaited<ReturnType<typeof accountsHarness>>['harness'];
let query: Query;

beforeAll(async () => {
  ({ harness, query } = await accountsHarness());
});
afterAll(() => harness?.close());

const shape = (row: User | null) => row && { id: String(row.id), email: row.email, name: row.name, createdAt: row.createdAt.toISOString() };

describe('User entities in shuffled key order', () => {
  it('answers ids and emails mixed, repeated and unknown, each with its own row, in the order asked', async () => {
    const reps = [
      { id: '42' },
      { email: 'user7@example.com' },
      { id: '3' },
      { id: '999' },
      { email: 'USER31@example.com' },
      { email: 'nobody@example.com' },
      { id: '42' },
      { email: 'user2@example.com' },
      { id: '50' },
      { id: '1' },
    ];
    const result = await query(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id email name createdAt } } }`, {
      reps: reps.map((rep) => ({ __typename: 'User', ...rep })),
    }, { viewer: ADMIN });
    expect(result.errors).toBeUndefined();
    // The service's own rows, one key at a time (no loader).
    const want = await Promise.all(
      reps.map(async (rep) =>
        shape('id' in rep ? await harness.client.user.findUnique({ where: { id: Number(rep.id) } }) : await harness.client.user.findUnique({ where: { email: rep.email!.toLowerCase() } })),
      ),
    );
    expect(want.filter((u) => u === null)).toHaveLength(2);
    expect(result.data?._entities).toEqual(want);
  });

  it('answers an email PostgreSQL cannot hold (a NUL) with null and no error, and the rest of its batch as usual', async () => {
    const result = await query(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id } } }`, {
      reps: [{ email: 'user7\u0000@example.com' }, { email: 'user7@example.com' }].map((rep) => ({ __typename: 'User', ...rep })),
    }, { viewer: ADMIN });
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([null, { id: '7' }]);
  });

  it('reads a batch with one statement per key kind, each bound to exactly the keys asked for', async () => {
    // 3 distinct ids and 3 distinct emails (one unknown of each): a statement without its key
    // filter would answer the same, reading every user for each batch.
    const reps = [{ id: '42' }, { email: 'user7@example.com' }, { id: '999' }, { email: 'USER31@example.com' }, { id: '42' }, { id: '3' }, { email: 'nobody@example.com' }];
    const counted = await harness.countStatements(() =>
      query(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id email } } }`, {
        reps: reps.map((rep) => ({ __typename: 'User', ...rep })),
      }, { viewer: ADMIN }),
    );
    const { result } = counted;
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([
      { id: '42', email: 'user42@example.com' },
      { id: '7', email: 'user7@example.com' },
      null,
      { id: '31', email: 'user31@example.com' },
      { id: '42', email: 'user42@example.com' },
      { id: '3', email: 'user3@example.com' },
      null,
    ]);
    expect(keyedReadsByColumn(counted)).toEqual({
      'users.id': [3, 42, 999],
      'users.email': ['nobody@example.com', 'user31@example.com', 'user7@example.com'],
    });
  });
});
