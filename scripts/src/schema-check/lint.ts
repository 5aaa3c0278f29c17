// Conventions, checked on each subgraph's own SDL so every message names the subgraph and the
// file:line its team edits. (The supergraph has lost both.)
import { relative } from 'node:path';
import {
  isTypeDefinitionNode,
  isTypeExtensionNode,
  Kind,
  parse,
  Source,
  type ConstDirectiveNode,
  type DefinitionNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type InputValueDefinitionNode,
  type Location,
  type NameNode,
  type ObjectTypeDefinitionNode,
  type ObjectTypeExtensionNode,
  type InterfaceTypeDefinitionNode,
  type InterfaceTypeExtensionNode,
} from 'graphql';
import type { SubgraphSource } from '../composition.ts';

export interface LintProblem {
  subgraph: string;
  /** Relative to the project root. */
  file: string;
  line: number;
  column: number;
  rule: string;
  coordinate: string;
  message: string;
}

/** Mutations start with one of these (then an upper-case letter, or nothing: `restock`). */
export const MUTATION_VERBS = ['create', 'update', 'delete', 'add', 'remove', 'restock', 'place', 'cancel', 'set', 'sign', 'refresh'];

const PASCAL = /^[A-Z][A-Za-z0-9]*$/;
const CAMEL = /^[a-z][A-Za-z0-9]*$/;
const SCREAMING_SNAKE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;
const VERB_FIRST = new RegExp(`^(?:${MUTATION_VERBS.join('|')})(?:[A-Z0-9]|$)`);

type ObjectLike = ObjectTypeDefinitionNode | ObjectTypeExtensionNode | InterfaceTypeDefinitionNode | InterfaceTypeExtensionNode;

interface Parsed {
  subgraph: SubgraphSource;
  document: DocumentNode;
}

export function lintSubgraphs(subgraphs: readonly SubgraphSource[], root: string): LintProblem[] {
  const parsed: Parsed[] = [];
  for (const subgraph of subgraphs) {
    // A subgraph that does not parse is reported by composition, with its position.
    try {
      parsed.push({ subgraph, document: parse(new Source(subgraph.sdl, relative(root, subgraph.file))) });
    } catch {
      continue;
    }
  }
  const order = subgraphs.map((s) => s.name);
  return [...parsed.flatMap(lintNames), ...parsed.flatMap(lintRootFields), ...lintEntities(parsed)].sort(
    (a, b) => order.indexOf(a.subgraph) - order.indexOf(b.subgraph) || a.line - b.line || a.column - b.column,
  );
}

/** Subgraph SDL that does not @link Federation 2 is read as Federation 1; this repo is Federation 2 only. */
export function isFederation2(document: DocumentNode): boolean {
  return document.definitions.some(
    (d) =>
      (d.kind === Kind.SCHEMA_DEFINITION || d.kind === Kind.SCHEMA_EXTENSION) &&
      (d.directives ?? []).some((directive) => {
        if (directive.name.value !== 'link') return false;
        const url = directive.arguments?.find((a) => a.name.value === 'url')?.value;
        return url?.kind === Kind.STRING && /\/\/specs\.apollo\.dev\/federation\/v2\.\d+$/.test(url.value);
      }),
  );
}

function lintNames({ subgraph, document }: Parsed): LintProblem[] {
  const problems: LintProblem[] = [];
  const report = (node: { loc?: Location | undefined }, rule: string, coordinate: string, message: string) =>
    problems.push(problem(subgraph, node, rule, coordinate, message));
  const checkName = (name: NameNode, pattern: RegExp, rule: string, coordinate: string, what: string) => {
    if (!pattern.test(name.value)) report(name, rule, coordinate, `${what} ${coordinate} should be ${CASE_NAMES[rule]}`);
  };
  const checkFields = (type: string, fields: readonly (FieldDefinitionNode | InputValueDefinitionNode)[]) => {
    for (const field of fields) {
      checkName(field.name, CAMEL, 'field-camel-case', `${type}.${field.name.value}`, 'field');
      for (const argument of 'arguments' in field ? field.arguments ?? [] : []) {
        checkName(argument.name, CAMEL, 'argument-camel-case', `${type}.${field.name.value}(${argument.name.value}:)`, 'argument');
      }
    }
  };

  for (const definition of document.definitions) {
    if (!isTypeDefinitionNode(definition) && !isTypeExtensionNode(definition)) continue;
    const type = definition.name.value;
    checkName(definition.name, PASCAL, 'type-pascal-case', type, 'type');
    switch (definition.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.OBJECT_TYPE_EXTENSION:
      case Kind.INTERFACE_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_EXTENSION:
        checkFields(type, definition.fields ?? []);
        break;
      case Kind.INPUT_OBJECT_TYPE_DEFINITION:
      case Kind.INPUT_OBJECT_TYPE_EXTENSION:
        if (!type.endsWith('Input')) report(definition.name, 'input-suffix', type, `input type ${type} should end in "Input"`);
        checkFields(type, definition.fields ?? []);
        break;
      case Kind.ENUM_TYPE_DEFINITION:
      case Kind.ENUM_TYPE_EXTENSION:
        for (const value of definition.values ?? []) {
          checkName(value.name, SCREAMING_SNAKE, 'enum-value-screaming-snake-case', `${type}.${value.name.value}`, 'enum value');
        }
        break;
    }
  }
  return problems;
}

const CASE_NAMES: Record<string, string> = {
  'type-pascal-case': 'PascalCase',
  'field-camel-case': 'camelCase',
  'argument-camel-case': 'camelCase',
  'enum-value-screaming-snake-case': 'SCREAMING_SNAKE_CASE',
};

