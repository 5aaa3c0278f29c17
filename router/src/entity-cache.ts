import { createHash } from 'node:crypto';
import type { GatewayGraphQLRequest, GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { EntityRef, Logger } from '@commerce/service-kit/core';
import { Kind, parse, type FieldNode, type FragmentDefinitionNode, type GraphQLFormattedError, type SelectionNode } from 'graphql';
import type { Redis } from 'ioredis';
import type { GuardedFields } from './merge.ts';

/**
 * The entity cache (docs/DESIGN.md, "Entity cache"): answers of subgraph fetches kept by the
 * router, per subgraph, fetch text, variables and (for `_entities`) representation, so a repeated
 * read costs no subgraph request, HTTP hop or second GraphQL execution.
 *
 * - **What may be cached** is declared by the owners: `@cacheable(maxAge: N)` on a field in a
 *   subgraph's SDL, composed into the supergraph. A fetch is cached only when every field it
 *   selects has a lifetime (its own, or inherited from the field it is under; `__typename` and an
 *   entity's `id` need none) and none is guarded by an authorization directive: nothing that can
 *   depend on the caller is ever shared across callers. Its lifetime is the shortest of them.
 * - **Entity fetches** (`_entities`) are cached per representation: a fetch for ten products of
 *   which seven are cached sends the subgraph only the other three, and the answer is put back in
 *   the gateway's order (errors re-pathed). Only representations with an `id` are cached, and an
 *   entity that came back `null` or with an error is never stored.
 * - **Root fetches** whose every root field is `@cacheable` are cached whole, per variables,
 *   unless a root field is null (nothing in such an answer names what would have to empty it).
 * - **Freshness**: the store keeps one sequence; a domain event that changes an entity stamps its
 *   tags with the next number (invalidate()). Every entry records the sequence read *before* its
 *   fetch was sent and depends on tags: `Type:id` for an entity; for a root answer, `Type:id` of
 *   every entity in it whose id it holds, `Type:*` for a type it holds without ids, and `Type:+`
 *   for a list of a type (bumped when one is created). An entry is fresh while none of its tags was
 *   stamped after its sequence: a fill that raced a change read the sequence before the stamp, so
 *   it is never served. `maxAge` bounds how long an entry lives even if an event were lost.
 * - **Tags belong to a subgraph**: an entry depends on the tags of the subgraph that answered it
 *   (`inventory/Product:7`), and an event stamps those of its publisher only. A service's events
 *   announce changes to its own data, and a subgraph answers only from its own database, so a
 *   restock empties inventory's entries for the product and leaves its name, price and reviews
 *   cached.
 */

/** What the supergraph declares cacheable. */
export interface CachePolicy {
  /** `Type.field` → maxAge seconds, from `@cacheable`. */
  lifetimes: Map<string, number>;
  /** Object types keyed by `id` in some subgraph: what events invalidate. */
  entityTypes: Set<string>;
  guards: GuardedFields;
}

/** Longest lifetime honoured, whatever a schema declares: the bound on an entry outliving a lost event. */
const MAX_AGE_SECONDS = 86_400;

export function cachePolicy(supergraphSdl: string, guards: GuardedFields): CachePolicy {
  const document = parse(supergraphSdl, { noLocation: true });
  const lifetimes = new Map<string, number>();
  const entityTypes = new Set<string>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const type = definition.name.value;
    for (const directive of definition.directives ?? []) {
      if (directive.name.value !== 'join__type') continue;
      const key = directive.arguments?.find((a) => a.name.value === 'key')?.value;
      if (key?.kind === Kind.STRING && key.value.trim() === 'id') entityTypes.add(type);
    }
    for (const field of definition.fields ?? []) {
      const cacheable = field.directives?.find((d) => d.name.value === 'cacheable');
      const maxAge = cacheable?.arguments?.find((a) => a.name.value === 'maxAge')?.value;
      if (maxAge?.kind === Kind.INT && Number(maxAge.value) > 0) lifetimes.set(`${type}.${field.name.value}`, Math.min(Number(maxAge.value), MAX_AGE_SECONDS));
    }
  }
  return { lifetimes, entityTypes, guards };
}

