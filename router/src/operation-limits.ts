// Operation limits, decided before Apollo Server parses, validates or plans an operation.
//
// Why before Apollo: Apollo validates with graphql-js's specifiedRules and any custom rules in one
// parallel visitor, so OverlappingFieldsCanBeMerged (quadratic in same-named fields) and then the
// gateway's query planner (about 0.6 ms per aliased root field here) run even when a custom rule
// has already rejected the document. This guard lexes, parses and walks the document once, caches
// per query text what does not depend on variables, and prices each request's variables in
// microseconds.
//
// Depth, aliases and directives are counted as the graphql-armor rules count them (the tests
// compare the two on the project's operations), but by this module's own walk: the armor rules
// (2.x) count a fragment spread as a depth level, ignore `__schema` but not `__type` for depth,
// subtract 1 for every spread met inside a fragment cycle, never look at fragments no operation
// uses (validation still visits them), and give their numbers only inside a message string.
import {
  Kind,
  Lexer,
  OperationTypeNode,
  Source,
  TokenKind,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  parse,
  type ArgumentNode,
  type ConstDirectiveNode,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLFieldMap,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

export interface OperationLimits {
  /** Lexical tokens in the document (comments excluded), graphql-js's `maxTokens`. */
  maxTokens: number;
  /** Fields nested in one another; fragments add no level, introspection below `__schema`/`__type` is not counted. */
  maxDepth: number;
  /** Aliased fields in one operation or fragment, each fragment counted once per spread. */
  maxAliases: number;
  /** Directives in one operation or fragment, each fragment counted once per spread. */
  maxDirectives: number;
  /** Fields at the root of the selected operation, through fragments. */
  maxRootFields: number;
  /** Root fields of a mutation: mutations run one after another, each its own subgraph write. */
  maxMutationRootFields: number;
  /** Rows the selected operation may return: every list priced by its `first` (or page size) × its list ancestors. */
  maxNodes: number;
  /**
   * Fields of the selected operation with every fragment spread expanded: what the query planner
   * walks. Fragments that spread one another twice double it at every step without adding depth,
   * aliases or nodes (a list with `first: 0` hides its subtree from the node count, not from the
   * planner): 12 such steps took the gateway 0.5 s to plan, 16 took 3.6 s.
   */
  maxFields: number;
}

/**
 * Defaults, against the project's own operations (router/operations, scripts/bench/operations):
 * the largest uses 2 root fields, 30 fields, depth 6, no aliases or directives, about 300 tokens,
 * and at most 1,000 nodes even with every `first` at the services' maximum of 100 (DeepRead: 100
 * products → 300 reviews → 600 orders); GraphiQL's introspection query is 163–184 tokens and
 * 220–230 fields. Each limit leaves several times that, and still stops the incidents: nested lists
 * past 10,000 rows, alias floods long before the planner's cost shows (30 aliased lookups plan in
 * about 20 ms; 3,000 took 2 s), fragment doubling past 500 fields (planned in under 30 ms).
 */
export const DEFAULT_OPERATION_LIMITS: OperationLimits = Object.freeze({
  maxTokens: 5000,
  maxDepth: 12,
  maxAliases: 30,
  maxDirectives: 50,
  maxRootFields: 20,
  maxMutationRootFields: 5,
  maxNodes: 10_000,
  maxFields: 500,
});

export type LimitName = 'tokens' | 'depth' | 'aliases' | 'directives' | 'rootFields' | 'mutationRootFields' | 'fields' | 'nodes' | 'variableValues';

/** What to answer instead of running the operation: a 400 with this error. */
export interface OperationRejection {
  message: string;
  extensions: { code: 'QUERY_TOO_COMPLEX' | 'BAD_USER_INPUT' } & Record<string, unknown>;
}

export interface OperationRequest {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
}

export type OperationGuard = (request: OperationRequest) => OperationRejection | null;

export interface OperationGuardOptions {
  /** The supergraph SDL: the only place the `@listSize` annotations survive. */
  supergraphSdl: string;
  /** The API schema the gateway serves, for the types of the fields an operation selects. */
  apiSchema: GraphQLSchema;
  limits: OperationLimits;
  /**
   * Length assumed for a list field the supergraph gives no `@listSize` (and for `@listSize`
   * without `assumedSize` when no slicing argument is passed). Default 100, the largest page any
   * service serves: an unannotated list is priced as if full, never as cheap.
   */
  defaultListSize?: number;
  /** Query texts whose analysis is kept (least recently used go first). Default 1000. */
  cacheEntries?: number;
  /** Total length of the cached query texts, in characters. Default 2,000,000. */
  cacheChars?: number;
  /** Values (strings, numbers, objects, …) walked in one request's variables, at most. Default 100,000. */
  maxVariableValues?: number;
}

/**
 * Returns a function that answers, for one request, a rejection or null (go ahead). Null also for
 * a document that does not parse for ordinary syntax reasons, or names an unknown operation:
 * Apollo Server reports those itself, in its own words.
 */
export function createOperationGuard(options: OperationGuardOptions): OperationGuard {
  const { apiSchema, limits } = options;
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`operation limit ${name} must be a positive integer, got ${String(value)}`);
  }
  const defaultListSize = options.defaultListSize ?? 100;
  const maxVariableValues = options.maxVariableValues ?? 100_000;
  const listSizes = readListSizes(options.supergraphSdl);
  // The parser and this module recurse once per nesting level: bound nesting before parsing.
  const maxNesting = Math.max(64, 4 * limits.maxDepth);
  const cache = createLru<Analysis>(options.cacheEntries ?? 1000, options.cacheChars ?? 2_000_000);

  return function guard(request) {
    const { query } = request;
    if (typeof query !== 'string') return null;
    let analysis = cache.get(query);
    if (analysis === undefined) {
      analysis = analyze(query, limits, maxNesting);
      // One operation, as clients send them: compile it now and keep no syntax tree in the cache.
      if (analysis.kind === 'parsed' && analysis.operations.length === 1) {
        const [only] = analysis.operations;
        if (only) only.plan = compileOperation(only.node, analysis.fragments, apiSchema, listSizes, defaultListSize);
        analysis = { ...analysis, operations: analysis.operations.map((entry) => ({ ...entry, node: EMPTY_OPERATION })), fragments: new Map() };
      }
      cache.set(query, analysis);
    }
    if (analysis.kind === 'rejected') return analysis.rejection;
    if (analysis.kind === 'unparsed') return null;

    const operation = selectOperation(analysis.operations, request.operationName);
    // The gateway answers these with a 500 of its own; they are the client's mistake.
    if (!operation && analysis.operations.length > 0) {
      const named = typeof request.operationName === 'string';
      return badText(
        named
          ? `The document has no operation named "${request.operationName!.slice(0, 100)}".`
          : 'The document has several operations: say which one to run with operationName.',
        {},
      );
    }
    if (operation?.type === OperationTypeNode.SUBSCRIPTION && !apiSchema.getSubscriptionType()) {
      return badText('This graph has no subscriptions.', {});
    }
    if (operation) {
      const rootFields = shown(operation.rootFields);
      if (rootFields > limits.maxRootFields) {
        return tooComplex('rootFields', limits.maxRootFields, rootFields, `Query selects too many root fields: ${rootFields}; the limit is ${limits.maxRootFields}.`);
      }
      if (operation.type === OperationTypeNode.MUTATION && rootFields > limits.maxMutationRootFields) {
        return tooComplex(
          'mutationRootFields',
          limits.maxMutationRootFields,
          rootFields,
          `Too many mutations in one request: ${rootFields}; the limit is ${limits.maxMutationRootFields}. Send them in separate requests.`,
        );
      }
      const fields = shown(operation.fields);
      if (fields > limits.maxFields) {
        return tooComplex('fields', limits.maxFields, fields, `Query is too large: it selects ${fields} fields once its fragments are expanded; the limit is ${limits.maxFields}.`);
      }
    }

    if (typeof request.operationName === 'string') {
      const problem = stringProblem(request.operationName);
      if (problem) return badText(`The operation name contains ${problem}.`, {});
    }
    const variables = isRecord(request.variables) ? request.variables : null;
    if (variables) {
      const rejection = checkVariableStrings(variables, maxVariableValues);
      if (rejection) return rejection;
    }

    if (operation) {
      operation.plan ??= compileOperation(operation.node, analysis.fragments, apiSchema, listSizes, defaultListSize);
      const priced = priceOperation(operation.plan, variables);
      if (priced.missingSlice) return priced.missingSlice;
      // NaN (0 × an overflowing subtree) must not pass.
      if (!(priced.nodes <= limits.maxNodes)) {
        const actual = shown(priced.nodes);
        const names = [...operation.plan.slicingArguments].map((name) => `"${name}"`).join(' or ');
        const advice = names ? `Lower the ${names} arguments.` : 'Select fewer nested lists.';
        return tooComplex('nodes', limits.maxNodes, actual, `Query is too complex: it may return ${actual} nodes; the limit is ${limits.maxNodes}. ${advice}`);
      }
    }
    return null;
  };
}

