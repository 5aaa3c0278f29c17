import { encodeKeysetCursor } from '@commerce/service-kit';
import { errorCodes, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { seedReviews } from '../src/seed.ts';
import { reviews } from '../src/server.ts';
import { asGraphQL, countStatements, newestFirst, REVIEW_FIELDS } from './helpers.ts';

// reviewsConnection on Product and User: pages by cursor, newest first. This file's own database:
// the tie-break test adds reviews.
let harness: SubgraphHarness<PrismaClient>;
const seeded = seedReviews();
const ofProduct = (id: number) => newestFirst(seeded.filter((r) => r.productId === id));
const ofAuthor = (id: number) => newestFirst(seeded.filter((r) => r.authorId === id));
const cursorOf = (review: { createdAt: Date; id: number }) => encodeKeysetCursor('review', review);

beforeAll(async () => {
  harness = await subgraphHarness(reviews);
});
afterAll(() => harness?.close());

type Rep = { __typename: 'Product' | 'User'; id: string };
function entities(reps: Rep[], selection: string, variables: Record<string, unknown> = {}, types: Record<string, string> = {}) {
  const params = Object.keys(variables).map((name) => `, $${name}: ${types[name] ?? 'Int'}`).join('');
  return harness.query(`query($reps: [_Any!]!${params}) { _entities(representations: $reps) { ${selection} } }`, { reps, ...variables });
}
const CONNECTION = `nodes { id } edges { cursor node { ${REVIEW_FIELDS} } } pageInfo { hasNextPage endCursor }`;

describe('Product.reviewsConnection', () => {
  it('pages product 1’s six reviews newest first: exact nodes, edges, cursors and hasNextPage', async () => {
    const all = ofProduct(1);
    expect(all.map((r) => r.id)).toEqual([474, 472, 461, 315, 191, 69]);
    const first: any = await entities([{ __typename: 'Product', id: '1' }], `... on Product { reviewsConnection(first: 4) { ${CONNECTION} } }`);
    expect(first.errors).toBeUndefined();
    const page = first.data._entities[0].reviewsConnection;
    expect(page).toEqual({
      nodes: all.slice(0, 4).map((r) => ({ id: String(r.id) })),
      edges: all.slice(0, 4).map((r) => ({ cursor: cursorOf(r), node: asGraphQL(r) })),
      pageInfo: { hasNextPage: true, endCursor: cursorOf(all[3]!) },
    });

    const second: any = await entities(
      [{ __typename: 'Product', id: '1' }],
      `... on Product { reviewsConnection(first: 4, after: $after) { ${CONNECTION} } }`,
      { after: page.pageInfo.endCursor },
      { after: 'String' },
    );
    expect(second.data._entities[0].reviewsConnection).toEqual({
      nodes: [{ id: '191' }, { id: '69' }],
      edges: all.slice(4).map((r) => ({ cursor: cursorOf(r), node: asGraphQL(r) })),
      pageInfo: { hasNextPage: false, endCursor: cursorOf(all[5]!) },
    });
  });

  it('says there is no next page when the page ends exactly at the last review, and gives an empty page after it', async () => {
    const exact: any = await entities([{ __typename: 'Product', id: '1' }], `... on Product { reviewsConnection(first: 6) { pageInfo { hasNextPage endCursor } } }`);
    expect(exact.data._entities[0].reviewsConnection.pageInfo).toEqual({ hasNextPage: false, endCursor: cursorOf(ofProduct(1)[5]!) });
    const after: any = await entities(
      [{ __typename: 'Product', id: '1' }],
      `... on Product { reviewsConnection(after: $after) { nodes { id } edges { cursor } pageInfo { hasNextPage endCursor } } }`,
      { after: cursorOf(ofProduct(1)[5]!) },
      { after: 'String' },
    );
    expect(after.data._entities[0].reviewsConnection).toEqual({ nodes: [], edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  it('serves every product of a batch, each with its own size and position, in one SQL statement', async () => {
    const productIds = Array.from({ length: 200 }, (_, i) => 200 - i);
    const { result, statements } = await countStatements(harness, () =>
      entities(
        productIds.map((id) => ({ __typename: 'Product', id: String(id) })),
        `... on Product { id top: reviewsConnection(first: 2) { nodes { id } pageInfo { hasNextPage } } rest: reviewsConnection(first: 100, after: $after) { nodes { id } } }`,
        // A cursor of another product's list is only a position: it pages every list from there.
        { after: cursorOf(ofProduct(1)[0]!) },
        { after: 'String' },
      ),
    );
    expect(result.errors).toBeUndefined();
    expect(statements).toBe(1);
    const position = ofProduct(1)[0]!;
    const older = (r: { createdAt: Date; id: number }) => r.createdAt < position.createdAt || (r.createdAt.getTime() === position.createdAt.getTime() && r.id < position.id);
    expect(result.data?._entities).toEqual(
      productIds.map((id) => ({
        id: String(id),
        top: { nodes: ofProduct(id).slice(0, 2).map((r) => ({ id: String(r.id) })), pageInfo: { hasNextPage: ofProduct(id).length > 2 } },
        rest: { nodes: ofProduct(id).filter(older).map((r) => ({ id: String(r.id) })) },
      })),
    );
  });

  it('defaults to 20 per page and gives a product with no reviews an empty page', async () => {
    const busiest = Array.from({ length: 200 }, (_, i) => i + 1).sort((a, b) => ofProduct(b).length - ofProduct(a).length)[0]!;
    const result: any = await entities(
      [{ __typename: 'Product', id: String(busiest) }, { __typename: 'Product', id: '12' }],
      `... on Product { reviewsConnection { nodes { id } pageInfo { hasNextPage } } }`,
    );
    const expectedBusiest = ofProduct(busiest);
    expect(result.data._entities[0].reviewsConnection).toEqual({
      nodes: expectedBusiest.slice(0, 20).map((r) => ({ id: String(r.id) })),
      pageInfo: { hasNextPage: expectedBusiest.length > 20 },
    });
    expect(result.data._entities[1].reviewsConnection).toEqual({ nodes: [], pageInfo: { hasNextPage: false } });
  });

  it.each([
    ['first: 0', 'first: 0', 'first'],
    ['first: 101', 'first: 101', 'first'],
    ['a cursor of another field', `after: "${Buffer.from('product:3').toString('base64url')}"`, 'after'],
    ['an order cursor', `after: "${encodeKeysetCursor('order', { createdAt: new Date(0), id: 3 })}"`, 'after'],
    ['garbage', 'after: "%%%"', 'after'],
  ])('refuses %s with BAD_USER_INPUT naming the argument', async (_name, args, field) => {
    const result = await entities([{ __typename: 'Product', id: '1' }], `... on Product { reviewsConnection(${args}) { nodes { id } } }`);
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors?.[0]?.extensions?.field).toBe(field);
  });
});

describe('User.reviewsConnection', () => {
  it('pages a user’s reviews to the end, each page after the last cursor, matching reviews(first: 100)', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const result: any = await entities(
        [{ __typename: 'User', id: '34' }],
        `... on User { reviewsConnection(first: 5, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`,
        { after },
        { after: 'String' },
      );
      expect(result.errors).toBeUndefined();
      const connection = result.data._entities[0].reviewsConnection;
      seen.push(...connection.edges.map((edge: any) => edge.node.id));
      expect(connection.pageInfo.endCursor).toBe(connection.edges.at(-1)?.cursor ?? null);
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(ofAuthor(34)).toHaveLength(22);
    expect(seen).toEqual(ofAuthor(34).map((r) => String(r.id)));
  });

  it('batches every user of a request into one statement', async () => {
    const { result, statements } = await countStatements(harness, () =>
      entities(
        Array.from({ length: 50 }, (_, i) => ({ __typename: 'User' as const, id: String(i + 1) })),
        `... on User { id reviewsConnection(first: 3) { nodes { id } } }`,
      ),
    );
    expect(statements).toBe(1);
    expect(result.data?._entities).toEqual(
      Array.from({ length: 50 }, (_, i) => ({ id: String(i + 1), reviewsConnection: { nodes: ofAuthor(i + 1).slice(0, 3).map((r) => ({ id: String(r.id) })) } })),
    );
  });
});

describe('reviews written at the same millisecond', () => {
  it('are ordered by id, and a cursor between them loses none and repeats none', async () => {
    const at = new Date('2027-01-01T00:00:00.000Z');
    await harness.client.review.createMany({
      data: [1, 2, 3].map((n) => ({ productId: 12, authorId: 40 + n, rating: n, body: `tie ${n}`, createdAt: at })),
    });
    const rows = await harness.client.review.findMany({ where: { productId: 12 }, orderBy: { id: 'desc' } });
    const ids = rows.map((row) => String(row.id));
    const first: any = await entities([{ __typename: 'Product', id: '12' }], `... on Product { reviewsConnection(first: 2) { nodes { id } pageInfo { hasNextPage endCursor } } }`);
    expect(first.data._entities[0].reviewsConnection.nodes).toEqual(ids.slice(0, 2).map((id) => ({ id })));
    const second: any = await entities(
      [{ __typename: 'Product', id: '12' }],
      `... on Product { reviewsConnection(first: 2, after: $after) { nodes { id } pageInfo { hasNextPage } } }`,
      { after: first.data._entities[0].reviewsConnection.pageInfo.endCursor },
      { after: 'String' },
    );
    expect(second.data._entities[0].reviewsConnection).toEqual({ nodes: [{ id: ids[2] }], pageInfo: { hasNextPage: false } });
  });
});