/** How one fetch text is cached, decided once per text. */
export type CacheRule =
  | { kind: 'entities'; hash: string; lifetimes: Map<string, number>; private: boolean }
  | { kind: 'root'; hash: string; lifetime: number; private: boolean; selections: readonly SelectionNode[]; fragments: ReadonlyMap<string, FragmentDefinitionNode> };

/**
 * The cache rule of a fetch, or null when it must not be cached: a mutation, directives at the
 * root, a guarded field, a field with no lifetime, a type that cannot be followed.
 */
export function cacheRuleOf(query: string, policy: CachePolicy): CacheRule | null {
  let document;
  try {
    document = parse(query, { noLocation: true });
  } catch {
    return null;
  }
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operations[0];
  if (operations.length !== 1 || !operation || operation.operation !== 'query' || operation.directives?.length) return null;
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );
  const hash = createHash('sha256').update(query).digest('base64url').slice(0, 22);
  const roots = operation.selectionSet.selections;
  const [first] = roots;
  if (roots.length === 1 && first?.kind === Kind.FIELD && first.name.value === '_entities' && !first.alias && first.selectionSet) {
    // Per entity type: the fields its fragment selects, top level declared by the owner.
    const lifetimes = new Map<string, number>();
    const byType = new Map<string, SelectionNode[]>();
    const collect = (selections: readonly SelectionNode[], seen: Set<string>): boolean => {
      for (const selection of selections) {
        if (selection.kind === Kind.INLINE_FRAGMENT && selection.typeCondition && !selection.directives?.length) {
          const type = selection.typeCondition.name.value;
          byType.set(type, [...(byType.get(type) ?? []), ...selection.selectionSet.selections]);
        } else if (selection.kind === Kind.FRAGMENT_SPREAD && !selection.directives?.length) {
          const fragment = fragments.get(selection.name.value);
          if (!fragment || seen.has(fragment.name.value)) return false;
          const type = fragment.typeCondition.name.value;
          if (type === '_Entity') {
            if (!collect(fragment.selectionSet.selections, new Set([...seen, fragment.name.value]))) return false;
          } else byType.set(type, [...(byType.get(type) ?? []), ...fragment.selectionSet.selections]);
        } else if (!(selection.kind === Kind.FIELD && selection.name.value === '__typename')) {
          return false;
        }
      }
      return true;
    };
    if (!collect(first.selectionSet.selections, new Set())) return null;
    let guarded = false;
    for (const [type, selections] of byType) {
      const walk = walkSelections(selections, type, undefined, policy, fragments, new Set());
      if (walk.lifetime > 0) lifetimes.set(type, walk.lifetime);
      guarded ||= walk.lifetime > 0 && walk.guarded;
    }
    return lifetimes.size > 0 ? { kind: 'entities', hash, lifetimes, private: guarded } : null;
  }
  const walk = walkSelections(roots, 'Query', undefined, policy, fragments, new Set());
  if (walk.lifetime <= 0) return null;
  return { kind: 'root', hash, lifetime: walk.lifetime, private: walk.guarded, selections: roots, fragments };
}

interface Walk {
  /** Seconds; 0 when something selected may not be cached. */
  lifetime: number;
  /** Whether a field behind an authorization directive is selected: the entry is then the caller's own. */
  guarded: boolean;
}

