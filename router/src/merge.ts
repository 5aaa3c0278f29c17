import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { ErrorCode, IDENTITY_HEADERS, signatureHeaders } from '@commerce/service-kit/core';
import {
  GraphQLError,
  Kind,
  parse,
  print,
  stripIgnoredCharacters,
  visit,
  type DefinitionNode,
  type DirectiveNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type OperationDefinitionNode,
  type SelectionNode,
  type TypeNode,
  type VariableDefinitionNode,
} from 'graphql';
import type { EntityCache } from './entity-cache.ts';
import type { SubgraphFetcher, SubgraphResponse } from './fetcher.ts';
import { plannedOperation, type PlannedOperation } from './fetch-plan.ts';

/**
 * The router's data source: how the gateway's fetches reach a subgraph. It does what
 * RemoteGraphQLDataSource does with the gateway's defaults (the same body, the same headers, the
 * same errors for an answer that is not 2xx or not JSON, the same cache-control hint), without its
 * per-fetch node-fetch Headers, Request and Response objects: the body is signed and sent by the
 * fetcher (fetcher.ts) and its answer parsed once.
 *
 * Merging (on unless SUBGRAPH_MERGE_FETCHES=false): queries to this subgraph that the gateway
 * issues in the same turn of the event loop (collected until `setImmediate`), on behalf of the
 * same caller, go out as one request. Each fetch's root fields are aliased `_<i>_<key>`, its
 * variables and fragments renamed `_<i>_<name>` (as graphql-tools' batch-execute does), and the
 * answer is split back: each fetch gets exactly its own root fields, and the errors whose path
 * starts at one of them, re-pathed as if the fetch had gone alone. When the merged answer cannot be
 * split that way (not a 2xx, `data` null or missing a field, an error without such a path), every
 * fetch is sent again on its own, so a sibling never loses data to another's failure. With
 * `siblings` (SUBGRAPH_MERGE_SIBLINGS), a fetch that ends a branch of the plan waits for a fetch to
 * the same subgraph on a parallel branch that may still come, and goes out with it (fetch-plan.ts).
 * Never merged:
 * mutations (and subscriptions), operations with directives on the operation or a root field,
 * fetches of different callers (identity headers differ; the request id is one of them, so only
 * fetches of one client operation share a request), and fetches to other subgraphs.
 */
type ProcessOptions = GraphQLDataSourceProcessOptions<Record<string, any>>;
type IncomingOptions = Extract<ProcessOptions, { incomingRequestContext: unknown }>;

/** GraphQLDataSourceRequestKind.INCOMING_OPERATION (a type-only export of the gateway). */
const INCOMING_OPERATION = 'incoming operation';
const isIncoming = (options: ProcessOptions): options is IncomingOptions => (options.kind as string) === INCOMING_OPERATION;

export interface SubgraphDataSourceOptions {
  name: string;
  url: string;
  fetcher: SubgraphFetcher;
  /** This subgraph's signing secret: every request is signed over the exact bytes sent. */
  secret: string;
  /** The identity headers of a fetch made for `context` (who calls, the request id). */
  identity: (context: Record<string, any> | undefined) => Record<string, string>;
  merge: boolean;
  /** Whether a fetch ending a branch of the plan waits for a sibling to merge with (fetch-plan.ts); needs `merge`. */
  siblings?: boolean;
  /** The supergraph's guarded fields (guardedFields()): fetches that could both be denied one are not merged. */
  guards?: GuardedFields;
  /** Called for every merged request that had to be re-sent fetch by fetch (for logs). */
  onUnmerged?: (subgraph: string, fetches: number, reason: string) => void;
  /** Called when the subgraph refused the router itself (401/403: its signature), a misconfiguration for operators. */
  onRefused?: (subgraph: string, status: number) => void;
  /** The entity cache (entity-cache.ts); fetches go through it when set. */
  cache?: EntityCache;
  /** Whether a fetch's caller asked for fresh data (Cache-Control: no-cache): the cache is not read, only refilled. */
  refreshes?: (context: Record<string, any>) => boolean;
}

