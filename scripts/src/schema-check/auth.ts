// Authorization rules are part of the contract. The subgraphs declare them with three directives
// linked from AUTH_SPEC and composed into the supergraph (@composeDirective):
//
//   @signedIn                      the caller must be signed in as a user
//   @requiresScope(anyOf: [...])   the caller must hold one of the scopes
//   @ownerOrScope(anyOf: [...])    the user the object belongs to, or a holder of one of the scopes
//
// The API schema does not carry them, so the API diff cannot see them: this compares the rules
// in the two supergraph SDLs instead. Semantics follow the kit (subgraphs/kit/src/authorization.ts):
// a rule on a type guards every field of it, and a field's own rule REPLACES its type's rule (it
// does not add to it). So a field is checked against its *effective* rule: its own, else its type's.
//
// Who a rule admits, with a caller being (user id or none, set of scopes) — both come from the
// token independently, so a caller can hold scopes without being signed in as a user:
//   none               everyone, even anonymous callers
//   signedIn           callers with a user id
//   requiresScope(S)   callers holding a scope in S
//   ownerOrScope(S)    the owner (a user id equal to the object's owner) or callers holding a scope in S
// Rule A is at least as strict as rule B when A admits no caller B denies:
//   requiresScope(S) ≤ requiresScope(T) and ≤ ownerOrScope(T) when S ⊆ T;
//   ownerOrScope(S)  ≤ ownerOrScope(T) when S ⊆ T;
//   anything ≤ none; signedIn ≤ signedIn only. requiresScope/ownerOrScope are NOT stricter than
//   signedIn: they admit a scope holder that is not signed in as a user. Every other pair is a
//   weakening (conservative: it admits someone the old rule denied, or may).
// Several auth directives on one coordinate (possible when subgraphs sharing a type declare
// different ones) are read as "all of them"; a set is at least as strict as another when each old
// rule has a new rule at least as strict as it (sufficient, so anything else counts as weaker).
//
// Reported, per coordinate present in both supergraphs (a removed or added type or field is the
// API diff's business):
//   AUTH_RULE_REMOVED   BREAKING   a rule is gone and nothing guards the coordinate any more
//   AUTH_RULE_WEAKENED  BREAKING   a rule remains but admits callers the old one denied
//   AUTH_RULE_ADDED     DANGEROUS  an unguarded coordinate is now guarded
//   AUTH_RULE_NARROWED  DANGEROUS  a rule remains and admits fewer callers
//   AUTH_RULE_MOVED     NON_BREAKING  a field's own rule changed but its effective rule did not
//                                  (e.g. its own rule was removed and its type's identical rule applies)
// A type's rule is compared as declared (its fields are listed in the message). A field is only
// reported when its own declaration changed; a change that only comes from its type is the type's
// report. Limitation: the supergraph does not say which subgraph declared a type-level rule, and
// the kit enforces a type-level rule only in the subgraph that declares it, so a field another
// subgraph contributes to that type is shown here as covered although it is not.
import { Kind, parse, type ConstDirectiveNode, type ConstValueNode, type DocumentNode } from 'graphql';
import type { Criticality } from './diff.ts';

export const AUTH_SPEC = 'https://commerce-supergraph.dev/auth';
export const AUTH_KINDS = ['requiresScope', 'ownerOrScope', 'signedIn'] as const;
export type AuthKind = (typeof AUTH_KINDS)[number];

export interface AuthRule {
  kind: AuthKind;
  /** Sorted, without duplicates; empty for signedIn. */
  anyOf: string[];
}

/** Rules per coordinate: `Type` (type-level) and `Type.field` (the field's own rules). */
export interface AuthRules {
  types: Map<string, AuthRule[]>;
  /** Type name → field name → the field's own rules (empty when it has none). */
  fields: Map<string, Map<string, AuthRule[]>>;
  mutationType: string;
}

export type AuthChangeType = 'AUTH_RULE_REMOVED' | 'AUTH_RULE_WEAKENED' | 'AUTH_RULE_ADDED' | 'AUTH_RULE_NARROWED' | 'AUTH_RULE_MOVED';

export interface AuthChange {
  type: AuthChangeType;
  path: string;
  criticality: Criticality;
  message: string;
  impact: string;
  /** The effective rules before and after (for a type: its own rules). */
  before: AuthRule[];
  after: AuthRule[];
}

export const AUTH_CRITICALITY: Record<AuthChangeType, Criticality> = {
  AUTH_RULE_REMOVED: 'BREAKING',
  AUTH_RULE_WEAKENED: 'BREAKING',
  AUTH_RULE_ADDED: 'DANGEROUS',
  AUTH_RULE_NARROWED: 'DANGEROUS',
  AUTH_RULE_MOVED: 'NON_BREAKING',
};

