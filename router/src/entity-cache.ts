import { createHash } from 'node:crypto';
import type { GatewayGraphQLRequest, GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { Logger } from '@commerce/service-kit/core';
import { Kind, parse, type FragmentDefinitionNode, type GraphQLFormattedError, type SelectionNode } from 'graphql';
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
 * - **Root fetches** whose every root field is `@cacheable` are cached whole, per variables.
 * - **Freshness**: every entry carries the versions of the tags it depends on, read *before* its
 *   fetch was sent: `Type:id` for an entity, `Type:*` for each entity type a root fetch selects.
 *   A domain event that changes an entity bumps `Type:id` and `Type:*` (invalidate()), so an entry
 *   filled before the change is never served again, including one whose fill raced the change
 *   (it was stored with the older version). `maxAge` bounds how long an entry lives even if an
 *   event were lost.
 */

/** An entity of the supergraph by its `id` key (the kit's events name what they change this way). */
export interface EntityRef {
  type: string;
  id: string;
}

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
  | { kind: 'root'; hash: string; lifetime: number; tags: string[]; private: boolean };

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
  return { kind: 'root', hash, lifetime: walk.lifetime, tags: [...walk.types].sort().map((type) => `${type}:*`), private: walk.guarded };
}

interface Walk {
  /** Seconds; 0 when something selected may not be cached. */
  lifetime: number;
  /** The entity types met, for root entries' tags. */
  types: Set<string>;
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
  const types = new Set<string>(policy.entityTypes.has(type) ? [type] : []);
  let lifetime = Infinity;
  let guarded = false;
  const fail = (): Walk => ({ lifetime: 0, types, guarded });
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
    for (const t of inner.types) types.add(t);
  }
  return { lifetime: lifetime === Infinity ? MAX_AGE_SECONDS : lifetime, types, guarded };
}

/** Where entries and tag versions live: this process's memory, or Redis shared by every router replica. */
export interface CacheStore {
  readonly kind: 'memory' | 'redis';
  /** Each entry (null when absent) and the current version of each tag, read together. */
  read(keys: readonly string[], tags: readonly string[]): Promise<{ entries: (string | null)[]; versions: number[] }>;
  write(entries: readonly { key: string; value: string; ttlSeconds: number }[]): Promise<void>;
  /** Makes every entry stored under an earlier version of these tags stale. */
  bump(tags: readonly string[]): Promise<void>;
}

/**
 * In memory (one router process): at most `maxEntries`, the oldest dropped first. Versions are
 * never dropped on their own: an entity whose version went back to 0 could make an entry filled
 * before an invalidation look fresh again. When they grow past their bound, entries and versions
 * are cleared together.
 */
export function memoryStore(maxEntries = 50_000): CacheStore {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  const versions = new Map<string, number>();
  let epoch = 0;
  return {
    kind: 'memory',
    async read(keys, tags) {
      const now = Date.now();
      return {
        entries: keys.map((key) => {
          const entry = entries.get(key);
          if (!entry) return null;
          if (entry.expiresAt > now) return entry.value;
          entries.delete(key);
          return null;
        }),
        // The epoch is part of every version, so nothing stored before a clear matches after it.
        versions: tags.map((tag) => epoch * 2 ** 32 + (versions.get(tag) ?? 0)),
      };
    },
    async write(items) {
      const now = Date.now();
      for (const { key, value, ttlSeconds } of items) {
        if (entries.size >= maxEntries) {
          const oldest = entries.keys().next().value;
          if (oldest !== undefined) entries.delete(oldest);
        }
        entries.delete(key);
        entries.set(key, { value, expiresAt: now + ttlSeconds * 1_000 });
      }
    },
    async bump(tags) {
      if (versions.size + tags.length > maxEntries * 4) {
        entries.clear();
        versions.clear();
        epoch++;
      }
      for (const tag of tags) versions.set(tag, (versions.get(tag) ?? 0) + 1);
    },
  };
}

/**
 * In Redis, shared by every router replica: one MGET per lookup (entries and versions together),
 * entries expire with their lifetime, versions a day after their last bump (longer than any entry
 * lives, so a version key that expired has no entry left to vouch for).
 */
export function redisStore(redis: Redis, prefix = 'commerce:cache:'): CacheStore {
  return {
    kind: 'redis',
    async read(keys, tags) {
      if (keys.length + tags.length === 0) return { entries: [], versions: [] };
      const values = await redis.mget(...keys.map((key) => prefix + key), ...tags.map((tag) => `${prefix}v:${tag}`));
      return { entries: values.slice(0, keys.length), versions: values.slice(keys.length).map((v) => Number(v ?? 0)) };
    },
    async write(items) {
      if (items.length === 0) return;
      const pipeline = redis.pipeline();
      for (const { key, value, ttlSeconds } of items) pipeline.set(prefix + key, value, 'EX', ttlSeconds);
      await pipeline.exec();
    },
    async bump(tags) {
      if (tags.length === 0) return;
      const pipeline = redis.multi();
      for (const tag of tags) pipeline.incr(`${prefix}v:${tag}`).expire(`${prefix}v:${tag}`, MAX_AGE_SECONDS);
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw failed?.[0] ?? new Error('Redis did not run the invalidation');
    },
  };
}

