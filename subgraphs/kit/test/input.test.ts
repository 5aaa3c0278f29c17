// Input checks at the resolver edge (input.ts), each at its bounds, with the exact message and
// field a client gets: ids, text (Unicode, control characters, bidirectional overrides, length),
// integers, emails, and the cursors and page sizes of lists.
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { encodeCursor, encodeKeysetCursor, parseId, parseKeysetPage, parsePage, requireEmail, requireInt, requireText, toConnection, tryParseId } from '../src/index.ts';

/** The BAD_USER_INPUT `run` throws, as [message, field]. */
function refusal(run: () => unknown): [string, unknown] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).extensions.code).toBe('BAD_USER_INPUT');
    return [(error as GraphQLError).message, (error as GraphQLError).extensions.field];
  }
  throw new Error('expected BAD_USER_INPUT');
}

describe('ids', () => {
  it('parses positive int4 ids from strings and numbers', () => {
    expect(parseId('1', 'id')).toBe(1);
    expect(parseId(2147483647, 'id')).toBe(2147483647);
    expect(parseId('999999999', 'id')).toBe(999999999);
  });

  it.each(['0', '-1', '01', '1.5', '1e3', 'abc', '', ' 1', '1 ', '2147483648', '9999999999', '12345678901'])('refuses %j naming the field and what it got', (raw) => {
    expect(refusal(() => parseId(raw, 'input.productId'))).toEqual([`input.productId must be a positive integer id, got "${raw}"`, 'input.productId']);
  });

  it('shortens a long bad id in the message to 40 characters', () => {
    expect(refusal(() => parseId('x'.repeat(41), 'id'))[0]).toBe(`id must be a positive integer id, got "${'x'.repeat(40)}…"`);
    expect(refusal(() => parseId('x'.repeat(40), 'id'))[0]).toBe(`id must be a positive integer id, got "${'x'.repeat(40)}"`);
  });

  it('tryParseId: the id, or null for anything that cannot be one', () => {
    expect(tryParseId('7')).toBe(7);
    expect(tryParseId(7)).toBe(7);
    expect(tryParseId('2147483647')).toBe(2147483647);
    for (const raw of ['2147483648', '0', '07', 'x', '', null, undefined, {}, ['7'], 7.5, true]) expect(tryParseId(raw), String(raw)).toBeNull();
  });
});

describe('text', () => {
  it('trims, and keeps text within its bounds', () => {
    expect(requireText('  hello  ', 'name', { max: 5 })).toBe('hello');
    expect(requireText('ab', 'name', { min: 2, max: 2 })).toBe('ab');
    expect(requireText('line one\nline two\r\n\tindented', 'body', { max: 100, multiline: true })).toBe('line one\nline two\r\n\tindented');
    expect(requireText('tab\tinside', 'name', { max: 20 })).toBe('tab\tinside');
    expect(requireText('😀 emoji and ñ', 'name', { max: 20 })).toBe('😀 emoji and ñ');
  });

  it.each([
    ['empty', '', { max: 5 }, 'name must not be empty'],
    ['blank', '   \t ', { max: 5 }, 'name must not be empty'],
    ['too short', ' a ', { min: 2, max: 5 }, 'name must be at least 2 characters'],
    ['too long', 'abcdef', { max: 5 }, 'name must be at most 5 characters, got 6'],
    ['a lone high surrogate', 'a\ud800b', { max: 5 }, 'name is not valid Unicode text'],
    ['a lone low surrogate', '\udc00', { max: 5 }, 'name is not valid Unicode text'],
    ['NUL', 'a\u0000b', { max: 5 }, 'name must not contain control characters'],
    ['a backspace', 'a\u0008', { max: 5 }, 'name must not contain control characters'],
    ['a vertical tab', 'a\u000bb', { max: 5 }, 'name must not contain control characters'],
    ['a form feed', 'a\u000cb', { max: 5 }, 'name must not contain control characters'],
    ['a shift-out', 'a\u000eb', { max: 5 }, 'name must not contain control characters'],
    ['a unit separator', 'a\u001fb', { max: 5 }, 'name must not contain control characters'],
    ['DEL', 'a\u007fb', { max: 5 }, 'name must not contain control characters'],
    ['a line feed in single-line text', 'a\nb', { max: 5 }, 'name must not contain control characters'],
    ['a carriage return in single-line text', 'a\rb', { max: 5 }, 'name must not contain control characters'],
    ['a right-to-left override', 'a\u202eb', { max: 5 }, 'name must not contain bidirectional control characters'],
    ['a left-to-right embedding', '\u202ab', { max: 5 }, 'name must not contain bidirectional control characters'],
    ['a first-strong isolate', 'a\u2068', { max: 5 }, 'name must not contain bidirectional control characters'],
    ['a pop directional isolate', 'a\u2069', { max: 5 }, 'name must not contain bidirectional control characters'],
    ['a left-to-right isolate', '\u2066', { max: 5 }, 'name must not contain bidirectional control characters'],
  ])('refuses %s', (_what, value, bounds, message) => {
    expect(refusal(() => requireText(value, 'name', bounds))).toEqual([message, 'name']);
  });

  it('allows characters just outside the refused ranges', () => {
    expect(requireText('a\u0020b\u007e\u0080\u2029\u206a\u2065', 'name', { max: 20 })).toBe('a b~\u0080\u2029\u206a\u2065');
    expect(requireText('\u202f', 'name', { min: 0, max: 5 })).toBe('');
  });

  it('measures after trimming', () => {
    expect(requireText(`  ${'z'.repeat(5)}  `, 'name', { max: 5 })).toBe('zzzzz');
  });
});