const AUTH_IMPACT: Record<AuthChangeType, string> = {
  AUTH_RULE_REMOVED: 'callers it used to deny can now read or call it',
  AUTH_RULE_WEAKENED: 'callers it used to deny can now read or call it',
  AUTH_RULE_ADDED: 'clients may start getting FORBIDDEN (or UNAUTHENTICATED) where they got data before',
  AUTH_RULE_NARROWED: 'clients may start getting FORBIDDEN (or UNAUTHENTICATED) where they got data before',
  AUTH_RULE_MOVED: 'safe: the same callers are allowed as before',
};

/** Reads the auth rules of a supergraph SDL; none when it does not link the auth spec. */
export function readAuthRules(sdl: string | DocumentNode): AuthRules {
  const document = typeof sdl === 'string' ? parse(sdl) : sdl;
  const names = authDirectiveNames(document);
  const rules: AuthRules = { types: new Map(), fields: new Map(), mutationType: 'Mutation' };
  const rulesOf = (directives: readonly ConstDirectiveNode[] | undefined): AuthRule[] => {
    const found: AuthRule[] = [];
    for (const directive of directives ?? []) {
      const kind = names.get(directive.name.value);
      if (!kind) continue;
      const anyOf = kind === 'signedIn' ? [] : strings(directive.arguments?.find((a) => a.name.value === 'anyOf')?.value);
      found.push({ kind, anyOf });
    }
    return found;
  };

  for (const definition of document.definitions) {
    switch (definition.kind) {
      case Kind.SCHEMA_DEFINITION:
      case Kind.SCHEMA_EXTENSION:
        for (const operationType of definition.operationTypes ?? []) {
          if (operationType.operation === 'mutation') rules.mutationType = operationType.type.name.value;
        }
        break;
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.OBJECT_TYPE_EXTENSION:
      case Kind.INTERFACE_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_EXTENSION: {
        const type = definition.name.value;
        rules.types.set(type, normalize([...(rules.types.get(type) ?? []), ...rulesOf(definition.directives)]));
        const fields = rules.fields.get(type) ?? new Map<string, AuthRule[]>();
        for (const field of definition.fields ?? []) {
          fields.set(field.name.value, normalize([...(fields.get(field.name.value) ?? []), ...rulesOf(field.directives)]));
        }
        rules.fields.set(type, fields);
        break;
      }
      default:
        break;
    }
  }
  return rules;
}

/**
 * Local directive name → kind, from `@link(url: "https://commerce-supergraph.dev/auth/vX.Y", …)`:
 * imported names (possibly renamed with `{ name: "@signedIn", as: "@loggedIn" }`) keep their local
 * name, the others are `<as or "auth">__signedIn`.
 */
function authDirectiveNames(document: DocumentNode): Map<string, AuthKind> {
  const names = new Map<string, AuthKind>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION && definition.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of definition.directives ?? []) {
      if (link.name.value !== 'link') continue;
      const arg = (name: string) => link.arguments?.find((a) => a.name.value === name)?.value;
      const url = arg('url');
      if (url?.kind !== Kind.STRING) continue;
      const match = /^(.*)\/v\d+\.\d+\/?$/.exec(url.value);
      if (match?.[1] !== AUTH_SPEC) continue;
      const as = arg('as');
      const prefix = as?.kind === Kind.STRING ? as.value : 'auth';
      const imported = new Map<string, string>();
      const imports = arg('import');
      for (const entry of imports?.kind === Kind.LIST ? imports.values : imports ? [imports] : []) {
        if (entry.kind === Kind.STRING) imported.set(entry.value.replace(/^@/, ''), entry.value.replace(/^@/, ''));
        if (entry.kind === Kind.OBJECT) {
          const field = (name: string) => entry.fields.find((f) => f.name.value === name)?.value;
          const name = field('name');
          const renamed = field('as');
          if (name?.kind !== Kind.STRING) continue;
          imported.set(name.value.replace(/^@/, ''), (renamed?.kind === Kind.STRING ? renamed.value : name.value).replace(/^@/, ''));
        }
      }
      for (const kind of AUTH_KINDS) names.set(imported.get(kind) ?? `${prefix}__${kind}`, kind);
    }
  }
  return names;
}

function strings(value: ConstValueNode | undefined): string[] {
  if (!value) return [];
  if (value.kind === Kind.STRING) return [value.value]; // input coercion: a single item is a list of one
  if (value.kind !== Kind.LIST) return [];
  return value.values.flatMap((v) => (v.kind === Kind.STRING ? [v.value] : []));
}