/** What a fetch's query is, decided once per query text. */
interface Prepared {
  /** A query with only aliasable fields at its root. */
  mergeable: boolean;
  operation?: OperationDefinitionNode;
  fragments?: FragmentDefinitionNode[];
  /** The guarded fields (`Type.field`) it selects. */
  guarded?: string[];
}

interface Entry {
  request: ProcessOptions['request'];
  /** Which fetch of its operation's plan it is (-1: not known). */
  index: number;
  prepared: Prepared;
  options: ProcessOptions;
  resolve: (response: GatewayGraphQLResponse) => void;
  reject: (error: unknown) => void;
}

interface Batch {
  headers: Record<string, string>;
  entries: Entry[];
  /** Guarded fields its fetches select that this caller may be denied. */
  risky: Set<string>;
  /** The operation whose plan says whether to wait for a sibling (when `siblings` is on). */
  operation: PlannedOperation | undefined;
  waiting: boolean;
}

/**
 * Why merging looks at authorization: a subgraph reports a denied nullable field once per request
 * (authorization.ts in the kit: one error per field, not one per list item). Two fetches that
 * select the same field the caller may be denied would, merged, get one error where sent apart they
 * get one each. So such fetches are not merged; a caller whose scopes pass every rule of a field
 * (an admin) is never denied it, and their fetches merge freely.
 */
type Rule = { kind: 'signedIn' } | { kind: 'scope'; anyOf: readonly string[] };

export interface GuardedFields {
  /** Rules by coordinate (`Type.field`); a field's own rules replace its type's. */
  rules: Map<string, Rule[]>;
  /** Each named type's fields' named types, and each abstract type's object types. */
  fieldTypes: Map<string, Map<string, string>>;
  implementations: Map<string, string[]>;
}

const AUTH_DIRECTIVES = new Set(['signedIn', 'requiresScope', 'ownerOrScope']);

/** The guarded fields of a supergraph, from its @signedIn, @requiresScope and @ownerOrScope. */
export function guardedFields(supergraphSdl: string): GuardedFields {
  const document = parse(supergraphSdl, { noLocation: true });
  const rules = new Map<string, Rule[]>();
  const fieldTypes = new Map<string, Map<string, string>>();
  const implementations = new Map<string, string[]>();
  const typeRules = new Map<string, Rule[]>();
  const fieldRules: [string, string, Rule[]][] = [];
  const rulesOf = (directives: readonly DirectiveNode[] | undefined): Rule[] =>
    (directives ?? [])
      .filter((d) => AUTH_DIRECTIVES.has(d.name.value))
      .map((d): Rule => {
        if (d.name.value === 'signedIn') return { kind: 'signedIn' };
        const anyOf = d.arguments?.find((a) => a.name.value === 'anyOf')?.value;
        return { kind: 'scope', anyOf: anyOf?.kind === Kind.LIST ? anyOf.values.flatMap((v) => (v.kind === Kind.STRING ? [v.value] : [])) : [] };
      });
  const namedType = (type: TypeNode): string => (type.kind === Kind.NAMED_TYPE ? type.name.value : namedType(type.type));
  for (const definition of document.definitions) {
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.OBJECT_TYPE_EXTENSION &&
      definition.kind !== Kind.INTERFACE_TYPE_DEFINITION &&
      definition.kind !== Kind.INTERFACE_TYPE_EXTENSION &&
      definition.kind !== Kind.UNION_TYPE_DEFINITION
    ) {
      continue;
    }
    const type = definition.name.value;
    if (definition.kind === Kind.UNION_TYPE_DEFINITION) {
      implementations.set(type, (definition.types ?? []).map((t) => t.name.value));
      continue;
    }
    const fields = fieldTypes.get(type) ?? new Map<string, string>();
    fieldTypes.set(type, fields);
    typeRules.set(type, [...(typeRules.get(type) ?? []), ...rulesOf(definition.directives)]);
    for (const implemented of definition.interfaces ?? []) {
      implementations.set(implemented.name.value, [...(implementations.get(implemented.name.value) ?? []), type]);
    }
    for (const field of definition.fields ?? []) {
      fields.set(field.name.value, namedType(field.type));
      fieldRules.push([type, field.name.value, rulesOf(field.directives)]);
    }
  }
  for (const [type, field, own] of fieldRules) {
    const effective = own.length > 0 ? own : (typeRules.get(type) ?? []);
    if (effective.length > 0) rules.set(`${type}.${field}`, effective);
  }
  return { rules, fieldTypes, implementations };
}

