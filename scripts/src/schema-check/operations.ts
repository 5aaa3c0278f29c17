// Client operations: the .graphql documents clients send, checked against the new API schema, and
// the schema coordinates they use (so a breaking change to a used coordinate fails even when
// approved, unless the approval acknowledges every operation that uses it and they still validate).
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import {
  getNamedType,
  GraphQLError,
  isEnumType,
  isInputObjectType,
  Kind,
  parse,
  Source,
  TypeInfo,
  validate,
  visit,
  visitWithTypeInfo,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ASTNode,
  type DocumentNode,
} from 'graphql';
import { UsageError } from './config.ts';

export interface ClientOperation {
  name: string;
  /** Path relative to the project root. */
  file: string;
  node: OperationDefinitionNode;
}

export interface OperationSet {
  operations: ClientOperation[];
  fragments: Map<string, FragmentDefinitionNode>;
  files: string[];
  /** Files that do not parse, duplicate names: reported like validation failures. */
  problems: OperationProblem[];
}

export interface OperationProblem {
  operation: string | null;
  file: string;
  line: number | null;
  message: string;
}

export interface OperationRef {
  operation: string;
  file: string;
}

const EXTENSIONS = ['.graphql', '.gql'];

/**
 * Reads every .graphql/.gql file under the folders (recursively). Fragments are shared across all
 * files, as in a client's codegen project. A missing explicit folder is a usage error; a missing
 * default one means "no operations".
 */
export async function loadOperations(dirs: { dir: string; explicit: boolean }[], root: string): Promise<OperationSet> {
  const set: OperationSet = { operations: [], fragments: new Map(), files: [], problems: [] };
  for (const { dir, explicit } of dirs) {
    const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
    if (!isDir) {
      if (explicit) throw new UsageError(`--operations ${dir} is not a readable folder`);
      continue;
    }
    for (const path of await listDocuments(dir)) {
      const file = relative(root, path);
      set.files.push(file);
      let document;
      try {
        document = parse(new Source(await readFile(path, 'utf8'), file));
      } catch (error) {
        const location = error instanceof GraphQLError ? error.locations?.[0] : undefined;
        set.problems.push({ operation: null, file, line: location?.line ?? null, message: (error as Error).message });
        continue;
      }
      for (const definition of document.definitions) {
        if (definition.kind === Kind.OPERATION_DEFINITION) {
          const name = definition.name?.value ?? '(anonymous)';
          const clash = set.operations.find((o) => o.name === name && name !== '(anonymous)');
          if (clash) {
            set.problems.push({ operation: name, file, line: lineOf(definition), message: `operation name already used in ${clash.file}` });
          }
          set.operations.push({ name, file, node: definition });
        } else if (definition.kind === Kind.FRAGMENT_DEFINITION) {
          const clash = set.fragments.get(definition.name.value);
          if (clash) {
            set.problems.push({ operation: null, file, line: lineOf(definition), message: `fragment ${definition.name.value} is also defined in ${fileOf(clash)}` });
          }
          set.fragments.set(definition.name.value, definition);
        } else {
          set.problems.push({ operation: null, file, line: lineOf(definition), message: `only operations and fragments belong in an operations folder, found ${definition.kind}` });
        }
      }
    }
  }
  return set;
}

async function listDocuments(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && EXTENSIONS.some((ext) => e.name.endsWith(ext)))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Each operation with the fragments it needs, validated as the document a client would send. */
export function validateOperations(set: OperationSet, schema: GraphQLSchema): OperationProblem[] {
  const problems: OperationProblem[] = [];
  for (const operation of set.operations) {
    for (const error of validate(schema, documentOf(operation, set.fragments))) {
      const node = error.nodes?.[0];
      problems.push({
        operation: operation.name,
        file: node ? fileOf(node) ?? operation.file : operation.file,
        line: error.locations?.[0]?.line ?? null,
        message: error.message,
      });
    }
  }
  return problems;
}

/**
 * Schema coordinates each operation touches, resolved against `schema` (the base API schema: a
 * removed coordinate only exists there): `Type.field`, `Type.field.arg`, fragment type
 * conditions, and every field and value of the input types and enums an operation can send
 * (variable values are not in the document, so assume all of them).
 */