function normalize(rules: readonly AuthRule[]): AuthRule[] {
  const unique = new Map<string, AuthRule>();
  for (const rule of rules) {
    const anyOf = [...new Set(rule.anyOf)].sort();
    unique.set(formatRule({ kind: rule.kind, anyOf }), { kind: rule.kind, anyOf });
  }
  return [...unique.values()].sort((a, b) => AUTH_KINDS.indexOf(a.kind) - AUTH_KINDS.indexOf(b.kind) || formatRule(a).localeCompare(formatRule(b)));
}

const same = (a: readonly AuthRule[], b: readonly AuthRule[]) => formatRules(a) === formatRules(b);

/** Does `a` admit only callers `b` admits too? */
function ruleAtLeastAsStrict(a: AuthRule, b: AuthRule): boolean {
  const subset = (s: string[], t: string[]) => s.every((x) => t.includes(x));
  switch (b.kind) {
    case 'signedIn':
      // The owner is a signed-in user; a scope holder need not be.
      return a.kind === 'signedIn' || a.anyOf.length === 0;
    case 'requiresScope':
      return a.kind === 'requiresScope' && subset(a.anyOf, b.anyOf);
    case 'ownerOrScope':
      return a.kind !== 'signedIn' && subset(a.anyOf, b.anyOf);
  }
}

/** Does the conjunction `after` admit only callers the conjunction `before` admits? */
export function atLeastAsStrict(after: readonly AuthRule[], before: readonly AuthRule[]): boolean {
  return before.every((b) => after.some((a) => ruleAtLeastAsStrict(a, b)));
}

function classify(before: readonly AuthRule[], after: readonly AuthRule[]): AuthChangeType | null {
  if (same(before, after)) return null;
  if (after.length === 0) return 'AUTH_RULE_REMOVED';
  if (before.length === 0) return 'AUTH_RULE_ADDED';
  return atLeastAsStrict(after, before) ? 'AUTH_RULE_NARROWED' : 'AUTH_RULE_WEAKENED';
}

/** Compares the rules of two supergraphs; coordinates only in one of them are left to the API diff. */
export function diffAuthRules(before: AuthRules, after: AuthRules): AuthChange[] {
  const changes: AuthChange[] = [];
  for (const [type, afterTypeRules] of after.types) {
    const beforeTypeRules = before.types.get(type);
    const beforeFields = before.fields.get(type);
    const afterFields = after.fields.get(type) ?? new Map<string, AuthRule[]>();
    if (!beforeTypeRules || !beforeFields) continue;
    const verbOf = (field: string | null): string =>
      field === null ? 'read its fields' : type === after.mutationType ? 'call it' : 'read it';

    const typeChange = classify(beforeTypeRules, afterTypeRules);
    if (typeChange) {
      // The fields the type-level rule guards: those without a rule of their own.
      const inheriting = [...afterFields].filter(([name, own]) => own.length === 0 && beforeFields.has(name)).map(([name]) => name);
      changes.push(change(typeChange, type, beforeTypeRules, afterTypeRules, typeDetail(type, inheriting, beforeTypeRules, afterTypeRules, verbOf(null))));
    }

    for (const [field, afterOwn] of afterFields) {
      const beforeOwn = beforeFields.get(field);
      if (!beforeOwn || same(beforeOwn, afterOwn)) continue;
      const beforeEffective = beforeOwn.length > 0 ? beforeOwn : beforeTypeRules;
      const afterEffective = afterOwn.length > 0 ? afterOwn : afterTypeRules;
      const path = `${type}.${field}`;
      const kind = classify(beforeEffective, afterEffective) ?? 'AUTH_RULE_MOVED';
      let source = '';
      if (afterOwn.length === 0 && afterTypeRules.length > 0) source = ` (its own rule was removed; type ${type}'s rule applies instead)`;
      else if (beforeOwn.length === 0 && beforeTypeRules.length > 0) source = ` (it now declares its own rule, which replaces type ${type}'s rule)`;
      changes.push(change(kind, path, beforeEffective, afterEffective, fieldDetail(kind, path, beforeEffective, afterEffective, source, verbOf(field))));
    }
  }
  return changes;
}

function change(type: AuthChangeType, path: string, before: AuthRule[], after: AuthRule[], message: string): AuthChange {
  return { type, path, criticality: AUTH_CRITICALITY[type], message, impact: AUTH_IMPACT[type], before, after };
}