/** The guarded coordinates a fetch selects; null when a type cannot be followed (then it is never merged). */
function guardedSelected(operation: OperationDefinitionNode, fragments: readonly FragmentDefinitionNode[], guards: GuardedFields): string[] | null {
  const found = new Set<string>();
  const byName = new Map(fragments.map((f) => [f.name.value, f]));
  let lost = false;
  const walk = (selections: readonly SelectionNode[], type: string, seen: Set<string>) => {
    const concrete = [type, ...(guards.implementations.get(type) ?? [])];
    for (const selection of selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name.startsWith('__')) continue;
        for (const t of concrete) if (guards.rules.has(`${t}.${name}`)) found.add(`${t}.${name}`);
        if (!selection.selectionSet) continue;
        // _entities answers the entity types its inline fragments name.
        const next = name === '_entities' && type === 'Query' ? '_Entity' : guards.fieldTypes.get(type)?.get(name);
        if (!next) lost = true;
        else walk(selection.selectionSet.selections, next, seen);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.selectionSet.selections, selection.typeCondition?.name.value ?? type, seen);
      } else {
        const fragment = byName.get(selection.name.value);
        if (!fragment) lost = true;
        else if (!seen.has(fragment.name.value)) walk(fragment.selectionSet.selections, fragment.typeCondition.name.value, new Set([...seen, fragment.name.value]));
      }
    }
  };
  walk(operation.selectionSet.selections, 'Query', new Set());
  return lost ? null : [...found];
}

/** Whether a caller passes every rule of a coordinate whatever the object (so is never denied it). */
function alwaysAllowed(rules: readonly Rule[], userId: string | undefined, scopes: ReadonlySet<string>): boolean {
  return rules.every((rule) => (rule.kind === 'signedIn' ? Boolean(userId) : rule.anyOf.some((scope) => scopes.has(scope))));
}

/** A merged request's text and how to split its answer, per combination of fetch queries. */
interface Merged {
  query: string;
  /** Per fetch: its variables' names → their names in the merged request. */
  variables: [string, string][][];
  /** Per fetch: merged root key → the fetch's own root key. */
  keys: Map<string, string>[];
}

/**
 * The texts seen repeat (the gateway caches its plans, and a plan's fetches are always the same
 * texts); the bounds keep odd traffic from growing memory: a parsed fetch is tens of KB at most.
 */
const PREPARED_LIMIT = 1_000;
const MERGED_LIMIT = 500;
const preparedCache = new Map<string, Prepared>();
/** Per supergraph: what a fetch selects depends on its types. */
const preparedByGuards = new WeakMap<GuardedFields, Map<string, Prepared>>();
const mergedCache = new Map<string, Merged>();

function remember<V>(cache: Map<string, V>, key: string, value: V, limit: number): V {
  if (cache.size >= limit) cache.clear();
  cache.set(key, value);
  return value;
}

