import type { ApolloServerOptionsWithGateway, BaseContext } from '@apollo/server';
import { BREAK, execute, GraphQLError, visit, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';

/** Apollo Server's documented way to hand execution to something else (what `@apollo/gateway` plugs in). */
export type ExecutionGateway = ApolloServerOptionsWithGateway<BaseContext>['gateway'];

/** By default a document is compiled the second time it is executed: one seen once (an ad-hoc query) never pays for compiling. */
export const COMPILE_AFTER_EXECUTIONS = 1;

/** How many operations ran each way, for a caller that wants to know (tests; metrics). */
export interface ExecutionCounts {
  compiled: number;
  interpreted: number;
}

interface Entry {
  executions: number;
  /** Undefined until compiled; null when graphql-jit could not compile it (never tried again). */
  compiled?: CompiledQuery | null;
}

/**
 * Executes operations with graphql-jit: each operation is compiled once into a function that
 * resolves its fields without graphql-js's per-field interpretation, which cut a subgraph's
 * `_entities` fetch by about a third of its execution CPU (Design notes, "Compiled execution").
 * Parsing, validation, the context, error formatting and masking stay Apollo Server's: this only
 * replaces `execute`, through the `gateway` option Apollo Server offers for exactly that.
 *
 * What stays graphql-js's, so that answers are the same to the byte:
 * - variables the compiled query refuses: graphql-js runs the operation instead (it refuses them
 *   too, before any resolver runs) and its errors, with their `BAD_USER_INPUT` shape, are returned;
 * - mutations (graphql-jit runs the fields after a failed non-null one; graphql-js stops);
 * - a document with `@skip` or `@include`: graphql-jit orders the fields of a selection as if
 *   every condition held, graphql-js leaves out those of a skipped fragment when it orders them;
 * - a document graphql-jit cannot compile, and one executed only once so far.
 * Errors of the compiled query become graphql-js `GraphQLError`s with the same message, path,
 * locations, extensions and original error, which Apollo's formatting and the kit's masking expect.
 */
export function compiledExecution(
  schema: GraphQLSchema,
  { compileAfter = COMPILE_AFTER_EXECUTIONS, counts }: { compileAfter?: number; counts?: ExecutionCounts } = {},
): ExecutionGateway {
  // Keyed by the document Apollo's document store hands out for a query text, so an entry lives
  // as long as the parsed document does, and the store's bound is this cache's bound.
  const cache = new WeakMap<DocumentNode, Map<string, Entry>>();

  const compiledFor = (document: DocumentNode, operationName: string | null): CompiledQuery | null => {
    let byOperation = cache.get(document);
    if (!byOperation) cache.set(document, (byOperation = new Map()));
    const key = operationName ?? '';
    let entry = byOperation.get(key);
    if (!entry) byOperation.set(key, (entry = { executions: 0 }));
    if (entry.compiled === undefined && entry.executions++ >= compileAfter) {
      const result = hasConditions(document) ? null : compileQuery(schema, document, operationName ?? undefined, { disablingCapturingStackErrors: true });
      entry.compiled = result && isCompiledQuery(result) ? result : null;
    }
    return entry.compiled ?? null;
  };

  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => {};
    },
    async load() {
      return {
        executor: async (request) => {
          const { document, operationName, context } = request;
          const variables = request.request.variables ?? {};
          const interpreted = () => {
            if (counts) counts.interpreted++;
            return execute({ schema, document, operationName, variableValues: variables, contextValue: context }) as Promise<ExecutionResult>;
          };
          // Mutations stay interpreted: after a non-null mutation field fails, graphql-jit still runs
          // the mutation fields after it, where graphql-js stops (a write the caller never got).
          const compiled = request.operation.operation === 'query' ? compiledFor(document, operationName) : null;
          if (!compiled) return interpreted();
          const result = await compiled.query(undefined, context, variables);
          // No data at all: the variables were refused, and nothing ran.
          if (!('data' in result)) return interpreted();
          if (counts) counts.compiled++;
          return result.errors ? { ...result, errors: result.errors.map((error) => asGraphQLError(error, document)) } : result;
        },
      };
    },
    async stop() {},
  };
}

/** Whether a document has a field or fragment under `@skip` or `@include`. */
function hasConditions(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Directive(node) {
      if (node.name.value !== 'skip' && node.name.value !== 'include') return undefined;
      found = true;
      return BREAK;
    },
  });
  return found;
}

/** graphql-jit's errors are its own class: rebuilt as graphql-js's, at the same places in the document. */
function asGraphQLError(error: GraphQLError, document: DocumentNode): GraphQLError {
  const source = document.loc?.source;
  const positions = source && error.locations ? error.locations.map(({ line, column }) => offsetOf(source.body, line, column)) : undefined;
  return new GraphQLError(error.message, {
    ...(source && positions ? { source, positions } : {}),
    ...(error.path ? { path: error.path } : {}),
    ...(error.originalError ? { originalError: error.originalError } : {}),
    ...(error.extensions && Object.keys(error.extensions).length > 0 ? { extensions: error.extensions } : {}),
  });
}

/** The character offset of a 1-based line and column in a document's text (lines end as graphql-js ends them). */
function offsetOf(body: string, line: number, column: number): number {
  const lineEnd = /\r\n|[\n\r]/g;
  let offset = 0;
  for (let current = 1; current < line && lineEnd.exec(body); current++) offset = lineEnd.lastIndex;
  return offset + column - 1;
}