function fieldDetail(kind: AuthChangeType, path: string, before: AuthRule[], after: AuthRule[], source: string, verb: string): string {
  const from = `${formatRules(before)}`;
  const to = `${formatRules(after)}`;
  switch (kind) {
    case 'AUTH_RULE_REMOVED':
      return `${path} lost its authorization rule ${from}: ${admitted([])} can now ${verb} (before: only ${admitted(before)}).`;
    case 'AUTH_RULE_WEAKENED':
      return `${path}: authorization rule ${from} became ${to}${source}: ${newlyAdmitted(before, after)} can now ${verb} (before: only ${admitted(before)}).`;
    case 'AUTH_RULE_ADDED':
      return `${path} now requires ${to}: only ${admitted(after)} may ${verb}; other callers, who could before, now get FORBIDDEN or UNAUTHENTICATED.`;
    case 'AUTH_RULE_NARROWED':
      return `${path}: authorization rule ${from} became ${to}${source}: only ${admitted(after)} may ${verb} (before: ${admitted(before)}); the others now get FORBIDDEN.`;
    case 'AUTH_RULE_MOVED':
      return `${path} is still guarded by ${to}${source}: the same callers may ${verb} as before.`;
  }
}

function typeDetail(type: string, inheriting: string[], before: AuthRule[], after: AuthRule[], verb: string): string {
  const fields =
    inheriting.length === 0
      ? ` No field of ${type} relies on it today (each declares its own rule), but fields added later will.`
      : ` Fields guarded only by the type's rule: ${listOf(inheriting.map((f) => `${type}.${f}`))}.`;
  const kind = classify(before, after);
  const from = formatRules(before);
  const to = formatRules(after);
  switch (kind) {
    case 'AUTH_RULE_REMOVED':
      return `Type ${type} lost its authorization rule ${from}: ${admitted([])} can now ${verb} (before: only ${admitted(before)}).${fields}`;
    case 'AUTH_RULE_WEAKENED':
      return `Type ${type}: authorization rule ${from} became ${to}: ${newlyAdmitted(before, after)} can now ${verb} (before: only ${admitted(before)}).${fields}`;
    case 'AUTH_RULE_ADDED':
      return `Type ${type} now requires ${to}: only ${admitted(after)} may ${verb}; other callers now get FORBIDDEN or UNAUTHENTICATED.${fields}`;
    default:
      return `Type ${type}: authorization rule ${from} became ${to}: only ${admitted(after)} may ${verb} (before: ${admitted(before)}).${fields}`;
  }
}

const quoted = (scopes: readonly string[]) => listOf(scopes.map((s) => `"${s}"`), 'or');
const withScope = (scopes: readonly string[]) => (scopes.length === 1 ? `a caller with scope ${quoted(scopes)}` : `a caller with one of the scopes ${quoted(scopes)}`);

/** Who a set of rules admits, in words. */
export function admitted(rules: readonly AuthRule[]): string {
  if (rules.length === 0) return 'anyone, even a caller who is not signed in,';
  return rules
    .map((rule) => {
      switch (rule.kind) {
        case 'signedIn':
          return 'a signed-in user';
        case 'requiresScope':
          return rule.anyOf.length === 0 ? 'no caller (no scope is listed)' : withScope(rule.anyOf);
        case 'ownerOrScope':
          return rule.anyOf.length === 0 ? 'the user it belongs to' : `the user it belongs to or ${withScope(rule.anyOf)}`;
      }
    })
    .join(', and only as ');
}

/** Who `after` admits that `before` did not, as precisely as the single-rule cases allow. */
function newlyAdmitted(before: readonly AuthRule[], after: readonly AuthRule[]): string {
  const [b, a] = [before[0], after[0]];
  if (before.length !== 1 || after.length !== 1 || !a || !b) return `a caller the old rule denied (now: ${admitted(after)})`;
  const added = a.anyOf.filter((s) => !b.anyOf.includes(s));
  const parts: string[] = [];
  if (a.kind === 'signedIn') return 'any signed-in user';
  if (b.kind === 'signedIn') {
    return `${withScope(a.anyOf)} who is not signed in as a user (e.g. a service credential)`;
  }
  if (a.kind === 'ownerOrScope' && b.kind === 'requiresScope') parts.push('the user it belongs to, without any scope');
  if (added.length > 0) parts.push(withScope(added));
  return parts.length > 0 ? parts.join(', and ') : `a caller the old rule denied (now: ${admitted(after)})`;
}

export function formatRule(rule: AuthRule): string {
  return rule.kind === 'signedIn' ? '@signedIn' : `@${rule.kind}(anyOf: [${rule.anyOf.map((s) => `"${s}"`).join(', ')}])`;
}

export function formatRules(rules: readonly AuthRule[]): string {
  return rules.length === 0 ? '(none)' : rules.map(formatRule).join(' ');
}

function listOf(items: readonly string[], conjunction = 'and'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items.at(-1)}`;
}