// ---------------------------------------------------------------------------------------------
// Per query text: lex, parse, count (cached)

type Analysis =
  | { kind: 'rejected'; rejection: OperationRejection }
  | { kind: 'unparsed' }
  | { kind: 'parsed'; operations: OperationEntry[]; fragments: ReadonlyMap<string, FragmentDefinitionNode> };

interface OperationEntry {
  name: string | null;
  type: OperationTypeNode;
  rootFields: number;
  /** Fields at every level, each fragment counted once per spread. */
  fields: number;
  /** Kept until the plan is compiled: at once for a lone operation, else on first selection. */
  node: OperationDefinitionNode;
  plan: OperationPlan | null;
}

const EMPTY_OPERATION: OperationDefinitionNode = {
  kind: Kind.OPERATION_DEFINITION,
  operation: OperationTypeNode.QUERY,
  selectionSet: { kind: Kind.SELECTION_SET, selections: [] },
};

function analyze(query: string, limits: OperationLimits, maxNesting: number): Analysis {
  // Count tokens and nesting first: graphql-js's recursive parser overflows the stack at about
  // 2,000 nested braces, well inside 5,000 tokens, and its maxTokens message is no stable API.
  const lexer = new Lexer(new Source(query));
  let tokens = 0;
  let nesting = 0;
  let deepest = 0;
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (++tokens > limits.maxTokens) {
        return rejected(
          tooComplex('tokens', limits.maxTokens, null, `Query is too large: it has more than ${limits.maxTokens} tokens; the limit is ${limits.maxTokens}.`),
        );
      }
      if (token.kind === TokenKind.BRACE_L || token.kind === TokenKind.BRACKET_L) deepest = Math.max(deepest, ++nesting);
      else if (token.kind === TokenKind.BRACE_R || token.kind === TokenKind.BRACKET_R) nesting--;
    }
  } catch {
    return { kind: 'unparsed' };
  }
  if (deepest > maxNesting) {
    return rejected(tooComplex('depth', limits.maxDepth, deepest, `Query is too deep: it nests ${deepest} levels; the limit is ${limits.maxDepth}.`));
  }

  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: limits.maxTokens, noLocation: true });
  } catch {
    return { kind: 'unparsed' };
  }

  const counted = countDocument(document, maxNesting);
  if (counted.tooNested) {
    const actual = maxNesting + 1;
    return rejected(tooComplex('depth', limits.maxDepth, actual, `Query is too deep: it nests ${actual} levels or more; the limit is ${limits.maxDepth}.`));
  }
  if (counted.depth > limits.maxDepth) {
    return rejected(tooComplex('depth', limits.maxDepth, counted.depth, `Query is too deep: it nests ${counted.depth} fields deep; the limit is ${limits.maxDepth}.`));
  }
  const aliases = shown(counted.aliases);
  if (aliases > limits.maxAliases) {
    return rejected(tooComplex('aliases', limits.maxAliases, aliases, `Query has too many aliases: ${aliases}; the limit is ${limits.maxAliases}.`));
  }
  const directives = shown(counted.directives);
  if (directives > limits.maxDirectives) {
    return rejected(tooComplex('directives', limits.maxDirectives, directives, `Query has too many directives: ${directives}; the limit is ${limits.maxDirectives}.`));
  }
  if (counted.badLiteral) return rejected(badText(`A string literal in the query contains ${counted.badLiteral}.`, {}));
  return { kind: 'parsed', operations: counted.operations, fragments: counted.fragments };
}

