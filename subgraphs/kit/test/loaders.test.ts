// The loader contract (loaders.ts): results in key order, null or [] for misses, one batch per
// tick up to a size, per-request caching by a key of the caller's choosing; and the two SQL
// statements the list and by-key loaders build, refusing anything but plain identifiers.
import { openPGlite, type PGliteDatabase } from '@commerce/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byKeys, createKeysetPerKeyLoader, createLoader, createRowByKeyLoader, createRowListsByKeyLoader, createTopPerKeyLoader, groupByKeys, rowsAfterId, runSql } from '../src/index.ts';

describe('byKeys and groupByKeys', () => {
  const rows = [
    { id: 3, key: 'c' },
    { id: 1, key: 'a' },
    { id: 4, key: 'a' },
    { id: 2, key: 'b' },
  ];

  it('put one row per key back in key order, null for a key without one (the last row of a key wins)', () => {
    expect(byKeys(['b', 'z', 'a', 'c', 'b'], rows, (row) => row.key)).toEqual([rows[3], null, rows[2], rows[0], rows[3]]);
    expect(byKeys([], rows, (row) => row.key)).toEqual([]);
  });

  it('group rows under their keys in key order, keeping the rows’ own order, [] for a key without rows', () => {
    expect(groupByKeys(['a', 'z', 'c', 'a'], rows, (row) => row.key)).toEqual([[rows[1], rows[2]], [], [rows[0]], [rows[1], rows[2]]]);
    expect(groupByKeys(['a'], [], (row: { key: string }) => row.key)).toEqual([[]]);
  });
});

describe('createLoader', () => {
  it('batches the loads of one tick into one call, with each key once', async () => {
    const calls: number[][] = [];
    const loader = createLoader<number, string>(async (keys) => (calls.push([...keys]), keys.map((key) => `#${key}`)));
    expect(await Promise.all([loader.load(3), loader.load(1), loader.load(3)])).toEqual(['#3', '#1', '#3']);
    expect(calls).toEqual([[3, 1]]);
    // Cached for the loader's life (one request): no second call.
    expect(await loader.load(1)).toBe('#1');
    expect(calls).toHaveLength(1);
  });

  it('splits batches at 1,000 keys by default, or at the size asked for', async () => {
    const sizes: number[] = [];
    const loader = createLoader<number, number>(async (keys) => (sizes.push(keys.length), [...keys]));
    await Promise.all(Array.from({ length: 2_500 }, (_, i) => loader.load(i)));
    expect(sizes).toEqual([1_000, 1_000, 500]);
    sizes.length = 0;
    const small = createLoader<number, number>(async (keys) => (sizes.push(keys.length), [...keys]), { maxBatchSize: 2 });
    await Promise.all([1, 2, 3].map((i) => small.load(i)));
    expect(sizes).toEqual([2, 1]);
  });

  it('caches object keys by the cache key asked for', async () => {
    const calls: unknown[][] = [];
    const loader = createLoader<{ id: number; extra: string }, number, number>(async (keys) => (calls.push([...keys]), keys.map((key) => key.id)), { cacheKey: (key) => key.id });
    await Promise.all([loader.load({ id: 1, extra: 'a' }), loader.load({ id: 1, extra: 'b' }), loader.load({ id: 2, extra: 'a' })]);
    expect(calls).toEqual([[{ id: 1, extra: 'a' }, { id: 2, extra: 'a' }]]);
  });
});

