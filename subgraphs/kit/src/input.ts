import { badUserInput } from './errors.ts';

/**
 * Input checks at the resolver edge. Each names the offending field so a client can point at it,
 * and each throws BAD_USER_INPUT before any database work happens.
 */

const MAX_INT4 = 2_147_483_647;

/** Entity ids are positive 32-bit integers, carried as GraphQL `ID` strings. */
export function parseId(raw: string | number, field: string): number {
  const text = String(raw);
  if (!/^[1-9]\d{0,9}$/.test(text) || Number(text) > MAX_INT4) {
    throw badUserInput(`${field} must be a positive integer id, got "${truncate(text)}"`, field);
  }
  return Number(text);
}

/** Like `parseId`, but for lookups where a malformed key simply matches nothing. */
export function tryParseId(raw: unknown): number | null {
  if (typeof raw !== 'string' && typeof raw !== 'number') return null;
  const text = String(raw);
  return /^[1-9]\d{0,9}$/.test(text) && Number(text) <= MAX_INT4 ? Number(text) : null;
}

/** C0 controls but tab, line feed and carriage return; and DEL. NUL in particular: PostgreSQL refuses it in text. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
/** Bidirectional overrides and isolates: they make text display in another order than it is stored ("Trojan Source"). */
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/;
const LINE_BREAK = /[\r\n]/;

/**
 * Trimmed text of a bounded length, well-formed and printable: a lone surrogate (which cannot be
 * stored as UTF-8), control characters and bidirectional overrides are refused; line breaks only
 * where `multiline` says so.
 */
export function requireText(value: string, field: string, { min = 1, max, multiline = false }: { min?: number; max: number; multiline?: boolean }): string {
  if (!value.isWellFormed()) throw badUserInput(`${field} is not valid Unicode text`, field);
  if (CONTROL.test(value) || (!multiline && LINE_BREAK.test(value))) throw badUserInput(`${field} must not contain control characters`, field);
  if (BIDI_CONTROL.test(value)) throw badUserInput(`${field} must not contain bidirectional control characters`, field);
  const text = value.trim();
  if (text.length < min) {
    throw badUserInput(min === 1 ? `${field} must not be empty` : `${field} must be at least ${min} characters`, field);
  }
  if (text.length > max) throw badUserInput(`${field} must be at most ${max} characters, got ${text.length}`, field);
  return text;
}

export function requireInt(value: number, field: string, { min, max }: { min: number; max: number }): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw badUserInput(`${field} must be an integer from ${min} to ${max}, got ${value}`, field);
  }
  return value;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function requireEmail(value: string, field: string): string {
  const email = requireText(value, field, { max: 254 }).toLowerCase();
  if (!EMAIL.test(email)) throw badUserInput(`${field} must be an email address`, field);
  return email;
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

// --- Cursor pagination -------------------------------------------------------------------------

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface PageBounds {
  defaultSize: number;
  maxSize: number;
}

export interface Page {
  take: number;
  /** The id to continue after (exclusive), or null for the first page. */
  afterId: number | null;
}

/** Cursors are opaque to clients: base64url of `<prefix>:<id>`. */
export function encodeCursor(prefix: string, id: number): string {
  return Buffer.from(`${prefix}:${id}`).toString('base64url');
}

export function parsePage(args: PageArgs, bounds: PageBounds, cursorPrefix: string): Page {
  const take = args.first ?? bounds.defaultSize;
  requireInt(take, 'first', { min: 1, max: bounds.maxSize });
  if (args.after === undefined || args.after === null) return { take, afterId: null };
  const decoded = Buffer.from(args.after, 'base64url').toString('utf8');
  const [prefix, id] = decoded.split(':');
  const afterId = prefix === cursorPrefix ? tryParseId(id) : null;
  if (afterId === null) throw badUserInput('after is not a cursor returned by this field', 'after');
  return { take, afterId };
}

/**
 * Builds a page from rows fetched with `take + 1`: the extra row only tells whether there is a
 * next page and is not returned.
 */
export function toConnection<Row extends { id: number }>(rows: Row[], page: Page, cursorPrefix: string) {
  const nodes = rows.slice(0, page.take);
  const last = nodes.at(-1);
  return {
    nodes,
    pageInfo: {
      hasNextPage: rows.length > page.take,
      endCursor: last ? encodeCursor(cursorPrefix, last.id) : null,
    },
  };
}