export function prepareFetch(query: string, guards?: GuardedFields): Prepared {
  let cache = preparedCache;
  if (guards) {
    cache = preparedByGuards.get(guards) ?? new Map();
    preparedByGuards.set(guards, cache);
  }
  const known = cache.get(query);
  if (known) return known;
  let prepared: Prepared = { mergeable: false };
  try {
    const document = parse(query, { noLocation: true });
    const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    const fragments = document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
    const operation = operations[0];
    if (
      operations.length === 1 &&
      fragments.length + 1 === document.definitions.length &&
      operation &&
      operation.operation === 'query' &&
      !operation.directives?.length &&
      operation.selectionSet.selections.every((s) => s.kind === Kind.FIELD && !s.directives?.length)
    ) {
      const guarded = guards ? guardedSelected(operation, fragments, guards) : [];
      prepared = guarded ? { mergeable: true, operation, fragments, guarded } : { mergeable: false };
    }
  } catch {
    // Not ours to judge: sent as it is, the subgraph answers what it answers.
  }
  return remember(cache, query, prepared, PREPARED_LIMIT);
}

/** One request for several fetches: root fields aliased, variables and fragments renamed per fetch. */
export function mergeFetches(queries: readonly string[]): Merged {
  const cacheKey = queries.join('\u0000');
  const known = mergedCache.get(cacheKey);
  if (known) return known;
  const variableDefinitions: VariableDefinitionNode[] = [];
  const selections: SelectionNode[] = [];
  const fragments: DefinitionNode[] = [];
  const variables: [string, string][][] = [];
  const keys: Map<string, string>[] = [];
  queries.forEach((query, i) => {
    const { operation, fragments: own = [] } = prepareFetch(query);
    if (!operation) throw new Error('not a mergeable fetch');
    const prefix = `_${i}_`;
    const rename = <T extends OperationDefinitionNode | FragmentDefinitionNode>(node: T): T =>
      visit(node, {
        Variable: (variable) => ({ ...variable, name: { ...variable.name, value: prefix + variable.name.value } }),
        FragmentSpread: (spread) => ({ ...spread, name: { ...spread.name, value: prefix + spread.name.value } }),
        FragmentDefinition: (fragment) => ({ ...fragment, name: { ...fragment.name, value: prefix + fragment.name.value } }),
      });
    const renamed = rename(operation);
    variables.push((operation.variableDefinitions ?? []).map((d) => [d.variable.name.value, prefix + d.variable.name.value]));
    variableDefinitions.push(...(renamed.variableDefinitions ?? []));
    const own_keys = new Map<string, string>();
    for (const selection of renamed.selectionSet.selections) {
      const field = selection as FieldNode;
      const key = field.alias?.value ?? field.name.value;
      own_keys.set(prefix + key, key);
      selections.push({ ...field, alias: { kind: Kind.NAME, value: prefix + key } });
    }
    keys.push(own_keys);
    fragments.push(...own.map(rename));
  });
  const document = {
    kind: Kind.DOCUMENT,
    definitions: [
      { kind: Kind.OPERATION_DEFINITION, operation: 'query', variableDefinitions, selectionSet: { kind: Kind.SELECTION_SET, selections } },
      ...fragments,
    ],
  } as const;
  const merged = { query: stripIgnoredCharacters(print(document as never)), variables, keys };
  return remember(mergedCache, cacheKey, merged, MERGED_LIMIT);
}

