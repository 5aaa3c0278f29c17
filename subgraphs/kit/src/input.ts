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

/** One row of a Relay-style connection: the row and the cursor that continues after it. */
export interface Edge<Row> {
  cursor: string;
  node: Row;
}

/**
 * A page as every connection field returns it: `nodes` for clients that only want the rows, and
 * Relay-style `edges { cursor node }` for clients whose caches merge pages by cursor (Apollo
 * Client's `relayStylePagination()` keeps only the last page without them).
 */
export interface Connection<Row> {
  nodes: Row[];
  edges: Edge<Row>[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/**
 * Builds a page from rows fetched with `take + 1`: the extra row only tells whether there is a
 * next page and is not returned. The cursor of each row is `cursorOf(row)`, or for id-ordered
 * lists `encodeCursor(prefix, row.id)` when a prefix is given.
 */
export function toConnection<Row extends { id: number }>(rows: Row[], page: Pick<Page, 'take'>, cursorPrefix: string): Connection<Row>;
export function toConnection<Row>(rows: Row[], page: Pick<Page, 'take'>, cursorOf: (row: Row) => string): Connection<Row>;
export function toConnection<Row>(rows: Row[], page: Pick<Page, 'take'>, cursor: string | ((row: Row) => string)): Connection<Row> {
  const cursorOf = typeof cursor === 'string' ? (row: Row) => encodeCursor(cursor, (row as { id: number }).id) : cursor;
  const nodes = rows.slice(0, page.take);
  const edges = nodes.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    nodes,
    edges,
    pageInfo: {
      hasNextPage: rows.length > page.take,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

// --- Keyset pagination: newest first ------------------------------------------------------------

/** Where a newest-first list continues: after the row with this (createdAt, id), exclusive. */
export interface KeysetPosition {
  createdAt: Date;
  id: number;
}

export interface KeysetPage {
  take: number;
  /** The position to continue after, or null for the first page. */
  after: KeysetPosition | null;
}

/** Cursors of newest-first lists: base64url of `<prefix>:<createdAt epoch ms>:<id>`, opaque to clients. */
export function encodeKeysetCursor(prefix: string, position: KeysetPosition): string {
  return Buffer.from(`${prefix}:${position.createdAt.getTime()}:${position.id}`).toString('base64url');
}

/**
 * `first`/`after` of a list ordered by (createdAt DESC, id DESC). A position rather than an id,
 * so the next page is one index range scan (`(created_at, id) < (…)`) however deep it is, and
 * rows added meanwhile never shift the page (they are newer, so before it).
 */
export function parseKeysetPage(args: PageArgs, bounds: PageBounds, cursorPrefix: string): KeysetPage {
  const take = args.first ?? bounds.defaultSize;
  requireInt(take, 'first', { min: 1, max: bounds.maxSize });
  if (args.after === undefined || args.after === null) return { take, after: null };
  const [prefix, ms, id, ...rest] = Buffer.from(args.after, 'base64url').toString('utf8').split(':');
  const afterId = tryParseId(id);
  const time = /^\d{1,15}$/.test(String(ms)) ? Number(ms) : Number.NaN;
  const createdAt = new Date(time);
  if (prefix !== cursorPrefix || rest.length > 0 || afterId === null || Number.isNaN(createdAt.getTime())) {
    throw badUserInput('after is not a cursor returned by this field', 'after');
  }
  return { take, after: { createdAt, id: afterId } };
}