/**
 * Depth, aliases and directives as the guard counts them: the largest over the document's
 * operations and fragment definitions (for tests and diagnostics).
 */
export function measureDocument(document: DocumentNode): { depth: number; aliases: number; directives: number } {
  const { depth, aliases, directives } = countDocument(document, Number.POSITIVE_INFINITY);
  return { depth, aliases, directives };
}

const rejected = (rejection: OperationRejection): Analysis => ({ kind: 'rejected', rejection });

interface Tally {
  depth: number;
  aliases: number;
  directives: number;
  /** Fields at the top level of the selection set, through fragments. */
  rootFields: number;
  /** Fields at every level, through fragments. */
  fields: number;
  /** Selection sets and spreads nested in one another, through fragments: how deep any walk of it recurses. */
  height: number;
}

const NO_TALLY: Tally = Object.freeze({ depth: 0, aliases: 0, directives: 0, rootFields: 0, fields: 0, height: 0 });

/** Fields whose subtree is the schema's own description, answered by the router without any subgraph. */
const INTROSPECTION_FIELDS = new Set(['__schema', '__type']);

/**
 * Depth of every operation; aliases and directives of every operation and every fragment
 * definition (validation visits unused fragments too), the largest of each; root fields per operation; the first
 * malformed string literal. A fragment is walked once and counted once per spread; a spread inside
 * a fragment cycle counts 0 (NoFragmentCycles rejects the document in Apollo's validation).
 */