type Request = GatewayGraphQLRequest;
type Send = (request: Request) => Promise<GatewayGraphQLResponse>;

interface Counters {
  hits: number;
  misses: number;
}

export interface EntityCacheOptions {
  store: CacheStore;
  policy: CachePolicy;
  logger?: Logger;
}

/** A cached value and the versions of its tags when its fetch was sent. */
interface Stored {
  v: number[];
  d: unknown;
}

const RULES_LIMIT = 1_000;

export function createEntityCache({ store, policy, logger }: EntityCacheOptions) {
  const rules = new Map<string, CacheRule | null>();
  const counters = new Map<string, Counters>();
  let errors = 0;
  let invalidations = 0;
  const count = (type: string, hits: number, misses: number) => {
    const c = counters.get(type) ?? { hits: 0, misses: 0 };
    c.hits += hits;
    c.misses += misses;
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
  /** Reads entries and versions; a store that fails is a miss for everything (and nothing is stored). */
  const read = async (keys: string[], tags: string[]) => {
    try {
      return await store.read(keys, tags);
    } catch (error) {
      failed('read', error);
      return null;
    }
  };
  const write = (items: { key: string; value: string; ttlSeconds: number }[]) => {
    if (items.length > 0) store.write(items).catch((error: unknown) => failed('write', error));
  };
  const fresh = (raw: string | null | undefined, versions: number[]): Stored | null => {
    if (!raw) return null;
    let stored: Stored;
    try {
      stored = JSON.parse(raw) as Stored;
    } catch (error) {
      // Not something this router wrote (another version, a hand edit): a miss, refilled.
      failed('read', error);
      return null;
    }
    return Array.isArray(stored?.v) && stored.v.length === versions.length && stored.v.every((v, i) => v === versions[i]) ? stored : null;
  };

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
      if (ttl && (typeof id === 'string' || typeof id === 'number')) slots.push({ index, type: type as string, key: scope + JSON.stringify(rep), tag: `${type}:${id}`, ttl });
    });
    if (slots.length === 0) return send(request);
    const found = await read(
      slots.map((s) => s.key),
      slots.map((s) => s.tag),
    );
    const values = new Map<number, unknown>();
    if (found && !refresh) {
      slots.forEach((slot, i) => {
        const stored = fresh(found.entries[i], [found.versions[i]!]);
        if (stored) values.set(slot.index, stored.d);
      });
    }
    for (const slot of slots) count(slot.type, values.has(slot.index) ? 1 : 0, values.has(slot.index) ? 0 : 1);
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
    const versionOf = new Map(found ? slots.map((slot, i) => [slot.index, found.versions[i]!]) : []);
    const slotOf = new Map(slots.map((slot) => [slot.index, slot]));
    const fills: { key: string; value: string; ttlSeconds: number }[] = [];
    answered.forEach((value, j) => {
      const index = missing[j]!;
      merged[index] = value;
      const slot = slotOf.get(index);
      const version = versionOf.get(index);
      if (found && !unplaced && slot && version !== undefined && value !== null && !erred.has(j)) {
        fills.push({ key: slot.key, value: JSON.stringify({ v: [version], d: value } satisfies Stored), ttlSeconds: slot.ttl });
      }
    });
    write(fills);
    if (!partial) return response;
    return { ...response, data: { ...response.data, _entities: merged }, ...(errors.length > 0 ? { errors } : {}) } as GatewayGraphQLResponse;
  }

  async function root(subgraph: string, rule: Extract<CacheRule, { kind: 'root' }>, request: Request, send: Send, refresh: boolean, caller: string) {
    const key = `r:${subgraph}:${rule.hash}:${rule.private ? `${caller}:` : ''}${JSON.stringify(request.variables ?? {})}`;
    const type = `Query`;
    const found = await read([key], rule.tags);
    const stored = found && !refresh ? fresh(found.entries[0], found.versions) : null;
    count(type, stored ? 1 : 0, stored ? 0 : 1);
    if (stored) return { data: stored.d } as GatewayGraphQLResponse;
    const response = await send(request);
    if (found && response.data && !response.errors?.length) {
      write([{ key, value: JSON.stringify({ v: found.versions, d: response.data } satisfies Stored), ttlSeconds: rule.lifetime }]);
    }
    return response;
  }

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
    /** Makes what is cached about these entities stale (their own entries, and root entries of their types). */
    async invalidate(refs: readonly EntityRef[]): Promise<void> {
      if (refs.length === 0) return;
      const tags = [...new Set(refs.flatMap((ref) => [`${ref.type}:${ref.id}`, `${ref.type}:*`]))];
      await store.bump(tags);
      invalidations += refs.length;
    },
    /** Prometheus text: hits and misses per entity type (`Query` for root fetches), invalidations, store errors. */
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
        '# HELP commerce_router_cache_store_errors_total Cache store reads and writes that failed (answered from the subgraphs).',
        '# TYPE commerce_router_cache_store_errors_total counter',
        `commerce_router_cache_store_errors_total{store="${store.kind}"} ${errors}`,
      ];
      return `${lines.join('\n')}\n`;
    },
    /** Counters as numbers (tests, the benchmark). */
    stats: () => ({ lookups: Object.fromEntries(counters), invalidations, errors }),
  };
}

export type EntityCache = ReturnType<typeof createEntityCache>;