/** Why a merged answer cannot be split back exactly, or its parts per fetch. */
export function splitMerged(merged: Merged, body: Record<string, unknown>): { parts: GatewayGraphQLResponse[] } | { reason: string } {
  const data = body.data;
  if (!data || typeof data !== 'object') return { reason: 'no data' };
  const parts: { data: Record<string, unknown>; errors?: GraphQLFormattedError[]; extensions?: Record<string, unknown> }[] = merged.keys.map((keys) => {
    const own: Record<string, unknown> = {};
    for (const [mergedKey, key] of keys) own[key] = (data as Record<string, unknown>)[mergedKey];
    return { data: own };
  });
  for (const [i, keys] of merged.keys.entries()) {
    for (const mergedKey of keys.keys()) if (!Object.hasOwn(data, mergedKey)) return { reason: `no ${mergedKey} in data (fetch ${i})` };
  }
  const errors = body.errors;
  if (errors !== undefined) {
    if (!Array.isArray(errors)) return { reason: 'errors is not a list' };
    for (const error of errors as GraphQLFormattedError[]) {
      const head = error?.path?.[0];
      const match = typeof head === 'string' ? /^_(\d+)_/.exec(head) : null;
      const i = match ? Number(match[1]) : -1;
      const key = match ? merged.keys[i]?.get(head as string) : undefined;
      if (key === undefined) return { reason: 'an error outside every fetch' };
      const part = parts[i]!;
      (part.errors ??= []).push({ ...error, path: [key, ...error.path!.slice(1)] });
    }
  }
  if (body.extensions && typeof body.extensions === 'object') for (const part of parts) part.extensions = body.extensions as Record<string, unknown>;
  return { parts };
}

export class SubgraphDataSource implements GraphQLDataSource<Record<string, any>> {
  readonly name: string;
  readonly url: string;
  private readonly target: URL;
  private readonly path: string;
  private readonly options: SubgraphDataSourceOptions;
  private readonly batches = new Map<string, Batch>();

  constructor(options: SubgraphDataSourceOptions) {
    this.options = options;
    this.name = options.name;
    this.url = options.url;
    this.target = new URL(options.url);
    this.path = `${this.target.pathname}${this.target.search}`;
  }

  process(options: ProcessOptions): Promise<GatewayGraphQLResponse> {
    const { request } = options;
    if (!request.query) return Promise.reject(new Error('Missing query'));
    // What RemoteGraphQLDataSource sends: headers the gateway set (only ever a tracing header),
    // the content type, then who calls (the router's willSendRequest).
    const headers: Record<string, string> = {};
    if (request.http?.headers) for (const [name, value] of request.http.headers) headers[name.toLowerCase()] = value;
    headers['content-type'] = 'application/json';
    const identity = this.options.identity(isIncoming(options) ? options.context : undefined);
    Object.assign(headers, identity);
    const operation = this.options.merge && this.options.siblings && isIncoming(options) ? plannedOperation(options.context) : undefined;
    const index = operation ? operation.begin(this.name, request.query) : -1;

    const cache = this.options.cache;
    let answer: Promise<GatewayGraphQLResponse>;
    if (cache && isIncoming(options) && !request.http) {
      const refresh = this.options.refreshes?.(options.context) ?? false;
      // Who calls, as the subgraph is told: what a guarded field answers depends on nothing else.
      const caller = JSON.stringify([identity[IDENTITY_HEADERS.userId] ?? null, identity[IDENTITY_HEADERS.scopes] ?? null]);
      answer = cache.fetch(this.name, request, (part) => this.route(part, headers, identity, options, operation, index), { caller, refresh });
    } else {
      answer = this.route(request, headers, identity, options, operation, index);
    }
    if (operation) {
      const end = () => operation.end(index);
      answer.then(end, end);
    }
    return answer;
  }