function countDocument(document: DocumentNode, maxNesting: number) {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION && !fragments.has(definition.name.value)) fragments.set(definition.name.value, definition);
  }
  const fragmentTallies = new Map<string, Tally | 'counting'>();
  let badLiteral: string | null = null;
  let tooNested = false;

  const checkValue = (value: ValueNode): void => {
    if (badLiteral !== null) return;
    if (value.kind === Kind.STRING) badLiteral = stringProblem(value.value);
    else if (value.kind === Kind.LIST) value.values.forEach(checkValue);
    else if (value.kind === Kind.OBJECT) value.fields.forEach((field) => checkValue(field.value));
  };
  const checkArguments = (args: readonly ArgumentNode[] | undefined): void => args?.forEach((arg) => checkValue(arg.value));
  const countDirectives = (directives: readonly (DirectiveNode | ConstDirectiveNode)[] | undefined): number => {
    directives?.forEach((directive) => checkArguments(directive.arguments));
    return directives?.length ?? 0;
  };

  const countFragment = (name: string, level: number): Tally => {
    const known = fragmentTallies.get(name);
    if (known === 'counting') return NO_TALLY;
    if (known) return known;
    const fragment = fragments.get(name);
    if (!fragment) return NO_TALLY;
    fragmentTallies.set(name, 'counting');
    const inner = countSet(fragment.selectionSet, level);
    const tally = { ...inner, directives: inner.directives + countDirectives(fragment.directives) };
    fragmentTallies.set(name, tally);
    return tally;
  };

  const countSet = (set: SelectionSetNode, level: number): Tally => {
    if (level > maxNesting) {
      tooNested = true;
      return NO_TALLY;
    }
    let depth = 0;
    let aliases = 0;
    let directives = 0;
    let rootFields = 0;
    let fields = 0;
    let height = 0;
    for (const selection of set.selections) {
      directives += countDirectives(selection.directives);
      if (selection.kind === Kind.FIELD) {
        rootFields++;
        fields++;
        if (selection.alias) aliases++;
        checkArguments(selection.arguments);
        let below = 0;
        if (selection.selectionSet) {
          const inner = countSet(selection.selectionSet, level + 1);
          aliases += inner.aliases;
          directives += inner.directives;
          fields += inner.fields;
          height = Math.max(height, 1 + inner.height);
          below = INTROSPECTION_FIELDS.has(selection.name.value) ? 0 : inner.depth;
        }
        depth = Math.max(depth, 1 + below);
      } else {
        const inner = selection.kind === Kind.INLINE_FRAGMENT ? countSet(selection.selectionSet, level + 1) : countFragment(selection.name.value, level + 1);
        depth = Math.max(depth, inner.depth);
        aliases += inner.aliases;
        directives += inner.directives;
        rootFields += inner.rootFields;
        fields += inner.fields;
        height = Math.max(height, 1 + inner.height);
      }
    }
    return { depth, aliases, directives, rootFields, fields, height };
  };

  const operations: OperationEntry[] = [];
  let depth = 0;
  let aliases = 0;
  let directives = 0;
  for (const definition of document.definitions) {
    let tally: Tally;
    if (definition.kind === Kind.OPERATION_DEFINITION) {
      const inner = countSet(definition.selectionSet, 1);
      let ownDirectives = countDirectives(definition.directives);
      for (const variable of definition.variableDefinitions ?? []) {
        ownDirectives += countDirectives(variable.directives);
        if (variable.defaultValue) checkValue(variable.defaultValue);
      }
      tally = { ...inner, directives: inner.directives + ownDirectives };
      operations.push({ name: definition.name?.value ?? null, type: definition.operation, rootFields: inner.rootFields, fields: inner.fields, node: definition, plan: null });
    } else if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      // A second fragment of the same name is invalid, but validation still walks it.
      tally = fragments.get(definition.name.value) === definition ? countFragment(definition.name.value, 1) : countSet(definition.selectionSet, 1);
    } else {
      continue;
    }
    // Depth is about what runs: a fragment counts where an operation spreads it, not on its own
    // (GraphiQL's introspection fragments are deep, and answered below an ignored `__schema`).
    if (definition.kind === Kind.OPERATION_DEFINITION) depth = Math.max(depth, tally.depth);
    // The walk above stops at maxNesting, but a fragment already counted is not walked again:
    // its height says how deep compiling and pricing the operation will recurse.
    if (tally.height >= maxNesting) tooNested = true;
    aliases = Math.max(aliases, tally.aliases);
    directives = Math.max(directives, tally.directives);
  }
  return { operations, fragments, depth, aliases, directives, tooNested, badLiteral: badLiteral as string | null };
}