function walkSelections(
  selections: readonly SelectionNode[],
  type: string,
  inherited: number | undefined,
  policy: CachePolicy,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  seen: ReadonlySet<string>,
): Walk {
  const { fieldTypes, implementations, rules } = policy.guards;
  let lifetime = Infinity;
  let guarded = false;
  const fail = (): Walk => ({ lifetime: 0, guarded });
  for (const selection of selections) {
    let inner: Walk;
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      if (name === '__typename') continue;
      const concrete = implementations.get(type) ?? [type];
      if (concrete.some((t) => rules.has(`${t}.${name}`))) guarded = true;
      const own = concrete.map((t) => policy.lifetimes.get(`${t}.${name}`));
      // An abstract type's field is as cacheable as its least cacheable implementation.
      const declared = own.every((l) => l !== undefined) ? Math.min(...(own as number[])) : undefined;
      const field = declared ?? inherited ?? (name === 'id' && policy.entityTypes.has(type) ? Infinity : undefined);
      if (field === undefined) return fail();
      lifetime = Math.min(lifetime, field);
      if (!selection.selectionSet) continue;
      const next = fieldTypes.get(type)?.get(name);
      if (!next) return fail();
      inner = walkSelections(selection.selectionSet.selections, next, field, policy, fragments, seen);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      inner = walkSelections(selection.selectionSet.selections, selection.typeCondition?.name.value ?? type, inherited, policy, fragments, seen);
    } else {
      const fragment = fragments.get(selection.name.value);
      if (!fragment || seen.has(fragment.name.value)) return fail();
      inner = walkSelections(fragment.selectionSet.selections, fragment.typeCondition.name.value, inherited, policy, fragments, new Set([...seen, fragment.name.value]));
    }
    if (inner.lifetime <= 0) return fail();
    lifetime = Math.min(lifetime, inner.lifetime);
    guarded ||= inner.guarded;
  }
  return { lifetime: lifetime === Infinity ? MAX_AGE_SECONDS : lifetime, guarded };
}

/**
 * The tags a root answer depends on, found by walking it with its selections: `Type:id` for an
 * entity whose `id` it holds, `Type:*` for one it holds without, `Type:+` for a list of a type.
 */
export function rootTags(data: unknown, selections: readonly SelectionNode[], policy: CachePolicy, fragments: ReadonlyMap<string, FragmentDefinitionNode>): string[] {
  const tags = new Set<string>();
  const { fieldTypes } = policy.guards;
  const visit = (value: unknown, type: string, selections: readonly SelectionNode[], inList: boolean) => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, type, selections, true);
      return;
    }
    if (typeof value !== 'object') return;
    const object = value as Record<string, unknown>;
    const concrete = typeof object.__typename === 'string' ? object.__typename : type;
    // The fields this object was asked for, expanded once for the id check and the walk below.
    const fields = fieldsOf(selections, concrete, fragments);
    if (policy.entityTypes.has(concrete)) {
      const id = fields.some(([field]) => field.name.value === 'id' && !field.alias) ? object.id : undefined;
      tags.add(typeof id === 'string' || typeof id === 'number' ? `${concrete}:${id}` : `${concrete}:*`);
      if (inList) tags.add(`${concrete}:+`);
    }
    for (const [field, next] of fields) {
      const fieldType = fieldTypes.get(concrete)?.get(field.name.value) ?? fieldTypes.get(type)?.get(field.name.value);
      if (!fieldType || !field.selectionSet) continue;
      visit(object[field.alias?.value ?? field.name.value], fieldType, next, false);
    }
  };
  visit(data, 'Query', selections, false);
  return [...tags].sort();
}

/** The fields of a selection set at its level, fragments spread (those whose type condition may hold), with their own selections. */
function fieldsOf(selections: readonly SelectionNode[], type: string, fragments: ReadonlyMap<string, FragmentDefinitionNode>, seen = new Set<string>()): [FieldNode, readonly SelectionNode[]][] {
  return selections.flatMap((selection): [FieldNode, readonly SelectionNode[]][] => {
    if (selection.kind === Kind.FIELD) return [[selection, selection.selectionSet?.selections ?? []]];
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const condition = selection.typeCondition?.name.value;
      return !condition || condition === type ? fieldsOf(selection.selectionSet.selections, type, fragments, seen) : [];
    }
    const fragment = fragments.get(selection.name.value);
    if (!fragment || seen.has(fragment.name.value)) return [];
    const condition = fragment.typeCondition.name.value;
    return condition === type ? fieldsOf(fragment.selectionSet.selections, type, fragments, new Set([...seen, fragment.name.value])) : [];
  });
}

/**
 * Where entries and tag stamps live: this process's memory, or Redis shared by every router
 * replica. A tag's stamp is the sequence number of the last invalidation that named it (0 when
 * none is remembered).
 */