  /** A fetch on its way to the subgraph: merged with the caller's same-tick fetches (or a sibling's, see fetch-plan.ts), or alone. */
  private route(
    request: ProcessOptions['request'],
    headers: Record<string, string>,
    identity: Record<string, string>,
    options: ProcessOptions,
    operation: PlannedOperation | undefined,
    index: number,
  ): Promise<GatewayGraphQLResponse> {
    if (!this.options.merge || !isIncoming(options) || request.http) {
      return this.sendAlone(request, headers, options);
    }
    const prepared = prepareFetch(request.query!, this.options.guards);
    if (!prepared.mergeable) return this.sendAlone(request, headers, options);
    const risky = this.riskyOf(prepared, headers);
    const key = Object.values(identity).join('\u0000');
    let batch = this.batches.get(key);
    if (batch && risky.some((coordinate) => batch!.risky.has(coordinate))) return this.sendAlone(request, headers, options);
    if (!batch) {
      const created: Batch = { headers, entries: [], risky: new Set(), operation, waiting: false };
      batch = created;
      this.batches.set(key, created);
      setImmediate(() => this.release(key, created));
    } else if (batch.waiting) {
      // Likely the sibling it waits for: decide again once this turn's fetches are in.
      batch.operation?.wake();
    }
    for (const coordinate of risky) batch.risky.add(coordinate);
    const entries = batch.entries;
    return new Promise((resolve, reject) => entries.push({ request, index, prepared, options, resolve, reject }));
  }

  /** Sends a batch, unless its operation's plan says a sibling fetch to this subgraph may still join it. */
  private release(key: string, batch: Batch): void {
    const { operation } = batch;
    if (operation?.shouldWait(batch.entries.map((entry) => entry.index))) {
      batch.waiting = true;
      operation.wait(batch.entries.length, () => this.release(key, batch));
      return;
    }
    if (this.batches.get(key) === batch) this.batches.delete(key);
    void this.flush(batch);
  }

  /** The guarded fields a fetch selects that this caller could be denied. */
  private riskyOf(prepared: Prepared, headers: Record<string, string>): string[] {
    const guarded = prepared.guarded ?? [];
    if (guarded.length === 0 || !this.options.guards) return guarded;
    const userId = headers[IDENTITY_HEADERS.userId];
    const scopes = new Set((headers[IDENTITY_HEADERS.scopes] ?? '').split(' ').filter(Boolean));
    const rules = this.options.guards.rules;
    return guarded.filter((coordinate) => !alwaysAllowed(rules.get(coordinate) ?? [], userId, scopes));
  }

  private async flush(batch: Batch): Promise<void> {
    const { entries, headers } = batch;
    if (entries.length === 1) {
      const [entry] = entries as [Entry];
      this.sendAlone(entry.request, headers, entry.options).then(entry.resolve, entry.reject);
      return;
    }
    let merged: Merged;
    try {
      merged = mergeFetches(entries.map((e) => e.request.query!));
    } catch {
      for (const entry of entries) this.sendAlone(entry.request, headers, entry.options).then(entry.resolve, entry.reject);
      return;
    }
    const variables: Record<string, unknown> = {};
    entries.forEach((entry, i) => {
      const own = entry.request.variables ?? {};
      for (const [name, renamed] of merged.variables[i]!) if (Object.hasOwn(own, name)) variables[renamed] = own[name];
    });
    let response: SubgraphResponse;
    try {
      response = await this.exchange(JSON.stringify({ query: merged.query, variables }), headers);
    } catch (error) {
      // The subgraph could not be reached or kept failing (retries included): each fetch would
      // have met the same, and sending them again would only add load to a failing subgraph.
      for (const entry of entries) entry.reject(error);
      return;
    }
    if (response.status === 401 || response.status === 403) {
      // The subgraph refused the router's signature: each fetch alone would be refused the same way.
      const error = this.errorFromResponse(response);
      for (const entry of entries) entry.reject(error);
      return;
    }
    let reason: string;
    if (response.status >= 200 && response.status < 300 && isJson(response)) {
      let body: unknown;
      try {
        body = JSON.parse(response.body);
      } catch {
        body = undefined;
      }
      const split = body && typeof body === 'object' ? splitMerged(merged, body as Record<string, unknown>) : { reason: 'not a JSON object' };
      if ('parts' in split) {
        entries.forEach((entry, i) => {
          this.restrictCachePolicy(entry.options, response);
          entry.resolve(split.parts[i]!);
        });
        return;
      }
      reason = split.reason;
    } else {
      reason = `status ${response.status}`;
    }
    this.options.onUnmerged?.(this.name, entries.length, reason);
    for (const entry of entries) this.sendAlone(entry.request, headers, entry.options).then(entry.resolve, entry.reject);
  }