/** The operation that will run, as graphql-js picks it; null when none can be (Apollo reports why). */
function selectOperation(operations: readonly OperationEntry[], operationName: string | null | undefined): OperationEntry | null {
  if (operationName == null) return operations.length === 1 ? (operations[0] ?? null) : null;
  return operations.find((operation) => operation.name === operationName) ?? null;
}

// ---------------------------------------------------------------------------------------------
// Node count: compiled once per operation, priced per request

interface ListSize {
  assumedSize: number | null;
  slicingArguments: readonly string[];
  sizedFields: readonly string[];
  requireOneSlicingArgument: boolean;
}

/** A slicing argument as written: a literal, or a variable with the operation's default for it. */
type SliceArgument = number | { variable: string; fallback: number | null };

interface SliceSize {
  /** The field as the client wrote it (alias or name), for the error message. */
  field: string;
  assumed: number;
  arguments: readonly SliceArgument[];
  argumentNames: readonly string[];
  requireOne: boolean;
}

/** A list's length: known when the document is compiled, or from the request's variables. */
type Size = number | SliceSize;

/**
 * Nodes below one selection set, for one parent row: `constant` holds everything known at compile
 * time; lists sized by variables and nested sets that contain them are priced per request.
 */
interface Scope {
  constant: number;
  lists: { size: Size; children: Scope }[];
  scopes: Scope[];
}

interface OperationPlan {
  root: Scope;
  slicingArguments: ReadonlySet<string>;
}

/** Under a connection field with `sizedFields`: which of its fields are the list, and their size. */
interface Sized {
  fields: readonly string[];
  size: Size;
}

const isConstant = (scope: Scope): boolean => scope.lists.length === 0 && scope.scopes.length === 0;