describe('the list loaders', () => {
  let db: PGliteDatabase;
  const statements: { text: string; values: unknown[] }[] = [];
  type Note = { id: number; ownerId: number; createdAt: Date };

  beforeAll(async () => {
    db = await openPGlite({ service: 'kit', kind: 'pglite' });
    // owner = (g % 3) + 1: owner 1 has 3, 6, …, 30; owner 2 has 1, 4, …, 28; owner 3 has 2, 5, …, 29.
    await db.pglite.exec(`
      CREATE TABLE notes (id serial primary key, owner_id int not null, created_at timestamptz(3) not null, body text not null default '');
      INSERT INTO notes (owner_id, created_at) SELECT (g % 3) + 1, timestamptz '2026-01-01' + g * interval '1 minute' FROM generate_series(1, 30) g;`);
  });
  afterAll(() => db.close());

  const run = async (text: string, ...values: unknown[]) => {
    statements.push({ text, values });
    return (await db.pglite.query(text, values)).rows;
  };
  const top = (columns: Record<string, string> = { id: 'id', ownerId: 'owner_id' }) =>
    createTopPerKeyLoader<Note>(run, { table: 'notes', keyColumn: 'owner_id', columns, orderBy: 'created_at DESC, id DESC' });

  it('top per key: one statement for the largest page asked, each request trimmed to its own, rows without the helper column', async () => {
    statements.length = 0;
    const loader = top({ id: 'id', ownerId: 'owner_id', createdAt: 'created_at' });
    const [one, three, again, other] = await Promise.all([
      loader.load({ key: 1, first: 1 }),
      loader.load({ key: 1, first: 3 }),
      loader.load({ key: 1, first: 1 }),
      loader.load({ key: 3, first: 2 }),
    ]);
    expect(statements).toHaveLength(1);
    expect(statements[0]!.values).toEqual([[1, 3], 3]);
    expect(statements[0]!.text).toBe(
      'SELECT "id" AS "id", "owner_id" AS "ownerId", "created_at" AS "createdAt", "owner_id" AS "__key" FROM (' +
        'SELECT *, ROW_NUMBER() OVER (PARTITION BY "owner_id" ORDER BY created_at DESC, id DESC) AS "__rank" FROM "notes" WHERE "owner_id" = ANY($1::int[])' +
        ') ranked WHERE "__rank" <= $2 ORDER BY "__key", "__rank"',
    );
    expect(one).toEqual([{ id: 30, ownerId: 1, createdAt: new Date('2026-01-01T00:30:00.000Z') }]);
    expect(three.map((n) => n.id)).toEqual([30, 27, 24]);
    expect(again).toBe(one);
    expect(other.map((n) => n.id)).toEqual([29, 26]);
    expect(Object.keys(three[0]!)).toEqual(['id', 'ownerId', 'createdAt']);
  });

  it('keyset: one statement with every request unnested, a first page after infinity', async () => {
    statements.length = 0;
    const loader = createKeysetPerKeyLoader<Note>(run, { table: 'notes', keyColumn: 'owner_id', columns: { id: 'id' }, createdAtColumn: 'created_at' });
    const after = { createdAt: new Date('2026-01-01T00:27:00.000Z'), id: 27 };
    const [firstPage, next, same] = await Promise.all([
      loader.load({ key: 1, limit: 2, after: null }),
      loader.load({ key: 1, limit: 2, after }),
      loader.load({ key: 1, limit: 2, after: { ...after } }),
    ]);
    expect(statements).toHaveLength(1);
    expect(statements[0]!.values).toEqual([[1, 1], ['infinity', '2026-01-01T00:27:00.000Z'], [0, 27], [2, 2]]);
    expect(firstPage).toEqual([{ id: 30 }, { id: 27 }]);
    expect(next).toEqual([{ id: 24 }, { id: 21 }]);
    // The same position is the same cache entry.
    expect(same).toBe(next);
  });

  it.each([
    ['a table', { table: 'notes; DROP TABLE notes' }],
    ['a key column', { keyColumn: 'owner_id"' }],
    ['a result column', { columns: { id: 'id) --' } }],
    ['an upper-case name', { table: 'Notes' }],
  ])('refuses anything but plain identifiers for %s', async (_what, override) => {
    const loader = createTopPerKeyLoader<Note>(run, { table: 'notes', keyColumn: 'owner_id', columns: { id: 'id' }, orderBy: 'id', ...override });
    await expect(loader.load({ key: 1, first: 1 })).rejects.toThrow(/^topPerKeyStatement: ".*" is not a plain identifier$/);
    const keyset = createKeysetPerKeyLoader<Note>(run, { table: 'notes', keyColumn: 'owner_id', columns: { id: 'id' }, createdAtColumn: 'created_at', ...override });
    await expect(keyset.load({ key: 1, limit: 1, after: null })).rejects.toThrow(/^keysetStatement: ".*" is not a plain identifier$/);
  });

  it('refuses a keyset created-at column that is not a plain identifier', async () => {
    const keyset = createKeysetPerKeyLoader<Note>(run, { table: 'notes', keyColumn: 'owner_id', columns: { id: 'id' }, createdAtColumn: 'created_at desc' });
    await expect(keyset.load({ key: 1, limit: 1, after: null })).rejects.toThrow('keysetStatement: "created_at desc" is not a plain identifier');
  });

  it('accepts identifiers with digits and underscores', async () => {
    await db.pglite.exec('CREATE TABLE _notes_2 (id int, owner_2 int, created_at timestamptz); INSERT INTO _notes_2 VALUES (1, 5, now())');
    const loader = createTopPerKeyLoader<{ id: number }>(run, { table: '_notes_2', keyColumn: 'owner_2', columns: { id: 'id' }, orderBy: 'id' });
    expect(await loader.load({ key: 5, first: 1 })).toEqual([{ id: 1 }]);
  });
});