export interface CacheStore {
  readonly kind: 'memory' | 'redis';
  /**
   * Each entry (null when absent), the stamp of each tag, and the current sequence, read together.
   * An entry is the value written (the memory store's own copy, copied again for the caller, who
   * may change it) or, from Redis, its JSON, still to be checked.
   */
  read(keys: readonly string[], tags: readonly string[]): Promise<{ entries: (StoredEntry | string | null)[]; stamps: number[]; sequence: number }>;
  /** The stamps of these tags. */
  stamps(tags: readonly string[]): Promise<number[]>;
  /** Stores a copy of each value, taken before this returns: the caller may change the value afterwards. */
  write(entries: readonly { key: string; value: StoredEntry; ttlSeconds: number }[]): Promise<void>;
  /** Stamps these tags with the next sequence number: every entry filled from before now depending on one is stale. */
  bump(tags: readonly string[]): Promise<void>;
  /** How full a store in this process is (memory): entries held, their estimated bytes with the stamps', and entries dropped to make room. */
  occupancy?(): { entries: number; bytes: number; evictions: number };
}

/**
 * In memory (one router process), within `maxBytes` of heap (estimated: `heapBytesOf`). Room is
 * made CLOCK-wise, an approximation of least recently used: the oldest entry goes unless it was
 * read since it was last passed over; then it gets a second chance at the back of the line. A
 * hit only sets a flag: moving every read entry to the back (true LRU) churned the map enough to
 * cost 8–13 % more router CPU per cached request and 11 MB of RSS (router-only, every fetch a
 * hit). Stamps count against the same budget and are never dropped on their
 * own, or an entry filled before an invalidation could look fresh again: past half of the budget,
 * entries and stamps are cleared together, and every tag then counts as stamped at the clear (so a
 * fill still in flight from before it is not stored fresh).
 */
export function memoryStore(maxBytes = 128 * 1024 * 1024): CacheStore {
  const entries = new Map<string, { value: StoredEntry; expiresAt: number; bytes: number; read: boolean }>();
  const stamps = new Map<string, number>();
  let sequence = 0;
  let cleared = 0;
  let evictions = 0;
  let entryBytes = 0;
  let stampBytes = 0;
  const stampOf = (tag: string) => stamps.get(tag) ?? cleared;
  const drop = (key: string) => {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    entryBytes -= entry.bytes;
  };
  return {
    kind: 'memory',
    async read(keys, tags) {
      const now = Date.now();
      return {
        entries: keys.map((key) => {
          const entry = entries.get(key);
          if (!entry) return null;
          if (entry.expiresAt <= now) {
            drop(key);
            return null;
          }
          entry.read = true;
          return copyEntry(entry.value);
        }),
        stamps: tags.map(stampOf),
        sequence,
      };
    },
    async stamps(tags) {
      return tags.map(stampOf);
    },
    async write(items) {
      const now = Date.now();
      for (const { key, value, ttlSeconds } of items) {
        drop(key);
        const bytes = ENTRY_OVERHEAD_BYTES + key.length + heapBytesOf(value.d) + (value.t ? heapBytesOf(value.t) : 0);
        if (bytes > maxBytes / 16) continue; // one entry never takes a sixteenth of the budget
        // Oldest first; an entry read since it was last passed over goes to the back instead, once.
        for (const [oldest, held] of entries) {
          if (entryBytes + stampBytes + bytes <= maxBytes) break;
          entries.delete(oldest);
          if (held.read) {
            held.read = false;
            entries.set(oldest, held);
          } else {
            entryBytes -= held.bytes;
            evictions++;
          }
        }
        entries.set(key, { value: copyEntry(value), expiresAt: now + ttlSeconds * 1_000, bytes, read: false });
        entryBytes += bytes;
      }
    },
    async bump(tags) {
      sequence++;
      const adding = tags.reduce((total, tag) => total + (stamps.has(tag) ? 0 : STAMP_OVERHEAD_BYTES + tag.length), 0);
      if (stampBytes + adding > maxBytes / 2) {
        entries.clear();
        stamps.clear();
        entryBytes = 0;
        stampBytes = 0;
        cleared = sequence;
      }
      for (const tag of tags) {
        if (!stamps.has(tag)) stampBytes += STAMP_OVERHEAD_BYTES + tag.length;
        stamps.set(tag, sequence);
      }
    },
    occupancy: () => ({ entries: entries.size, bytes: entryBytes + stampBytes, evictions }),
  };
}

