// The harness's readers of the statements a run sent, which every service's entities-key-order
// test relies on: keyedReads in the order sent, keyedReadsByColumn when the order is not the point.
import { describe, expect, it } from 'vitest';
import { keyedReads, keyedReadsByColumn } from '../src/testing.ts';

const BY_ID = 'SELECT "id" AS "id" FROM "users" WHERE "id" = ANY($1::int[])';
const BY_EMAIL = 'SELECT "id" AS "id" FROM "users" WHERE "email" = ANY($1::text[])';

describe('keyedReads', () => {
  it('reads each by-key statement as its table, column and sorted keys, in the order sent, and keeps any other as its SQL', () => {
    const sql = [BY_EMAIL, BY_ID, 'SELECT 1'];
    expect(keyedReads({ sql, values: [[['b@x', 'a@x']], [[42, 3, 10]], []] })).toEqual([
      { table: 'users', column: 'email', keys: ['a@x', 'b@x'] },
      { table: 'users', column: 'id', keys: [3, 10, 42] },
      'SELECT 1',
    ]);
  });
});

describe('keyedReadsByColumn', () => {
  it('maps each column read to its sorted keys, whatever the order the reads were sent in', () => {
    const reads = { 'users.id': [3, 42], 'users.email': ['a@x'] };
    expect(keyedReadsByColumn({ sql: [BY_ID, BY_EMAIL], values: [[[42, 3]], [['a@x']]] })).toEqual(reads);
    expect(keyedReadsByColumn({ sql: [BY_EMAIL, BY_ID], values: [[['a@x']], [[42, 3]]] })).toEqual(reads);
  });

  it('refuses a column read twice and a statement that is no keyed read', () => {
    expect(() => keyedReadsByColumn({ sql: [BY_ID, BY_ID], values: [[[1]], [[2]]] })).toThrow('users.id read twice');
    expect(() => keyedReadsByColumn({ sql: [BY_ID, 'SELECT 1'], values: [[[1]], []] })).toThrow('not a keyed read: SELECT 1');
  });
});