function lintRootFields({ subgraph, document }: Parsed): LintProblem[] {
  const roots = rootTypeNames(document);
  const problems: LintProblem[] = [];
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const operation = roots.get(definition.name.value);
    if (!operation) continue;
    for (const field of definition.fields ?? []) {
      const coordinate = `${definition.name.value}.${field.name.value}`;
      if (!field.description?.value.trim()) {
        problems.push(problem(subgraph, field.name, 'root-field-description', coordinate, `${operation} field ${coordinate} has no description`));
      }
      if (operation === 'mutation' && !VERB_FIRST.test(field.name.value)) {
        problems.push(
          problem(subgraph, field.name, 'mutation-verb-first', coordinate, `mutation ${field.name.value} should start with a verb: ${MUTATION_VERBS.join(', ')}`),
        );
      }
    }
  }
  return problems;
}

function rootTypeNames(document: DocumentNode): Map<string, 'query' | 'mutation' | 'subscription'> {
  const roots = new Map<string, 'query' | 'mutation' | 'subscription'>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION && definition.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const operationType of definition.operationTypes ?? []) roots.set(operationType.type.name.value, operationType.operation);
  }
  if (roots.size === 0) {
    roots.set('Query', 'query').set('Mutation', 'mutation').set('Subscription', 'subscription');
  }
  return roots;
}

/**
 * An entity (a type with @key) needs a description in the subgraph that owns it: the first
 * subgraph in supergraph.yaml whose definition has a resolvable @key and fields of its own (not
 * key fields, not @external). Subgraphs that only reference or extend an entity leave its
 * description to the owner, so composition never has to pick between competing descriptions.
 * When no definition qualifies, the first resolvable one owns it, then the first at all.
 */
function lintEntities(parsed: readonly Parsed[]): LintProblem[] {
  const definitions = new Map<string, { subgraph: SubgraphSource; nodes: ObjectLike[] }[]>();
  for (const { subgraph, document } of parsed) {
    for (const definition of document.definitions) {
      if (!isObjectLike(definition)) continue;
      const perSubgraph = definitions.get(definition.name.value) ?? [];
      let mine = perSubgraph.find((d) => d.subgraph === subgraph);
      if (!mine) perSubgraph.push((mine = { subgraph, nodes: [] }));
      mine.nodes.push(definition);
      definitions.set(definition.name.value, perSubgraph);
    }
  }

  const problems: LintProblem[] = [];
  for (const [type, perSubgraph] of definitions) {
    const keyed = perSubgraph.filter((d) => d.nodes.some((n) => keys(n).length > 0));
    if (keyed.length === 0) continue;
    const resolvable = keyed.filter((d) => d.nodes.some((n) => keys(n).some((k) => k.resolvable)));
    const owner = resolvable.find((d) => hasOwnFields(d.nodes)) ?? resolvable[0] ?? keyed[0];
    if (!owner || owner.nodes.some((n) => 'description' in n && n.description?.value.trim())) continue;
    const node = owner.nodes[0];
    if (!node) continue;
    problems.push(
      problem(owner.subgraph, node.name, 'entity-description', type, `entity ${type} has no description in ${owner.subgraph.name}, the subgraph that owns it`),
    );
  }
  return problems;
}

interface Key {
  fields: string[];
  resolvable: boolean;
}

function keys(node: ObjectLike): Key[] {
  return (node.directives ?? []).filter((d) => isFederationDirective(d, 'key')).map((directive) => {
    const fields = directive.arguments?.find((a) => a.name.value === 'fields')?.value;
    const resolvable = directive.arguments?.find((a) => a.name.value === 'resolvable')?.value;
    return {
      fields: fields?.kind === Kind.STRING ? topLevelFields(fields.value) : [],
      resolvable: !(resolvable?.kind === Kind.BOOLEAN && !resolvable.value),
    };
  });
}

function hasOwnFields(nodes: readonly ObjectLike[]): boolean {
  const keyFields = new Set(nodes.flatMap((n) => keys(n).flatMap((k) => k.fields)));
  return nodes.some((n) =>
    (n.fields ?? []).some((f) => !keyFields.has(f.name.value) && !(f.directives ?? []).some((d) => isFederationDirective(d, 'external'))),
  );
}

/** `id owner { id }` → ["id", "owner"]. */
function topLevelFields(selection: string): string[] {
  try {
    const document = parse(`{${selection}}`);
    const operation = document.definitions[0];
    if (operation?.kind !== Kind.OPERATION_DEFINITION) return [];
    return operation.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : []));
  } catch {
    return []; // composition reports an invalid key
  }
}

function isFederationDirective(directive: ConstDirectiveNode, name: string): boolean {
  return directive.name.value === name || directive.name.value === `federation__${name}`;
}

function isObjectLike(definition: DefinitionNode): definition is ObjectLike {
  return (
    definition.kind === Kind.OBJECT_TYPE_DEFINITION ||
    definition.kind === Kind.OBJECT_TYPE_EXTENSION ||
    definition.kind === Kind.INTERFACE_TYPE_DEFINITION ||
    definition.kind === Kind.INTERFACE_TYPE_EXTENSION
  );
}

function problem(subgraph: SubgraphSource, node: { loc?: Location | undefined }, rule: string, coordinate: string, message: string): LintProblem {
  const token = node.loc?.startToken;
  return {
    subgraph: subgraph.name,
    file: node.loc?.source.name ?? subgraph.file,
    line: token?.line ?? 0,
    column: token?.column ?? 0,
    rule,
    coordinate,
    message,
  };
}