function compileOperation(
  operation: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  schema: GraphQLSchema,
  listSizes: ReadonlyMap<string, ReadonlyMap<string, ListSize>>,
  defaultListSize: number,
): OperationPlan {
  const defaults = new Map<string, number | null>();
  for (const variable of operation.variableDefinitions ?? []) {
    const value = variable.defaultValue;
    defaults.set(variable.variable.name.value, value?.kind === Kind.INT ? Number(value.value) : null);
  }
  const slicingArguments = new Set<string>();
  const unsized = {};
  // Per sizing context, per fragment name; a fragment met again while compiling itself counts 0.
  const compiledFragments = new Map<object, Map<string, Scope>>();

  const add = (scope: Scope, child: Scope): void => {
    if (isConstant(child)) scope.constant += child.constant;
    else scope.scopes.push(child);
  };
  const addList = (scope: Scope, size: Size, children: Scope): void => {
    if (typeof size === 'number' && isConstant(children)) scope.constant += size * (1 + children.constant);
    else scope.lists.push({ size, children });
  };

  const sizeOf = (spec: ListSize, field: FieldNode): Size => {
    const assumed = spec.assumedSize ?? defaultListSize;
    if (spec.slicingArguments.length === 0) return assumed;
    const values: SliceArgument[] = [];
    for (const name of spec.slicingArguments) {
      slicingArguments.add(name);
      const value = field.arguments?.find((arg) => arg.name.value === name)?.value;
      if (value?.kind === Kind.INT) values.push(Number(value.value));
      else if (value?.kind === Kind.VARIABLE) values.push({ variable: value.name.value, fallback: defaults.get(value.name.value) ?? null });
    }
    if (!spec.requireOneSlicingArgument && values.every((value) => typeof value === 'number')) {
      return values.length > 0 ? Math.max(0, ...values) : assumed;
    }
    return { field: field.alias?.value ?? field.name.value, assumed, arguments: values, argumentNames: spec.slicingArguments, requireOne: spec.requireOneSlicingArgument };
  };

  const compileFragment = (name: string, sized: Sized | null): Scope => {
    const key = sized ?? unsized;
    let compiled = compiledFragments.get(key);
    if (!compiled) compiledFragments.set(key, (compiled = new Map()));
    const known = compiled.get(name);
    if (known) return known;
    const placeholder: Scope = { constant: 0, lists: [], scopes: [] };
    compiled.set(name, placeholder);
    const fragment = fragments.get(name);
    const type = fragment ? schema.getType(fragment.typeCondition.name.value) : undefined;
    const scope = fragment && isCompositeType(type) ? compileSet(fragment.selectionSet, type, sized) : placeholder;
    compiled.set(name, scope);
    return scope;
  };

  const compileSet = (set: SelectionSetNode, type: GraphQLCompositeType, sized: Sized | null): Scope => {
    const scope: Scope = { constant: 0, lists: [], scopes: [] };
    const fields: GraphQLFieldMap<unknown, unknown> = 'getFields' in type ? type.getFields() : {};
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        // __typename is a leaf; __schema and __type are answered by the router itself.
        if (name.startsWith('__')) continue;
        const definition = fields[name];
        if (!definition) continue; // invalid: validation will say so
        const spec = listSizes.get(type.name)?.get(name);
        const isList = isListType(getNullableType(definition.type));
        let size: Size | null = null;
        let childSized: Sized | null = null;
        if (sized?.fields.includes(name)) {
          size = sized.size;
        } else if (spec) {
          const specSize = sizeOf(spec, selection);
          if (spec.sizedFields.length > 0) childSized = { fields: spec.sizedFields, size: specSize };
          else if (isList) size = specSize;
        } else if (isList) {
          size = defaultListSize;
        }
        const childType = getNamedType(definition.type);
        const children = selection.selectionSet && isCompositeType(childType) ? compileSet(selection.selectionSet, childType, childSized) : EMPTY_SCOPE;
        if (size === null) add(scope, children);
        else addList(scope, size, children);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
        if (isCompositeType(condition)) add(scope, compileSet(selection.selectionSet, condition, sized));
      } else {
        add(scope, compileFragment(selection.name.value, sized));
      }
    }
    return scope;
  };

  const rootType = schema.getRootType(operation.operation);
  const root = rootType ? compileSet(operation.selectionSet, rootType, null) : EMPTY_SCOPE;
  return { root, slicingArguments };
}

const EMPTY_SCOPE: Scope = Object.freeze({ constant: 0, lists: [], scopes: [] }) as Scope;