/** What a memory store entry takes besides its value and key: the map's slot, the record and the entry object (calibrated, DESIGN). */
const ENTRY_OVERHEAD_BYTES = 160;
/** What a stamp takes besides its tag's characters. */
const STAMP_OVERHEAD_BYTES = 64;

/**
 * Roughly the heap a value parsed from JSON takes on V8 (64-bit, no pointer compression, as Node
 * ships): objects 24 bytes plus 8 per field, arrays 32 plus 8 per item, strings 16 plus one per
 * character, numbers 16 (a boxed double at worst). The memory store's budget is counted in it.
 */
export function heapBytesOf(value: unknown): number {
  if (typeof value === 'string') return 16 + value.length;
  if (value === null || typeof value !== 'object') return 16;
  let bytes = 0;
  if (Array.isArray(value)) {
    bytes = 32 + 8 * value.length;
    for (const item of value) bytes += heapBytesOf(item);
    return bytes;
  }
  bytes = 24;
  for (const key of Object.keys(value)) bytes += 8 + heapBytesOf((value as Record<string, unknown>)[key]);
  return bytes;
}

/** One invalidation in Redis: the next sequence number, set on every tag named (with its lifetime). */
const BUMP_SCRIPT = `local n = redis.call('INCR', KEYS[1])
for i = 2, #KEYS do redis.call('SET', KEYS[i], n, 'EX', ARGV[1]) end
return n`;

/**
 * In Redis, shared by every router replica: one MGET per lookup (entries, stamps and the
 * sequence together), entries expire with their lifetime, stamps a day after they were set
 * (longer than any entry lives, so a stamp that expired has no entry left to judge). An
 * invalidation is one script, so its tags are stamped together.
 */
export function redisStore(redis: Redis, prefix = 'commerce:cache:'): CacheStore {
  const stampKey = (tag: string) => `${prefix}v:${tag}`;
  return {
    kind: 'redis',
    async read(keys, tags) {
      const values = await redis.mget(...keys.map((key) => prefix + key), ...tags.map(stampKey), `${prefix}sequence`);
      return {
        entries: values.slice(0, keys.length),
        stamps: values.slice(keys.length, keys.length + tags.length).map((v) => Number(v ?? 0)),
        sequence: Number(values[keys.length + tags.length] ?? 0),
      };
    },
    async stamps(tags) {
      if (tags.length === 0) return [];
      return (await redis.mget(...tags.map(stampKey))).map((v) => Number(v ?? 0));
    },
    async write(items) {
      if (items.length === 0) return;
      const pipeline = redis.pipeline();
      for (const { key, value, ttlSeconds } of items) pipeline.set(prefix + key, JSON.stringify(value), 'EX', ttlSeconds);
      await pipeline.exec();
    },
    async bump(tags) {
      if (tags.length === 0) return;
      await redis.eval(BUMP_SCRIPT, tags.length + 1, `${prefix}sequence`, ...tags.map(stampKey), String(MAX_AGE_SECONDS));
    },
  };
}

type Request = GatewayGraphQLRequest;
type Send = (request: Request) => Promise<GatewayGraphQLResponse>;

interface Counters {
  hits: number;
  misses: number;
  /** Misses that found an entry, stamped stale by an event since its fill. */
  stale: number;
}

export interface EntityCacheOptions {
  store: CacheStore;
  policy: CachePolicy;
  logger?: Logger;
}

/** A cached value: the sequence read before its fetch was sent, the tags of a root answer, the value. */
export interface StoredEntry {
  s: number;
  t?: string[];
  d: unknown;
}

