import { openPGlite, type PGliteDatabase } from '@commerce/db';
import { GraphQLError } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeysetPerKeyLoader, encodeCursor, encodeKeysetCursor, parseKeysetPage, toConnection } from '../src/index.ts';

const BOUNDS = { defaultSize: 20, maxSize: 100 };

describe('toConnection', () => {
  it('gives nodes and Relay-style edges of one page, the extra row only telling that more follow', () => {
    const rows = [{ id: 3 }, { id: 5 }, { id: 8 }];
    expect(toConnection(rows, { take: 2 }, 'user')).toEqual({
      nodes: [{ id: 3 }, { id: 5 }],
      edges: [
        { cursor: encodeCursor('user', 3), node: { id: 3 } },
        { cursor: encodeCursor('user', 5), node: { id: 5 } },
      ],
      pageInfo: { hasNextPage: true, endCursor: encodeCursor('user', 5) },
    });
  });

  it('shares one object per row between nodes and edges, and ends a last page', () => {
    const rows = [{ id: 1 }];
    const page = toConnection(rows, { take: 2 }, (row) => `c${row.id}`);
    expect(page.edges[0]?.node).toBe(page.nodes[0]);
    expect(page.pageInfo).toEqual({ hasNextPage: false, endCursor: 'c1' });
    expect(toConnection([], { take: 2 }, 'user')).toEqual({ nodes: [], edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });
});

describe('keyset cursors', () => {
  const position = { createdAt: new Date('2026-03-04T05:06:07.089Z'), id: 42 };

  it('round-trip a (createdAt, id) position', () => {
    expect(parseKeysetPage({ first: 5, after: encodeKeysetCursor('review', position) }, BOUNDS, 'review')).toEqual({ take: 5, after: position });
    expect(parseKeysetPage({}, BOUNDS, 'review')).toEqual({ take: 20, after: null });
  });

  it.each([
    ['another list’s cursor', encodeKeysetCursor('order', { createdAt: new Date(0), id: 1 })],
    ['an id cursor', encodeCursor('review', 42)],
    ['garbage', 'not a cursor'],
    ['a bad id', Buffer.from('review:1000:0').toString('base64url')],
    ['a bad time', Buffer.from('review:-5:3').toString('base64url')],
    ['extra parts', Buffer.from('review:1000:3:4').toString('base64url')],
  ])('refuse %s with BAD_USER_INPUT naming after', (_name, after) => {
    try {
      parseKeysetPage({ after }, BOUNDS, 'review');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(GraphQLError);
      expect((error as GraphQLError).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    }
  });

  it.each([0, 101])('refuse first: %i naming first', (first) => {
    expect(() => parseKeysetPage({ first }, BOUNDS, 'review')).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ field: 'first' }) }));
  });
});

describe('createKeysetPerKeyLoader', () => {
  let db: PGliteDatabase;
  const statements: string[] = [];
  type Note = { id: number; ownerId: number; createdAt: Date };

  beforeAll(async () => {
    db = await openPGlite({ service: 'kit', kind: 'pglite' });
    // owner = (g % 3) + 1; notes 31 and 32 share note 30's minute, so ids break the tie.
    await db.pglite.exec(`
      CREATE TABLE notes (id serial primary key, owner_id int not null, created_at timestamptz(3) not null);
      CREATE INDEX ON notes (owner_id, created_at DESC, id DESC);
      INSERT INTO notes (owner_id, created_at)
        SELECT (g % 3) + 1, timestamptz '2026-01-01' + g * interval '1 minute' FROM generate_series(1, 30) g;
      INSERT INTO notes (owner_id, created_at) VALUES (1, timestamptz '2026-01-01' + 30 * interval '1 minute'), (1, timestamptz '2026-01-01' + 30 * interval '1 minute');`);
  });
  afterAll(() => db.close());

  const run = async (text: string, ...values: unknown[]) => {
    statements.push(text);
    return (await db.pglite.query(text, values)).rows;
  };
  const loader = () =>
    createKeysetPerKeyLoader<Note>(run, { table: 'notes', keyColumn: 'owner_id', columns: { id: 'id', ownerId: 'owner_id', createdAt: 'created_at' }, createdAtColumn: 'created_at' });
  const at = (id: number, rows: Note[]) => {
    const row = rows.find((r) => r.id === id)!;
    return { createdAt: row.createdAt, id: row.id };
  };

  it('loads each request’s page (own key, size and position) in one statement, newest first with id breaking ties', async () => {
    const first = await loader().load({ key: 1, limit: 4, after: null });
    // Owner 1: g = 3, 6, …, 30, plus 31 and 32 at g = 30's time.
    expect(first.map((r) => r.id)).toEqual([32, 31, 30, 27]);
    expect(first[0]?.createdAt).toBeInstanceOf(Date);

    statements.length = 0;
    const batch = loader();
    const [next, tie, two, none, again] = await Promise.all([
      batch.load({ key: 1, limit: 3, after: at(27, first) }),
      batch.load({ key: 1, limit: 2, after: at(31, first) }),
      batch.load({ key: 2, limit: 2, after: null }),
      batch.load({ key: 99, limit: 5, after: null }),
      batch.load({ key: 1, limit: 3, after: at(27, first) }),
    ]);
    expect(statements).toHaveLength(1);
    expect(next.map((r) => r.id)).toEqual([24, 21, 18]);
    expect(tie.map((r) => r.id)).toEqual([30, 27]);
    expect(two.map((r) => r.id)).toEqual([28, 25]);
    expect(none).toEqual([]);
    expect(again).toBe(next);
  });

  it('ends at the oldest row', async () => {
    expect((await loader().load({ key: 3, limit: 100, after: null })).map((r) => r.id)).toEqual([29, 26, 23, 20, 17, 14, 11, 8, 5, 2]);
    const oldest = await loader().load({ key: 3, limit: 100, after: { createdAt: new Date('2026-01-01T00:02:00.000Z'), id: 2 } });
    expect(oldest).toEqual([]);
  });
});
