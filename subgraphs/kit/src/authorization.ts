import {
  defaultFieldResolver,
  getDirectiveValues,
  GraphQLError,
  isInterfaceType,
  isNonNullType,
  isObjectType,
  type DirectiveNode,
  type GraphQLDirective,
  type GraphQLFieldResolver,
  type GraphQLSchema,
} from 'graphql';
import { ErrorCode } from './errors.ts';
import { hasAnyScope, type Viewer } from './identity.ts';

/**
 * Authorization lives in the subgraphs, which own the data, and is declared in their SDL with three
 * directives (composed into the supergraph with @composeDirective, so the rules are visible there
 * and `schema:check` notices one going missing):
 *
 *   @signedIn                      the caller must be signed in
 *   @requiresScope(anyOf: [...])   the caller must hold one of the scopes
 *   @ownerOrScope(anyOf: [...])    only the user the object belongs to, or a holder of one of the scopes
 *
 * On a field they guard that field; on a type, every field without rules of its own (several on one
 * node must all hold). Each subgraph declares who owns
 * an object of each guarded type (`owners`); a type without an owner function is readable only
 * through the scopes. A denied field gives null and UNAUTHENTICATED (anonymous caller) or FORBIDDEN,
 * never the data, and a denied mutation never runs its resolver.
 */
export const AUTH_DIRECTIVES = ['signedIn', 'requiresScope', 'ownerOrScope'] as const;

/** Who owns an object of a type, from the object the field resolves on. */
export type OwnerOf = (parent: never) => number | null | undefined;
export type Owners = Readonly<Record<string, OwnerOf>>;

/** @requiresScope is a scope rule without an owner; @ownerOrScope one with its type's owner function, if any. */
type Rule = { kind: 'signedIn' } | { kind: 'scope'; anyOf: readonly string[]; ownerOf: OwnerOf | undefined };

interface AuthorizedContext {
  viewer: Viewer;
}

/** Denials already reported in a request, by `Type.field`: one error per field, not one per list item. */
const reported = new WeakMap<object, Set<string>>();

/**
 * Wraps the resolver of every guarded field of `schema` in place. Returns the guarded coordinates
 * (`Type.field`), for tests and logs.
 */
export function enforceAuthorization(schema: GraphQLSchema, owners: Owners = {}): string[] {
  const directives = new Map<string, GraphQLDirective>();
  for (const name of AUTH_DIRECTIVES) {
    const directive = schema.getDirective(name);
    if (directive) directives.set(name, directive);
  }

  /** Every auth directive on a node; several on one field or type must all hold. No node (a type built in code, like the introspection types): no rules. */
  const rulesOf = (node: { directives?: readonly DirectiveNode[] } | null | undefined, typeName: string): Rule[] => {
    if (!node) return [];
    const rules: Rule[] = [];
    for (const [name, directive] of directives) {
      const args = getDirectiveValues(directive, node);
      if (!args) continue;
      if (name === 'signedIn') rules.push({ kind: 'signedIn' });
      else rules.push({ kind: 'scope', anyOf: (args.anyOf as string[] | undefined) ?? [], ownerOf: name === 'ownerOrScope' ? owners[typeName] : undefined });
    }
    return rules;
  };

  // graphql-js never carries an interface's field directives over to the types that implement it,
  // so a rule written there would guard nothing: refused, never silently open.
  const onInterfaces = Object.values(schema.getTypeMap())
    .filter(isInterfaceType)
    .flatMap((type) => [
      ...([type.astNode, ...type.extensionASTNodes].some((node) => rulesOf(node, type.name).length > 0) ? [type.name] : []),
      ...Object.values(type.getFields())
        .filter((field) => rulesOf(field.astNode, type.name).length > 0)
        .map((field) => `${type.name}.${field.name}`),
    ]);
  if (onInterfaces.length > 0) {
    throw new Error(
      `Authorization directives on an interface are not enforced: ${onInterfaces.join(', ')}. ` +
        'Put them on the fields (or types) that implement it.',
    );
  }

  const guarded: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type)) continue;
    const typeRules = [type.astNode, ...type.extensionASTNodes].flatMap((node) => rulesOf(node, type.name));
    const isMutation = type === schema.getMutationType();
    for (const field of Object.values(type.getFields())) {
      // A field's own rules replace its type's.
      const own = rulesOf(field.astNode, type.name);
      const rules = own.length > 0 ? own : typeRules;
      if (rules.length === 0) continue;
      const coordinate = `${type.name}.${field.name}`;
      // A null in a non-null position becomes an error anyway, and a mutation must always say why it
      // did nothing; only nullable query fields may be nulled quietly after their first error.
      const alwaysReport = isMutation || isNonNullType(field.type);
      const resolve: GraphQLFieldResolver<unknown, AuthorizedContext> = field.resolve ?? defaultFieldResolver;
      field.resolve = (parent, args, context, info) => {
        const denial = firstDenial(rules, context.viewer, parent);
        if (!denial) return resolve(parent, args, context, info);
        let seen = reported.get(context);
        if (!seen) reported.set(context, (seen = new Set()));
        if (!alwaysReport && seen.has(coordinate)) return null;
        seen.add(coordinate);
        throw denial;
      };
      guarded.push(coordinate);
    }
  }
  return guarded;
}

/** The caller's user id, for resolvers that act as the caller; UNAUTHENTICATED when signed out. */
export function signedInUserId(who: Viewer): number {
  if (who.userId === null) throw new GraphQLError('You must be signed in to do this', { extensions: { code: ErrorCode.UNAUTHENTICATED } });
  return who.userId;
}

function firstDenial(rules: readonly Rule[], who: Viewer, parent: unknown): GraphQLError | null {
  for (const rule of rules) {
    const denial = check(rule, who, parent);
    if (denial) return denial;
  }
  return null;
}

function check(rule: Rule, who: Viewer, parent: unknown): GraphQLError | null {
  if (who.userId === null && who.scopes.size === 0) {
    return new GraphQLError('You must be signed in to see or do this', { extensions: { code: ErrorCode.UNAUTHENTICATED } });
  }
  switch (rule.kind) {
    case 'signedIn':
      return who.userId === null ? forbidden() : null;
    case 'scope': {
      if (hasAnyScope(who, rule.anyOf)) return null;
      const owner = rule.ownerOf && parent !== null && parent !== undefined ? rule.ownerOf(parent as never) : null;
      // The caller owns the object only as a user: an object without an owner is nobody's.
      return who.userId !== null && owner === who.userId ? null : forbidden();
    }
  }
}

function forbidden(): GraphQLError {
  return new GraphQLError('You are not allowed to see or do this', { extensions: { code: ErrorCode.FORBIDDEN } });
}