/**
 * A copy of an entry's JSON data. The gateway merges later fetches into the objects an answer
 * gives it, so no object may be both in the memory store and in an answer; copying the parsed
 * value measured about 4× faster than parsing its JSON again (0.4–0.6 against 1.9–2.1 µs for a
 * 0.3 KB product, one core). Tags are never changed and are shared.
 */
function copyEntry(entry: StoredEntry): StoredEntry {
  return entry.t ? { s: entry.s, t: entry.t, d: copyJson(entry.d) } : { s: entry.s, d: copyJson(entry.d) };
}

function copyJson(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) copy[i] = copyJson(value[i]);
    return copy;
  }
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const field = copyJson((value as Record<string, unknown>)[key]);
    // An alias may be "__proto__": an own property, as JSON.parse makes it, never the prototype.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: field, enumerable: true, writable: true, configurable: true });
    else copy[key] = field;
  }
  return copy;
}

const RULES_LIMIT = 1_000;

/** A tag as the subgraph that answered (or published) it owns it: `inventory/Product:7`. */
const ownedBy = (subgraph: string, tag: string) => `${subgraph}/${tag}`;

export function createEntityCache({ store, policy, logger }: EntityCacheOptions) {
  const rules = new Map<string, CacheRule | null>();
  const counters = new Map<string, Counters>();
  let errors = 0;
  let invalidations = 0;
  const count = (type: string, hit: boolean, stale = false) => {
    const c = counters.get(type) ?? { hits: 0, misses: 0, stale: 0 };
    if (hit) c.hits++;
    else c.misses++;
    if (stale) c.stale++;
    counters.set(type, c);
  };
  const failed = (what: string, error: unknown) => {
    errors++;
    logger?.debug(`entity cache ${what} failed; answering from the subgraphs`, { error: (error as Error).message });
  };
  const ruleOf = (query: string): CacheRule | null => {
    if (rules.has(query)) return rules.get(query)!;
    if (rules.size >= RULES_LIMIT) rules.clear();
    const rule = cacheRuleOf(query, policy);
    rules.set(query, rule);
    return rule;
  };
  /** Reads entries, stamps and the sequence; a store that fails is a miss for everything (and nothing is stored). */
  const read = async (keys: string[], tags: string[]) => {
    try {
      return await store.read(keys, tags);
    } catch (error) {
      failed('read', error);
      return null;
    }
  };
  const write = (items: { key: string; value: StoredEntry; ttlSeconds: number }[]) => {
    if (items.length > 0) store.write(items).catch((error: unknown) => failed('write', error));
  };
  /** An entry as stored, or null when it is absent or not something this router wrote (a miss, refilled). */
  const parse = (raw: StoredEntry | string | null | undefined): StoredEntry | null => {
    if (!raw) return null;
    if (typeof raw !== 'string') return raw;
    try {
      const stored = JSON.parse(raw) as StoredEntry;
      if (typeof stored?.s === 'number' && (stored.t === undefined || Array.isArray(stored.t))) return stored;
    } catch {
      // counted below
    }
    failed('read', new Error('an entry that is not the router’s'));
    return null;
  };
  /** Fresh while none of its tags was stamped after the sequence its fill read. */
  const freshAgainst = (stored: StoredEntry | null, stamps: readonly number[]): StoredEntry | null => (stored && stamps.every((stamp) => stamp <= stored.s) ? stored : null);

  async function entities(subgraph: string, rule: Extract<CacheRule, { kind: 'entities' }>, request: Request, send: Send, refresh: boolean, caller: string) {
    const { representations, ...rest } = request.variables ?? {};
    if (!Array.isArray(representations)) return send(request);
    const scope = `e:${subgraph}:${rule.hash}:${rule.private ? `${caller}:` : ''}${JSON.stringify(rest)}:`;
    // The cacheable representations: a type the fetch may cache and an id to invalidate it by.
    const slots: { index: number; type: string; key: string; tag: string; ttl: number }[] = [];
    representations.forEach((rep: unknown, index) => {
      if (!rep || typeof rep !== 'object') return;
      const { __typename: type, id } = rep as { __typename?: unknown; id?: unknown };
      const ttl = typeof type === 'string' ? rule.lifetimes.get(type) : undefined;
      if (ttl && (typeof id === 'string' || typeof id === 'number')) slots.push({ index, type: type as string, key: scope + JSON.stringify(rep), tag: ownedBy(subgraph, `${type}:${id}`), ttl });
    });
    if (slots.length === 0) return send(request);
    const found = await read(
      slots.map((s) => s.key),
      slots.map((s) => s.tag),
    );
    const values = new Map<number, unknown>();
    slots.forEach((slot, i) => {
      const held = found && !refresh ? parse(found.entries[i]) : null;
      const stored = freshAgainst(held, [found?.stamps[i] ?? 0]);
      if (stored) values.set(slot.index, stored.d);
      count(slot.type, stored !== null, held !== null && stored === null);
    });
    const missing = representations.map((_, index) => index).filter((index) => !values.has(index));
    if (missing.length === 0) return { data: { _entities: representations.map((_, index) => values.get(index)) } } as GatewayGraphQLResponse;

    const partial = missing.length < representations.length;
    const response = await send(partial ? { ...request, variables: { ...rest, representations: missing.map((index) => representations[index]) } } : request);
    const answered = (response.data as { _entities?: unknown } | null | undefined)?._entities;
    if (!Array.isArray(answered) || answered.length !== missing.length) {
      // Not an answer that can be put back together: ask for everything, uncached.
      return partial ? send(request) : response;
    }
    // Errors by the entity they belong to; one that names none makes every entity of the answer suspect.
    const erred = new Set<number>();
    let unplaced = false;
    const errors = (response.errors ?? []).map((error): GraphQLFormattedError => {
      const [head, index, ...tail] = error.path ?? [];
      if (head !== '_entities' || typeof index !== 'number' || index >= missing.length) {
        unplaced = true;
        return error;
      }
      erred.add(index);
      return { ...error, path: ['_entities', missing[index]!, ...tail] };
    });
    const merged = representations.map((_, index) => values.get(index));
    const slotOf = new Map(slots.map((slot) => [slot.index, slot]));
    const fills: { key: string; value: StoredEntry; ttlSeconds: number }[] = [];
    answered.forEach((value, j) => {
      const index = missing[j]!;
      merged[index] = value;
      const slot = slotOf.get(index);
      if (found && !unplaced && slot && value !== null && !erred.has(j)) {
        fills.push({ key: slot.key, value: { s: found.sequence, d: value }, ttlSeconds: slot.ttl });
      }
    });
    write(fills);
    if (!partial) return response;
    return { ...response, data: { ...response.data, _entities: merged }, ...(errors.length > 0 ? { errors } : {}) } as GatewayGraphQLResponse;
  }

  async function root(subgraph: string, rule: Extract<CacheRule, { kind: 'root' }>, request: Request, send: Send, refresh: boolean, caller: string) {
    const key = `r:${subgraph}:${rule.hash}:${rule.private ? `${caller}:` : ''}${JSON.stringify(request.variables ?? {})}`;
    const found = await read([key], []);
    const held = found && !refresh ? parse(found.entries[0]) : null;
    let stored: StoredEntry | null = null;
    let stale = false;
    // A root answer's tags are known once it is stored: a second look-up, for its stamps.
    if (held) {
      try {
        stored = freshAgainst(held, await store.stamps(held.t ?? []));
        stale = stored === null;
      } catch (error) {
        failed('read', error);
      }
    }
    count('Query', stored !== null, stale);
    if (stored) return { data: stored.d } as GatewayGraphQLResponse;
    const response = await send(request);
    // A root field answered null (`product(id:)` of an id not yet created) is not stored: nothing
    // in it names the entity whose creation would have to empty it.
    if (found && response.data && !response.errors?.length && !Object.values(response.data).some((value) => value === null)) {
      const tags = rootTags(response.data, rule.selections, policy, rule.fragments).map((tag) => ownedBy(subgraph, tag));
      write([{ key, value: { s: found.sequence, t: tags, d: response.data }, ttlSeconds: rule.lifetime }]);
    }
    return response;
  }

  const occupancyLines = (): string[] => {
    const held = store.occupancy?.();
    if (!held) return [];
    return [
      '# HELP commerce_router_cache_entries Entries held by the in-memory store.',
      '# TYPE commerce_router_cache_entries gauge',
      `commerce_router_cache_entries ${held.entries}`,
      '# HELP commerce_router_cache_bytes Estimated heap taken by the in-memory store (ENTITY_CACHE_MAX_MB at most).',
      '# TYPE commerce_router_cache_bytes gauge',
      `commerce_router_cache_bytes ${held.bytes}`,
      '# HELP commerce_router_cache_evictions_total Entries the in-memory store dropped to make room for newer ones.',
      '# TYPE commerce_router_cache_evictions_total counter',
      `commerce_router_cache_evictions_total ${held.evictions}`,
    ];
  };

  return {
    storeKind: store.kind,
    /**
     * One fetch through the cache: answered from it, sent for what it lacks, or sent as it is when
     * it may not be cached. `caller` names who calls (user id and scopes, as the subgraph is told):
     * a fetch selecting a guarded field is cached under it, for that caller alone. `refresh` (a
     * client's `Cache-Control: no-cache`) skips reading but stores the fresh answer.
     */
    fetch(subgraph: string, request: Request, send: Send, { caller, refresh = false }: { caller: string; refresh?: boolean }): Promise<GatewayGraphQLResponse> {
      const rule = request.query ? ruleOf(request.query) : null;
      if (!rule) return send(request);
      return rule.kind === 'entities' ? entities(subgraph, rule, request, send, refresh, caller) : root(subgraph, rule, request, send, refresh, caller);
    },
    /**
     * Makes what `owner` (the subgraph whose event this is) answered about these entities stale:
     * their own entries, its root answers that hold them (or hold their type without ids), and, for
     * a new one, its root answers listing their type. Other subgraphs' entries stay.
     */
    async invalidate(owner: string, refs: readonly EntityRef[]): Promise<void> {
      if (refs.length === 0) return;
      const tags = [...new Set(refs.flatMap((ref) => [`${ref.type}:${ref.id}`, `${ref.type}:*`, ...(ref.created ? [`${ref.type}:+`] : [])]))].map((tag) => ownedBy(owner, tag));
      await store.bump(tags);
      invalidations += refs.length;
    },
    /** Prometheus text: hits, misses and stale misses per entity type (`Query` for root fetches), invalidations, store errors, and a memory store's entries and evictions. */
    metrics(): string {
      const lines = [
        '# HELP commerce_router_cache_lookups_total Entity cache lookups by type (Query: root fetches) and result.',
        '# TYPE commerce_router_cache_lookups_total counter',
        ...[...counters].flatMap(([type, c]) => [
          `commerce_router_cache_lookups_total{type="${type}",result="hit"} ${c.hits}`,
          `commerce_router_cache_lookups_total{type="${type}",result="miss"} ${c.misses}`,
        ]),
        '# HELP commerce_router_cache_invalidations_total Entities invalidated by domain events.',
        '# TYPE commerce_router_cache_invalidations_total counter',
        `commerce_router_cache_invalidations_total ${invalidations}`,
        '# HELP commerce_router_cache_stale_total Misses that found an entry an event had made stale since its fill (counted in the misses too).',
        '# TYPE commerce_router_cache_stale_total counter',
        ...[...counters].map(([type, c]) => `commerce_router_cache_stale_total{type="${type}"} ${c.stale}`),
        ...occupancyLines(),
        '# HELP commerce_router_cache_store_errors_total Cache store reads and writes that failed (answered from the subgraphs).',
        '# TYPE commerce_router_cache_store_errors_total counter',
        `commerce_router_cache_store_errors_total{store="${store.kind}"} ${errors}`,
      ];
      return `${lines.join('\n')}\n`;
    },
    /** Counters as numbers (tests, the benchmark). */
    stats: () => ({ lookups: Object.fromEntries(counters), invalidations, errors, ...store.occupancy?.() }),
  };
}

export type EntityCache = ReturnType<typeof createEntityCache>;