function priceOperation(plan: OperationPlan, variables: Record<string, unknown> | null): { nodes: number; missingSlice: OperationRejection | null } {
  if (isConstant(plan.root)) return { nodes: plan.root.constant, missingSlice: null };
  let missingSlice: OperationRejection | null = null;
  // A fragment spread many times is one shared Scope: price it once.
  const priced = new Map<Scope, number>();

  const sizeOf = (size: Size): number => {
    if (typeof size === 'number') return size;
    let given = 0;
    let largest = 0;
    for (const argument of size.arguments) {
      const value = typeof argument === 'number' ? argument : variables && Object.hasOwn(variables, argument.variable) ? variables[argument.variable] : argument.fallback;
      // Anything but a number (null, or a wrong type Apollo will reject) is no slicing argument.
      if (typeof value === 'number' && Number.isFinite(value)) {
        given++;
        largest = Math.max(largest, value);
      }
    }
    if (size.requireOne && given !== 1) {
      missingSlice ??= badText(
        `The "${size.field}" field needs exactly one of its ${size.argumentNames.map((name) => `"${name}"`).join(', ')} arguments.`,
        { field: size.field },
      );
    }
    return given > 0 ? largest : size.assumed;
  };

  const price = (scope: Scope): number => {
    if (isConstant(scope)) return scope.constant;
    const known = priced.get(scope);
    if (known !== undefined) return known;
    let nodes = scope.constant;
    for (const list of scope.lists) nodes += sizeOf(list.size) * (1 + price(list.children));
    for (const inner of scope.scopes) nodes += price(inner);
    priced.set(scope, nodes);
    return nodes;
  };

  const nodes = price(plan.root);
  return { nodes, missingSlice };
}

/**
 * `@listSize` of every field, by type and field name, read from the supergraph SDL (the API
 * schema the gateway builds drops it). The directive's name follows the cost spec's `@link`.
 */
export function readListSizes(supergraphSdl: string): Map<string, Map<string, ListSize>> {
  const document = parse(supergraphSdl, { noLocation: true });
  const directiveName = listSizeDirectiveName(document);
  const sizes = new Map<string, Map<string, ListSize>>();
  for (const definition of document.definitions) {
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.OBJECT_TYPE_EXTENSION &&
      definition.kind !== Kind.INTERFACE_TYPE_DEFINITION &&
      definition.kind !== Kind.INTERFACE_TYPE_EXTENSION
    ) {
      continue;
    }
    for (const field of definition.fields ?? []) {
      const directive = field.directives?.find((d) => d.name.value === directiveName);
      if (!directive) continue;
      const arg = (name: string) => directive.arguments?.find((a) => a.name.value === name)?.value;
      const assumed = arg('assumedSize');
      const requireOne = arg('requireOneSlicingArgument');
      let byField = sizes.get(definition.name.value);
      if (!byField) sizes.set(definition.name.value, (byField = new Map()));
      byField.set(field.name.value, {
        assumedSize: assumed?.kind === Kind.INT ? Number(assumed.value) : null,
        // Dotted paths into input objects ("input.first") are not followed: such a field is priced at its assumed size.
        slicingArguments: stringList(arg('slicingArguments')).filter((name) => !name.includes('.')),
        sizedFields: stringList(arg('sizedFields')),
        // The cost spec's default is true.
        requireOneSlicingArgument: requireOne?.kind === Kind.BOOLEAN ? requireOne.value : true,
      });
    }
  }
  return sizes;
}

function listSizeDirectiveName(document: DocumentNode): string {
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION && definition.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of definition.directives ?? []) {
      if (link.name.value !== 'link') continue;
      const url = link.arguments?.find((a) => a.name.value === 'url')?.value;
      if (url?.kind !== Kind.STRING || !url.value.startsWith('https://specs.apollo.dev/cost/')) continue;
      const imports = link.arguments?.find((a) => a.name.value === 'import')?.value;
      for (const entry of imports?.kind === Kind.LIST ? imports.values : []) {
        if (entry.kind === Kind.STRING && entry.value === '@listSize') return 'listSize';
        if (entry.kind === Kind.OBJECT) {
          const name = entry.fields.find((f) => f.name.value === 'name')?.value;
          const as = entry.fields.find((f) => f.name.value === 'as')?.value;
          if (name?.kind === Kind.STRING && name.value === '@listSize') return as?.kind === Kind.STRING ? as.value.replace(/^@/, '') : 'listSize';
        }
      }
      const as = link.arguments?.find((a) => a.name.value === 'as')?.value;
      return `${as?.kind === Kind.STRING ? as.value : 'cost'}__listSize`;
    }
  }
  return 'listSize';
}

function stringList(value: ValueNode | undefined): string[] {
  if (value?.kind === Kind.STRING) return [value.value];
  if (value?.kind !== Kind.LIST) return [];
  return value.values.flatMap((item) => (item.kind === Kind.STRING ? [item.value] : []));
}