describe('the by-key loaders (raw SQL on Database.sql)', () => {
  let db: PGliteDatabase;
  const statements: { text: string; values: readonly unknown[] }[] = [];
  type Person = { id: number; email: string; joinedAt: Date };
  type Pet = { id: number; ownerId: number; name: string };
  const people = { table: 'people', columns: { id: 'id', email: 'email', joinedAt: 'joined_at' } } as const;
  const pets = { table: 'pets', keyColumn: 'owner_id', keyType: 'int', columns: { id: 'id', ownerId: 'owner_id', name: 'name' }, orderBy: 'name, id' } as const;

  beforeAll(async () => {
    db = await openPGlite({ service: 'kit', kind: 'pglite' });
    await db.pglite.exec(`
      CREATE TABLE people (id int primary key, email text unique not null, joined_at timestamptz(3) not null);
      INSERT INTO people VALUES (1, 'a@example.com', '2026-01-01T00:00:00Z'), (2, 'b@example.com', '2026-02-01T00:00:00Z'), (3, 'c@example.com', '2026-03-01T00:00:00Z');
      CREATE TABLE pets (id int primary key, owner_id int not null, name text not null);
      INSERT INTO pets VALUES (1, 1, 'rex'), (2, 2, 'ada'), (3, 1, 'bo'), (4, 1, 'bo');`);
    db.onStatement((text, values) => statements.push({ text, values }));
  });
  afterAll(() => db.close());

  it('reads a batch of unique keys with one statement bound to the keys asked once each, rows back in key order with the client’s types', async () => {
    statements.length = 0;
    const byId = createRowByKeyLoader<number, Person>(runSql(db.sql), { ...people, keyColumn: 'id', keyType: 'int' }, (person) => person.id);
    const found = await Promise.all([byId.load(3), byId.load(99), byId.load(1), byId.load(3)]);
    expect(found).toEqual([
      { id: 3, email: 'c@example.com', joinedAt: new Date('2026-03-01T00:00:00Z') },
      null,
      { id: 1, email: 'a@example.com', joinedAt: new Date('2026-01-01T00:00:00Z') },
      { id: 3, email: 'c@example.com', joinedAt: new Date('2026-03-01T00:00:00Z') },
    ]);
    expect(found[0]!.joinedAt).toBeInstanceOf(Date);
    expect(statements).toEqual([
      { text: 'SELECT "id" AS "id", "email" AS "email", "joined_at" AS "joinedAt" FROM "people" WHERE "id" = ANY($1::int[])', values: [[3, 99, 1]] },
    ]);
  });

  it('reads text keys as text', async () => {
    statements.length = 0;
    const byEmail = createRowByKeyLoader<string, Person>(runSql(db.sql), { ...people, keyColumn: 'email', keyType: 'text' }, (person) => person.email);
    expect((await Promise.all(['b@example.com', 'x@example.com'].map((email) => byEmail.load(email)))).map((person) => person?.id ?? null)).toEqual([2, null]);
    expect(statements.map((statement) => statement.values)).toEqual([[['b@example.com', 'x@example.com']]]);
  });

  it('a text key PostgreSQL cannot hold (NUL) matches nothing and fails no other key of its batch; alone, it sends no statement', async () => {
    statements.length = 0;
    const byEmail = createRowByKeyLoader<string, Person>(runSql(db.sql), { ...people, keyColumn: 'email', keyType: 'text' }, (person) => person.email);
    const found = await Promise.all(['a\u0000@example.com', 'a@example.com'].map((email) => byEmail.load(email)));
    expect(found.map((person) => person?.id ?? null)).toEqual([null, 1]);
    expect(statements.map((statement) => statement.values)).toEqual([[['a@example.com']]]);
    statements.length = 0;
    const fresh = createRowByKeyLoader<string, Person>(runSql(db.sql), { ...people, keyColumn: 'email', keyType: 'text' }, (person) => person.email);
    expect(await fresh.load('\u0000')).toBeNull();
    expect(statements).toEqual([]);
  });

  it('lists: each key’s rows in the order asked for, [] for a key without rows, one statement', async () => {
    statements.length = 0;
    const petsOf = createRowListsByKeyLoader<number, Pet>(runSql(db.sql), pets, (pet) => pet.ownerId);
    expect(await Promise.all([petsOf.load(1), petsOf.load(3), petsOf.load(2)])).toEqual([
      [
        { id: 3, ownerId: 1, name: 'bo' },
        { id: 4, ownerId: 1, name: 'bo' },
        { id: 1, ownerId: 1, name: 'rex' },
      ],
      [],
      [{ id: 2, ownerId: 2, name: 'ada' }],
    ]);
    expect(statements).toHaveLength(1);
    expect(statements[0]!.text).toMatch(/ WHERE "owner_id" = ANY\(\$1::int\[\]\) ORDER BY name, id$/);
  });

  it('pages in id order after a position, filtered by equality where a filter has a value, in one statement each', async () => {
    statements.length = 0;
    const run = runSql(db.sql);
    const petColumns = { id: 'id', ownerId: 'owner_id', name: 'name' };
    expect(await rowsAfterId<Pet>(run, { table: 'pets', columns: petColumns }, null, 2)).toEqual([
      { id: 1, ownerId: 1, name: 'rex' },
      { id: 2, ownerId: 2, name: 'ada' },
    ]);
    expect(await rowsAfterId<Pet>(run, { table: 'pets', columns: petColumns, filters: { owner_id: 1 } }, 1, 10)).toEqual([
      { id: 3, ownerId: 1, name: 'bo' },
      { id: 4, ownerId: 1, name: 'bo' },
    ]);
    // A null filter filters nothing.
    expect((await rowsAfterId<Pet>(run, { table: 'pets', columns: petColumns, filters: { owner_id: null } }, 2, 10)).map((pet) => pet.id)).toEqual([3, 4]);
    expect(statements.map((statement) => [statement.text.slice(statement.text.indexOf(' FROM ')), statement.values])).toEqual([
      [' FROM "pets" ORDER BY "id" LIMIT $1', [2]],
      [' FROM "pets" WHERE "owner_id" = $1 AND "id" > $2 ORDER BY "id" LIMIT $3', [1, 1, 10]],
      [' FROM "pets" WHERE "id" > $1 ORDER BY "id" LIMIT $2', [2, 10]],
    ]);
    await expect(rowsAfterId<Pet>(run, { table: 'pets', columns: petColumns, filters: { 'owner_id = 1 OR true --': 1 } }, null, 1)).rejects.toThrow(
      'rowsAfterId: "owner_id = 1 OR true --" is not a plain identifier',
    );
  });

  it.each([
    ['a table', { table: 'people; DROP TABLE people' }],
    ['a key column', { keyColumn: 'id"' }],
    ['a result column', { columns: { id: 'id) --', email: 'email', joinedAt: 'joined_at' } }],
  ])('refuses anything but plain identifiers for %s', async (_what, override) => {
    const loader = createRowByKeyLoader<number, Person>(runSql(db.sql), { ...people, keyColumn: 'id', keyType: 'int', ...override }, (person) => person.id);
    await expect(loader.load(1)).rejects.toThrow(/^rowsByKeyStatement: ".*" is not a plain identifier$/);
  });
});
