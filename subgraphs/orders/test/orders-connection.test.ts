import { encodeKeysetCursor, SEED } from '@commerce/service-kit';
import { ADMIN, ANONYMOUS_CALLER, asUser, errorCodes, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { orders } from '../src/server.ts';

// User.ordersConnection: a user's orders by cursor, newest first, under the same rule as User.orders.
let harness: SubgraphHarness<PrismaClient>;
let newest: (userId: number) => Promise<{ id: number; createdAt: Date; status: string }[]>;

beforeAll(async () => {
  harness = await subgraphHarness(orders, { viewer: ADMIN });
  newest = (userId) => harness.client.order.findMany({ where: { userId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
});
afterAll(() => harness?.close());

const cursorOf = (order: { createdAt: Date; id: number }) => encodeKeysetCursor('order', order);
const PAGE = `query($reps: [_Any!]!, $first: Int, $after: String) { _entities(representations: $reps) {
  ... on User { id ordersConnection(first: $first, after: $after) { nodes { id } edges { cursor node { id status createdAt } } pageInfo { hasNextPage endCursor } } }
} }`;
const user = (id: number) => ({ __typename: 'User', id: String(id) });

describe('User.ordersConnection', () => {
  it('pages user 46’s seven orders newest first: exact nodes, edges, cursors and hasNextPage', async () => {
    const rows = await newest(46);
    expect(rows).toHaveLength(7);
    const edge = (row: (typeof rows)[number]) => ({ cursor: cursorOf(row), node: { id: String(row.id), status: row.status, createdAt: row.createdAt.toISOString() } });

    const first = await harness.query(PAGE, { reps: [user(46)], first: 3 });
    expect(first.errors).toBeUndefined();
    expect(first.data?._entities).toEqual([
      {
        id: '46',
        ordersConnection: {
          nodes: rows.slice(0, 3).map((row) => ({ id: String(row.id) })),
          edges: rows.slice(0, 3).map(edge),
          pageInfo: { hasNextPage: true, endCursor: cursorOf(rows[2]!) },
        },
      },
    ]);

    const second = await harness.query(PAGE, { reps: [user(46)], first: 3, after: cursorOf(rows[2]!) });
    expect(second.data?._entities[0].ordersConnection.edges).toEqual(rows.slice(3, 6).map(edge));
    expect(second.data?._entities[0].ordersConnection.pageInfo).toEqual({ hasNextPage: true, endCursor: cursorOf(rows[5]!) });

    const last = await harness.query(PAGE, { reps: [user(46)], first: 3, after: cursorOf(rows[5]!) });
    expect(last.data?._entities[0].ordersConnection).toEqual({
      nodes: [{ id: String(rows[6]!.id) }],
      edges: [edge(rows[6]!)],
      pageInfo: { hasNextPage: false, endCursor: cursorOf(rows[6]!) },
    });
  });

  it('gives user 1 orders 101, 2, 1 by default (20 per page), and an empty page to a user with none', async () => {
    const result = await harness.query(PAGE, { reps: [user(1), user(SEED.users + 1)] });
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities.map((entity: any) => entity.ordersConnection.nodes)).toEqual([[{ id: '101' }, { id: '2' }, { id: '1' }], []]);
    expect(result.data?._entities[1].ordersConnection.pageInfo).toEqual({ hasNextPage: false, endCursor: null });
  });

  it('serves every user of a batch, with different page sizes, in one SQL statement', async () => {
    const all = await harness.client.order.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
    const userIds = Array.from({ length: SEED.users }, (_, i) => i + 1);
    const { result, statements } = await harness.countStatements(() =>
      harness.query(
        `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id two: ordersConnection(first: 2) { nodes { id } pageInfo { hasNextPage } } all: ordersConnection(first: 100) { edges { node { id } } } } } }`,
        { reps: userIds.map(user) },
      ),
    );
    expect(result.errors).toBeUndefined();
    expect(statements).toBe(1);
    expect(result.data?._entities).toEqual(
      userIds.map((id) => {
        const own = all.filter((row) => row.userId === id);
        return {
          id: String(id),
          two: { nodes: own.slice(0, 2).map((row) => ({ id: String(row.id) })), pageInfo: { hasNextPage: own.length > 2 } },
          all: { edges: own.map((row) => ({ node: { id: String(row.id) } })) },
        };
      }),
    );
  });

  it('loads nested items and totals of every page with one more statement', async () => {
    const { result, statements } = await harness.countStatements(() =>
      harness.query(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { ordersConnection { nodes { totalCents items { quantity } } } } } }`, {
        reps: Array.from({ length: SEED.users }, (_, i) => user(i + 1)),
      }),
    );
    expect(result.errors).toBeUndefined();
    expect(statements).toBe(2);
  });

  it.each([
    ['first: 0', { first: 0 }, 'first'],
    ['first: 101', { first: 101 }, 'first'],
    ['a review cursor', { after: encodeKeysetCursor('review', { createdAt: new Date(0), id: 1 }) }, 'after'],
    ['garbage', { after: 'xyz' }, 'after'],
  ])('refuses %s with BAD_USER_INPUT naming the argument', async (_name, variables, field) => {
    const result = await harness.query(PAGE, { reps: [user(1)], ...variables });
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions?.field).toBe(field);
    expect(result.data?._entities).toEqual([{ id: '1', ordersConnection: null }]);
  });
});

describe('User.ordersConnection authorization (@ownerOrScope(anyOf: ["admin"]), as User.orders)', () => {
  const QUERY = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id ordersConnection { nodes { id totalCents } } } } }`;

  it('shows a user’s orders to that user and to admins', async () => {
    const own = await harness.query(QUERY, { reps: [user(1)] }, asUser(1));
    expect(own.errors).toBeUndefined();
    expect(own.data?._entities[0].ordersConnection.nodes.map((n: { id: string }) => n.id)).toEqual(['101', '2', '1']);
    const admin = await harness.query(QUERY, { reps: [user(2)] }, ADMIN);
    expect(admin.errors).toBeUndefined();
    expect(admin.data?._entities[0].ordersConnection.nodes).toHaveLength((await newest(2)).length);
  });

  it.each([
    ['anonymous', ANONYMOUS_CALLER, 'UNAUTHENTICATED'],
    ['another user', asUser(2), 'FORBIDDEN'],
  ])('refuses them to %s with %s: null, never the data', async (_who, caller, code) => {
    const result = await harness.query(QUERY, { reps: [user(1)] }, caller);
    expect(result.data?._entities).toEqual([{ id: '1', ordersConnection: null }]);
    expect(errorCodes(result)).toEqual([code]);
    expect(JSON.stringify(result)).not.toMatch(/83998|"101"/);
  });

  it('gives one error for the field, not one per user, when a batch mixes own and others’ orders', async () => {
    const result = await harness.query(QUERY, { reps: [user(1), user(2), user(3)] }, asUser(2));
    expect(result.data?._entities[0]).toEqual({ id: '1', ordersConnection: null });
    expect(result.data?._entities[1].ordersConnection.nodes).toHaveLength((await newest(2)).length);
    expect(result.data?._entities[2]).toEqual({ id: '3', ordersConnection: null });
    expect(errorCodes(result)).toEqual(['FORBIDDEN']);
  });
});