// ---------------------------------------------------------------------------------------------
// Strings: well-formed Unicode, no NUL

/** What is wrong with a string, in words for a client; null when nothing is. */
function stringProblem(value: string): string | null {
  if (value.includes('\0')) return 'a NUL character (U+0000)';
  if (!value.isWellFormed()) return 'a lone surrogate (malformed UTF-16)';
  return null;
}

/**
 * Every string and object key in the variables, walked without recursion (the JSON may nest as
 * deeply as the body allows) and with a budget of values.
 */
function checkVariableStrings(variables: Record<string, unknown>, maxValues: number): OperationRejection | null {
  let budget = maxValues;
  const reject = (variable: string, fullPath: string, problem: string) => {
    // The path comes from the client's JSON, which may nest thousands of levels: say where it starts.
    const path = fullPath.length > 200 ? `${fullPath.slice(0, 200)}…` : fullPath;
    return badText(`Variable "$${variable}" contains ${problem}${path === variable ? '' : ` at ${path}`}.`, { variable, path });
  };
  const tooMany = () => tooComplex('variableValues', maxValues, null, `Variables are too large: more than ${maxValues} values; the limit is ${maxValues}.`);
  for (const [variable, value] of Object.entries(variables)) {
    const nameProblem = stringProblem(variable);
    if (nameProblem) return badText(`A variable name contains ${nameProblem}.`, {});
    if (--budget < 0) return tooMany();
    if (typeof value === 'string') {
      const problem = stringProblem(value);
      if (problem) return reject(variable, variable, problem);
      continue;
    }
    // Only containers are stacked (with their path); strings are checked where they are met.
    const stack: { container: unknown; path: string }[] = [{ container: value, path: variable }];
    for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
      const { container, path } = item;
      // A child's path is built only when it is reported or stacked, never for numbers.
      const visit = (child: unknown, childPath: () => string): OperationRejection | null => {
        if (typeof child === 'string') {
          const problem = stringProblem(child);
          return problem ? reject(variable, childPath(), problem) : null;
        }
        if (typeof child === 'object' && child !== null) stack.push({ container: child, path: childPath() });
        return null;
      };
      if (Array.isArray(container)) {
        budget -= container.length;
        if (budget < 0) return tooMany();
        for (let index = 0; index < container.length; index++) {
          const rejection = visit(container[index], () => `${path}[${index}]`);
          if (rejection) return rejection;
        }
      } else if (isRecord(container)) {
        const keys = Object.keys(container);
        budget -= keys.length;
        if (budget < 0) return tooMany();
        for (const key of keys) {
          const problem = stringProblem(key);
          if (problem) return reject(variable, path, `${problem} in a field name`);
          const rejection = visit(container[key], () => `${path}.${key}`);
          if (rejection) return rejection;
        }
      }
    }
  }
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Rejections and the cache

/** A count as a client sees it: fragments that spread one another can make it astronomical. */
function shown(count: number): number {
  return Number.isNaN(count) ? Number.MAX_SAFE_INTEGER : Math.min(Math.ceil(count), Number.MAX_SAFE_INTEGER);
}

function tooComplex(limit: LimitName, max: number, actual: number | null, message: string): OperationRejection {
  return { message, extensions: { code: 'QUERY_TOO_COMPLEX', limit, max, ...(actual === null ? {} : { actual }) } };
}

function badText(message: string, details: Record<string, unknown>): OperationRejection {
  return { message, extensions: { code: 'BAD_USER_INPUT', ...details } };
}

/** A least-recently-used map bounded by entries and by the total length of its keys. */
function createLru<V>(maxEntries: number, maxChars: number) {
  const entries = new Map<string, V>();
  let chars = 0;
  return {
    get(key: string): V | undefined {
      const value = entries.get(key);
      if (value !== undefined) {
        entries.delete(key);
        entries.set(key, value);
      }
      return value;
    },
    set(key: string, value: V): void {
      // One huge text must not flush everything else.
      if (key.length > maxChars / 16) return;
      entries.set(key, value);
      chars += key.length;
      for (const oldest of entries.keys()) {
        if (entries.size <= maxEntries && chars <= maxChars) break;
        entries.delete(oldest);
        chars -= oldest.length;
      }
    },
  };
}
