// Breaking-change detection on the API schemas (what clients see), not on the supergraphs, so
// join__ plumbing and routing changes never count as client-facing changes. Authorization rules,
// which the API schema does not carry, are compared on the supergraphs (auth.ts).
import { Supergraph, type Schema } from '@apollo/federation-internals';
import { diff, DiffRule, type Change } from '@graphql-inspector/core';
import type { GraphQLSchema } from 'graphql';
import { diffAuthRules, readAuthRules, type AuthRule, type AuthRules } from './auth.ts';

export type Criticality = 'BREAKING' | 'DANGEROUS' | 'NON_BREAKING';

export interface SchemaChange {
  type: string;
  /** Schema coordinate: `Type`, `Type.field`, `Type.field.argument`, `Enum.VALUE`, `Input.field`. */
  path: string | null;
  criticality: Criticality;
  /**
   * The criticality before deprecation was taken into account: removing a deprecated field is
   * DANGEROUS (the expected end of a deprecation) but still breaks any operation that uses it.
   */
  inherentCriticality: Criticality;
  message: string;
  /** What it does to clients, in one clause. */
  impact: string;
  /** Subgraphs that define (or defined) the coordinate. */
  subgraphs: string[];
  /**
   * api: a change of the API schema; usage by an operation blocks it when it is inherently
   * breaking. authorization: a change of an auth rule; operations still validate and are listed
   * for information only (they are who gains or loses access).
   */
  category: 'api' | 'authorization';
  /** For authorization changes: the effective rules before and after (a type's own rules); else null. */
  rules: { before: AuthRule[]; after: AuthRule[] } | null;
}

export interface BuiltSupergraph {
  supergraph: Supergraph;
  api: GraphQLSchema;
  auth: AuthRules;
}

/** Throws when the SDL is not a valid supergraph. */
export function buildSupergraph(sdl: string): BuiltSupergraph {
  const supergraph = Supergraph.build(sdl);
  return { supergraph, api: supergraph.apiSchema().toGraphQLJSSchema(), auth: readAuthRules(sdl) };
}

export async function diffSupergraphs(before: BuiltSupergraph, after: BuiltSupergraph): Promise<SchemaChange[]> {
  // Description edits are never a risk to clients; leaving them out keeps the report about changes.
  const raw = await diff(before.api, after.api, [DiffRule.ignoreDescriptionChanges]);
  // The rule maps change by change, so raw[i] and adjusted[i] are the same change.
  const adjusted = await DiffRule.suppressRemovalOfDeprecatedField({
    changes: raw,
    oldSchema: before.api,
    newSchema: after.api,
    config: {},
  });
  const newSubgraphs = [...after.supergraph.subgraphs()];
  const oldSubgraphs = [...before.supergraph.subgraphs()];
  const subgraphsOf = (path: string | null) => {
    const coordinate = path?.split('.') ?? [];
    // Prefer the new graph (where the change lives); a removed coordinate is only in the old one.
    const subgraphs = newSubgraphs.filter((s) => defines(s.schema, coordinate)).map((s) => s.name);
    return subgraphs.length > 0 ? subgraphs : oldSubgraphs.filter((s) => defines(s.schema, coordinate)).map((s) => s.name);
  };
  const api = adjusted.map((change, i): SchemaChange => {
    const path = change.path ?? null;
    return {
      type: change.type,
      path,
      criticality: change.criticality.level as Criticality,
      inherentCriticality: (raw[i] ?? change).criticality.level as Criticality,
      message: change.message,
      impact: impactOf(change),
      subgraphs: subgraphsOf(path),
      category: 'api',
      rules: null,
    };
  });
  const auth = diffAuthRules(before.auth, after.auth).map(
    (change): SchemaChange => ({
      type: change.type,
      path: change.path,
      criticality: change.criticality,
      inherentCriticality: change.criticality,
      message: change.message,
      impact: change.impact,
      subgraphs: subgraphsOf(change.path),
      category: 'authorization',
      rules: { before: change.before, after: change.after },
    }),
  );
  return [...api, ...auth];
}

function defines(schema: Schema, [typeName, member]: string[]): boolean {
  if (!typeName) return false;
  const type = schema.type(typeName);
  if (!type) return false;
  if (member === undefined) return true;
  switch (type.kind) {
    case 'ObjectType':
    case 'InterfaceType':
    case 'InputObjectType':
      return type.field(member) !== undefined;
    case 'EnumType':
      return type.value(member) !== undefined;
    default:
      return true;
  }
}

// Why a change matters to a client; the library's own reason is the fallback.
const IMPACT: Record<string, string> = {
  FIELD_REMOVED: 'clients querying it will get a validation error',
  TYPE_REMOVED: 'operations and fragments that name it will get a validation error',
  TYPE_KIND_CHANGED: 'operations that select from it as the old kind will get a validation error',
  FIELD_TYPE_CHANGED: 'clients will receive a value of a type they do not expect (or null where they expect a value)',
  FIELD_ARGUMENT_ADDED: 'operations that select the field without the new required argument will get a validation error',
  FIELD_ARGUMENT_REMOVED: 'operations passing the argument will get a validation error',
  FIELD_ARGUMENT_TYPE_CHANGED: 'operations passing a value or variable of the old type (or omitting it) will get a validation error',
  FIELD_ARGUMENT_DEFAULT_CHANGED: 'operations that omit the argument will silently get different results',
  INPUT_FIELD_ADDED: 'clients sending this input without the new required field will be rejected',
  INPUT_FIELD_REMOVED: 'clients sending the field will be rejected',
  INPUT_FIELD_TYPE_CHANGED: 'clients sending the old type (or omitting a now required field) will be rejected',
  INPUT_FIELD_DEFAULT_VALUE_CHANGED: 'clients that omit the field will silently get different behaviour',
  ENUM_VALUE_REMOVED: 'clients sending the value will be rejected, and clients that expect it may not handle its absence',
  ENUM_VALUE_ADDED: 'clients with an exhaustive switch over this enum may not handle the new value',
  UNION_MEMBER_REMOVED: 'fragments on the removed member will get a validation error',
  UNION_MEMBER_ADDED: 'clients that handle every member may not handle the new one',
  OBJECT_TYPE_INTERFACE_REMOVED: 'fragments spreading the interface on this type will get a validation error',
  OBJECT_TYPE_INTERFACE_ADDED: 'clients that handle every implementation of the interface may not handle this one',
};

function impactOf(change: Change): string {
  if (change.criticality.level === 'NON_BREAKING') return 'safe for existing clients';
  return IMPACT[change.type] ?? change.criticality.reason ?? 'existing clients may break';
}
