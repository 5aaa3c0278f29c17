import { GraphQLError, type GraphQLFormattedError } from 'graphql';

/**
 * The closed set of error codes clients can rely on. Anything else is a bug and reaches the
 * client only as INTERNAL_SERVER_ERROR with a generic message.
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** Too many requests or attempts; `extensions.retryAfterSeconds` says when to try again. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** Refused by the router's limits before planning (depth, aliases, nodes, …). */
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Codes Apollo Server itself emits for malformed requests; safe to show as they are. */
const APOLLO_REQUEST_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  // The router's planner patch: a query no subgraph can answer (see docs/planner-patches.md).
  'QUERY_PLANNING_FAILED',
]);
const PUBLIC_CODES: ReadonlySet<unknown> = new Set<string>([...Object.values(ErrorCode), ...APOLLO_REQUEST_CODES]);
/** The extension fields our errors carry on purpose; nothing else reaches a client. */
const PUBLIC_EXTENSIONS = new Set(['code', 'field', 'typename', 'id', 'retryAfterSeconds', 'limit', 'max', 'actual', 'variable', 'path', 'requestId']);

export function badUserInput(message: string, field: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, field } });
}

export function notFound(typename: string, id: string | number): GraphQLError {
  return new GraphQLError(`${typename} ${id} was not found`, {
    extensions: { code: ErrorCode.NOT_FOUND, typename, id: String(id) },
  });
}

export function conflict(message: string, field?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.CONFLICT, ...(field ? { field } : {}) } });
}

interface PrismaLikeError {
  code: string;
  /** `target` from Prisma's own engine; with a driver adapter (always, here) the fields are in the adapter's cause. */
  meta?: { target?: unknown; modelName?: unknown; driverAdapterError?: { cause?: { constraint?: { fields?: unknown } } } };
}

/** The code of a Prisma known-request error (P2002…); anything else has none we act on. */
function prismaCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

/**
 * Translates the Prisma errors a resolver can meet on valid input into public errors, in one
 * place, so no Prisma message ever reaches a client. Anything else is rethrown untouched and
 * masked by `formatError`.
 */
export function translateDatabaseError(error: unknown): never {
  if (error instanceof GraphQLError) throw error;
  const code = prismaCode(error);
  if (code === 'P2002') {
    const { meta } = error as PrismaLikeError;
    const target = meta?.target ?? meta?.driverAdapterError?.cause?.constraint?.fields;
    const field = Array.isArray(target) ? target.join(',') : typeof target === 'string' ? target : undefined;
    throw conflict(`A record with this ${field ?? 'value'} already exists`, field);
  }
  if (code === 'P2025') {
    throw new GraphQLError('The record was not found', { extensions: { code: ErrorCode.NOT_FOUND } });
  }
  throw error;
}

/** Runs a write and translates the database errors it may raise. */
export async function guardWrite<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    translateDatabaseError(error);
  }
}

/**
 * Allow-list error formatting: known codes pass with their message; everything else becomes a
 * generic INTERNAL_SERVER_ERROR (the original is logged by the caller, never sent).
 */
export function maskError(
  formatted: GraphQLFormattedError,
  onInternal?: (formatted: GraphQLFormattedError, original: unknown) => void,
  original?: unknown,
): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (PUBLIC_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
    // Keep the code and our own structured fields; drop everything else (stack traces, the
    // gateway's serviceName, anything a library adds), so nothing internal rides along.
    const extensions: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(formatted.extensions ?? {})) {
      if (PUBLIC_EXTENSIONS.has(key)) extensions[key] = value;
    }
    return { ...formatted, extensions };
  }
  onInternal?.(formatted, original);
  return {
    message: 'Internal server error',
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
  };
}