describe('integers', () => {
  it('accepts integers within the bounds, the bounds included', () => {
    expect(requireInt(1, 'rating', { min: 1, max: 5 })).toBe(1);
    expect(requireInt(5, 'rating', { min: 1, max: 5 })).toBe(5);
  });

  it.each([0, 6, 2.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses %s naming the bounds', (value) => {
    expect(refusal(() => requireInt(value, 'input.rating', { min: 1, max: 5 }))).toEqual([`input.rating must be an integer from 1 to 5, got ${value}`, 'input.rating']);
  });
});

describe('emails', () => {
  it('lower-cases and trims an address', () => {
    expect(requireEmail('  Ada.Lovelace@Example.COM ', 'input.email')).toBe('ada.lovelace@example.com');
    expect(requireEmail(`${'a'.repeat(242)}@example.com`, 'input.email')).toHaveLength(254);
  });

  it.each(['plain', 'a@b', '@example.com', 'a@.com ', 'a b@example.com', 'a@b@c.com', 'a@exa mple.com', 'a@example.', 'a@example.com and more', 'a@example.com@x'])('refuses %j', (value) => {
    expect(refusal(() => requireEmail(value, 'input.email'))).toEqual(['input.email must be an email address', 'input.email']);
  });

  it('refuses an address over 254 characters, or empty, by length first', () => {
    expect(refusal(() => requireEmail(`${'a'.repeat(243)}@example.com`, 'input.email'))).toEqual(['input.email must be at most 254 characters, got 255', 'input.email']);
    expect(refusal(() => requireEmail('', 'input.email'))).toEqual(['input.email must not be empty', 'input.email']);
  });
});

describe('pages', () => {
  const BOUNDS = { defaultSize: 20, maxSize: 100 };

  it('takes the default size, or `first` from 1 to the maximum', () => {
    expect(parsePage({}, BOUNDS, 'user')).toEqual({ take: 20, afterId: null });
    expect(parsePage({ first: null, after: null }, BOUNDS, 'user')).toEqual({ take: 20, afterId: null });
    expect(parsePage({ first: 1 }, BOUNDS, 'user')).toEqual({ take: 1, afterId: null });
    expect(parsePage({ first: 100 }, BOUNDS, 'user')).toEqual({ take: 100, afterId: null });
    expect(refusal(() => parsePage({ first: 0 }, BOUNDS, 'user'))).toEqual(['first must be an integer from 1 to 100, got 0', 'first']);
    expect(refusal(() => parsePage({ first: 101 }, BOUNDS, 'user'))).toEqual(['first must be an integer from 1 to 100, got 101', 'first']);
  });

  it('encodes cursors as base64url of prefix:id, and continues after one', () => {
    expect(encodeCursor('user', 17)).toBe(Buffer.from('user:17').toString('base64url'));
    expect(parsePage({ first: 5, after: encodeCursor('user', 17) }, BOUNDS, 'user')).toEqual({ take: 5, afterId: 17 });
  });

  it.each([
    ['another list’s cursor', encodeCursor('product', 17)],
    ['a cursor without an id', Buffer.from('user:').toString('base64url')],
    ['a cursor with a bad id', Buffer.from('user:0').toString('base64url')],
    ['garbage', '%%%'],
    ['an empty cursor', ''],
  ])('refuses %s naming after', (_what, after) => {
    expect(refusal(() => parsePage({ after }, BOUNDS, 'user'))).toEqual(['after is not a cursor returned by this field', 'after']);
  });

  it('keyset: encodes prefix, epoch milliseconds and id, and refuses a time that is not 1 to 15 digits', () => {
    const position = { createdAt: new Date(1_700_000_000_123), id: 9 };
    expect(encodeKeysetCursor('review', position)).toBe(Buffer.from('review:1700000000123:9').toString('base64url'));
    expect(parseKeysetPage({ first: 3, after: encodeKeysetCursor('review', position) }, BOUNDS, 'review')).toEqual({ take: 3, after: position });
    expect(parseKeysetPage({ after: Buffer.from('review:0:1').toString('base64url') }, BOUNDS, 'review')).toEqual({ take: 20, after: { createdAt: new Date(0), id: 1 } });
    for (const bad of ['review::1', 'review:1.5:1', 'review:1234567890123456:1', 'review:12:x', 'review:12']) {
      expect(refusal(() => parseKeysetPage({ after: Buffer.from(bad).toString('base64url') }, BOUNDS, 'review')), bad).toEqual(['after is not a cursor returned by this field', 'after']);
    }
    expect(parseKeysetPage({ after: null }, BOUNDS, 'review')).toEqual({ take: 20, after: null });
    expect(refusal(() => parseKeysetPage({ first: 101 }, BOUNDS, 'review'))).toEqual(['first must be an integer from 1 to 100, got 101', 'first']);
  });

  it('builds a connection of exactly `take` rows, with a next page only when a row more came', () => {
    const rows = [{ id: 1 }, { id: 2 }];
    expect(toConnection(rows, { take: 2 }, 'user').pageInfo).toEqual({ hasNextPage: false, endCursor: encodeCursor('user', 2) });
    expect(toConnection(rows, { take: 1 }, 'user')).toEqual({
      nodes: [{ id: 1 }],
      edges: [{ cursor: encodeCursor('user', 1), node: { id: 1 } }],
      pageInfo: { hasNextPage: true, endCursor: encodeCursor('user', 1) },
    });
  });
});