  private exchange(body: string, headers: Record<string, string>): Promise<SubgraphResponse> {
    const signed = { ...headers, ...signatureHeaders(this.options.secret, { method: 'POST', path: this.path, headers, body }) };
    return this.options.fetcher.exchange(this.target, 'POST', signed, body);
  }

  /** One fetch, one request: exactly what RemoteGraphQLDataSource would send and answer. */
  private async sendAlone(
    request: ProcessOptions['request'],
    headers: Record<string, string>,
    options: ProcessOptions,
  ): Promise<GatewayGraphQLResponse> {
    const { http: _http, query, ...rest } = request;
    const response = await this.exchange(JSON.stringify({ query, ...rest }), headers);
    if (response.status < 200 || response.status >= 300) throw this.errorFromResponse(response);
    const body: unknown = isJson(response) ? JSON.parse(response.body) : response.body;
    if (typeof body !== 'object' || body === null) throw new Error(`Expected JSON response body, but received: ${String(body)}`);
    this.restrictCachePolicy(options, response);
    return body as GatewayGraphQLResponse;
  }

  /**
   * RemoteGraphQLDataSource's error for an answer that is not 2xx (the fetcher has already turned
   * 5xx into SERVICE_UNAVAILABLE), except 401 and 403: subgraphs never see the caller's token, so
   * they refuse only the router's signature (a secret rotated on one side only). Stock says
   * UNAUTHENTICATED/FORBIDDEN there, which tells the caller to sign in again for nothing; the
   * service is unavailable to this router, and operators are told why.
   */
  private errorFromResponse(response: SubgraphResponse): GraphQLError {
    if (response.status === 401 || response.status === 403) {
      this.options.onRefused?.(this.name, response.status);
      return new GraphQLError(`The ${this.name} service is unavailable`, { extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, serviceName: this.name } });
    }
    const body: unknown = isJson(response) ? JSON.parse(response.body) : response.body;
    const extensions: Record<string, unknown> = {
      response: { url: this.url, status: response.status, statusText: response.statusText, body },
    };
    return new GraphQLError(`${response.status}: ${response.statusText}`, { extensions });
  }

  /** The subgraph's Cache-Control, as RemoteGraphQLDataSource applies it to the operation's cache policy. */
  private restrictCachePolicy(options: ProcessOptions, response: SubgraphResponse): void {
    if (!isIncoming(options)) return;
    const policy = (options.incomingRequestContext as { overallCachePolicy?: unknown }).overallCachePolicy;
    if (!policy || typeof policy !== 'object' || !('restrict' in policy)) return;
    const header = response.headers['cache-control'];
    const parsed: Record<string, string | true> = {};
    if (typeof header === 'string' && header) {
      for (const part of header.trim().split(/\s*,\s*/)) {
        const [k = '', v] = part.split(/\s*=\s*/, 2);
        parsed[k] = v === undefined ? true : v.replace(/^"|"$/g, '');
      }
    }
    const hint: { maxAge: number; scope?: 'PRIVATE' | 'PUBLIC' } = { maxAge: 0 };
    const maxAge = parsed['max-age'];
    if (typeof maxAge === 'string' && /^[0-9]+$/.test(maxAge)) hint.maxAge = Number(maxAge);
    if (parsed.private === true) hint.scope = 'PRIVATE';
    if (parsed.public === true) hint.scope = 'PUBLIC';
    (policy as { restrict(hint: unknown): void }).restrict(hint);
  }
}

function isJson(response: SubgraphResponse): boolean {
  const type = response.headers['content-type'];
  return typeof type === 'string' && (type.startsWith('application/json') || type.startsWith('application/graphql-response+json'));
}