export function collectUsage(set: OperationSet, schema: GraphQLSchema): Map<string, OperationRef[]> {
  const usage = new Map<string, OperationRef[]>();
  for (const operation of set.operations) {
    const ref = { operation: operation.name, file: operation.file };
    const used = new Set<string>();
    const typeInfo = new TypeInfo(schema);
    const markInput = (type: GraphQLNamedType | undefined, seen = new Set<string>()) => {
      if (!type || seen.has(type.name)) return;
      seen.add(type.name);
      if (isInputObjectType(type)) {
        used.add(type.name);
        for (const field of Object.values(type.getFields())) {
          used.add(`${type.name}.${field.name}`);
          markInput(getNamedType(field.type), seen);
        }
      } else if (isEnumType(type)) {
        used.add(type.name);
        for (const value of type.getValues()) used.add(`${type.name}.${value.name}`);
      }
    };
    const visitor = visitWithTypeInfo(typeInfo, {
      Field() {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        if (parent && field && !field.name.startsWith('__')) used.add(`${parent.name}.${field.name}`);
      },
      Argument() {
        if (typeInfo.getDirective()) return; // @include(if:) and friends are not schema coordinates
        const argument = typeInfo.getArgument();
        const field = typeInfo.getFieldDef();
        const parent = typeInfo.getParentType();
        if (argument && field && parent) used.add(`${parent.name}.${field.name}.${argument.name}`);
        if (argument) markInput(getNamedType(argument.type));
      },
      VariableDefinition() {
        markInput(getNamedType(typeInfo.getInputType() ?? undefined));
      },
      InlineFragment(node) {
        if (node.typeCondition) used.add(node.typeCondition.name.value);
      },
      FragmentDefinition(node) {
        used.add(node.typeCondition.name.value);
      },
    });
    visit(documentOf(operation, set.fragments), visitor);
    for (const coordinate of used) {
      const refs = usage.get(coordinate) ?? [];
      refs.push(ref);
      usage.set(coordinate, refs);
    }
  }
  return usage;
}

/**
 * Operations a change breaks by touching what they use: the coordinate itself or anything under
 * it (a removed type takes its fields along), plus a new required argument or input field under a
 * field or input type they use. Additions are only under the used coordinate, never equal to it.
 */
export function usersOf(path: string | null, changeType: string, usage: Map<string, OperationRef[]>): OperationRef[] {
  if (!path) return [];
  const refs: OperationRef[] = [];
  for (const [coordinate, users] of usage) {
    const touched =
      coordinate === path ||
      coordinate.startsWith(`${path}.`) ||
      ((changeType === 'FIELD_ARGUMENT_ADDED' || changeType === 'INPUT_FIELD_ADDED') && path.startsWith(`${coordinate}.`));
    if (touched) refs.push(...users);
  }
  const unique = new Map(refs.map((r) => [`${r.file}\0${r.operation}`, r]));
  return [...unique.values()];
}

function documentOf(operation: ClientOperation, fragments: Map<string, FragmentDefinitionNode>): DocumentNode {
  return { kind: Kind.DOCUMENT, definitions: [operation.node, ...fragmentsUsedBy(operation.node, fragments)] };
}

function fragmentsUsedBy(root: ASTNode, fragments: Map<string, FragmentDefinitionNode>): FragmentDefinitionNode[] {
  const found = new Map<string, FragmentDefinitionNode>();
  const pending: ASTNode[] = [root];
  for (let node = pending.pop(); node; node = pending.pop()) {
    visit(node, {
      FragmentSpread(spread) {
        const fragment = fragments.get(spread.name.value);
        if (fragment && !found.has(fragment.name.value)) {
          found.set(fragment.name.value, fragment);
          pending.push(fragment);
        }
      },
    });
  }
  return [...found.values()];
}

const lineOf = (node: ASTNode) => node.loc?.startToken.line ?? null;
const fileOf = (node: ASTNode) => node.loc?.source.name ?? null;
