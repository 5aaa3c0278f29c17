// The error vocabulary, the one place Prisma errors are translated, and the allow-list that
// decides what a client may see: every code and every extension that passes, and everything that
// does not.
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { describe, expect, it, vi } from 'vitest';
import { badUserInput, conflict, ErrorCode, maskError, notFound } from '../src/errors.ts';
import { guardWrite, translateDatabaseError } from '../src/index.ts';

/** What `run` throws (it must throw). */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

const prisma = (code: string, meta?: Record<string, unknown>) => Object.assign(new Error(`Invalid \`prisma.user.create()\` invocation: ${code}`), { code, ...(meta ? { meta } : {}) });

describe('the error vocabulary', () => {
  it('is a closed set of codes', () => {
    expect(ErrorCode).toEqual({
      BAD_USER_INPUT: 'BAD_USER_INPUT',
      NOT_FOUND: 'NOT_FOUND',
      CONFLICT: 'CONFLICT',
      UNAUTHENTICATED: 'UNAUTHENTICATED',
      FORBIDDEN: 'FORBIDDEN',
      SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
      RATE_LIMITED: 'RATE_LIMITED',
      QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
      INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
    });
  });

  it('builds BAD_USER_INPUT naming the field, NOT_FOUND naming the entity, CONFLICT with or without a field', () => {
    const input = badUserInput('rating must be from 1 to 5', 'input.rating');
    expect([input.message, input.extensions]).toEqual(['rating must be from 1 to 5', { code: 'BAD_USER_INPUT', field: 'input.rating' }]);
    const missing = notFound('Product', 42);
    expect([missing.message, missing.extensions]).toEqual(['Product 42 was not found', { code: 'NOT_FOUND', typename: 'Product', id: '42' }]);
    expect(notFound('User', '7').extensions.id).toBe('7');
    const taken = conflict('Taken', 'input.sku');
    expect([taken.message, taken.extensions]).toEqual(['Taken', { code: 'CONFLICT', field: 'input.sku' }]);
    expect(conflict('Taken').extensions).toEqual({ code: 'CONFLICT' });
    expect(conflict('Taken', '').extensions).toEqual({ code: 'CONFLICT' });
  });
});

describe('translateDatabaseError', () => {
  it('turns a unique violation into CONFLICT naming the fields, from Prisma’s target (list or string)', () => {
    const list = thrown(() => translateDatabaseError(prisma('P2002', { target: ['user_id', 'idempotency_key'] }))) as GraphQLError;
    expect([list.message, list.extensions]).toEqual(['A record with this user_id,idempotency_key already exists', { code: 'CONFLICT', field: 'user_id,idempotency_key' }]);
    const text = thrown(() => translateDatabaseError(prisma('P2002', { target: 'users_email_key' }))) as GraphQLError;
    expect([text.message, text.extensions]).toEqual(['A record with this users_email_key already exists', { code: 'CONFLICT', field: 'users_email_key' }]);
  });

  it("reads the fields from a driver adapter's cause when Prisma gives no target", () => {
    const error = thrown(() =>
      translateDatabaseError(prisma('P2002', { modelName: 'User', driverAdapterError: { cause: { kind: 'UniqueConstraintViolation', constraint: { fields: ['email'] } } } })),
    ) as GraphQLError;
    expect([error.message, error.extensions]).toEqual(['A record with this email already exists', { code: 'CONFLICT', field: 'email' }]);
  });

  it.each([
    ['no meta', undefined],
    ['a meta without target or cause', { modelName: 'User' }],
    ['a cause without a constraint', { driverAdapterError: { cause: { kind: 'UniqueConstraintViolation' } } }],
    ['an adapter error without a cause', { driverAdapterError: {} }],
    ['a target of another shape', { target: 42 }],
  ])('says "value" when the fields are unknown (%s)', (_what, meta) => {
    const error = thrown(() => translateDatabaseError(prisma('P2002', meta))) as GraphQLError;
    expect([error.message, error.extensions]).toEqual(['A record with this value already exists', { code: 'CONFLICT' }]);
  });

  it('turns a missing record into NOT_FOUND without Prisma’s message', () => {
    const error = thrown(() => translateDatabaseError(prisma('P2025', { modelName: 'User', cause: 'Record to update not found.' }))) as GraphQLError;
    expect(error).toBeInstanceOf(GraphQLError);
    expect([error.message, error.extensions]).toEqual(['The record was not found', { code: 'NOT_FOUND' }]);
  });

  it.each([
    ['another Prisma code', prisma('P2003', { field_name: 'order_id' })],
    ['a code that only resembles one', Object.assign(new Error('x'), { code: 'XP2002' })],
    ['a code with more digits', Object.assign(new Error('x'), { code: 'P20025' })],
    ['a numeric code', Object.assign(new Error('x'), { code: 2002 })],
    ['an error without a code', new Error('connect ECONNREFUSED')],
    ['a string', 'P2002'],
    ['null', null],
    ['undefined', undefined],
    ['a function carrying a Prisma code', Object.assign(() => {}, { code: 'P2002' })],
  ])('rethrows anything else untouched (%s)', (_what, error) => {
    expect(thrown(() => translateDatabaseError(error))).toBe(error);
  });

  it('rethrows a GraphQLError as it is, whatever it carries', () => {
    const own = Object.assign(new GraphQLError('Already ours', { extensions: { code: 'BAD_USER_INPUT', field: 'x' } }), { code: 'P2025' });
    expect(thrown(() => translateDatabaseError(own))).toBe(own);
  });
});

describe('guardWrite', () => {
  it('returns what the write returns', async () => {
    await expect(guardWrite(async () => ({ id: 1 }))).resolves.toEqual({ id: 1 });
  });

  it('translates what the write throws', async () => {
    await expect(guardWrite(async () => Promise.reject(prisma('P2025')))).rejects.toMatchObject({ message: 'The record was not found', extensions: { code: 'NOT_FOUND' } });
    const other = new Error('deadlock detected');
    await expect(guardWrite(async () => Promise.reject(other))).rejects.toBe(other);
  });
});

describe('maskError', () => {
  const PUBLIC = [
    'BAD_USER_INPUT',
    'NOT_FOUND',
    'CONFLICT',
    'UNAUTHENTICATED',
    'FORBIDDEN',
    'SERVICE_UNAVAILABLE',
    'RATE_LIMITED',
    'QUERY_TOO_COMPLEX',
    'GRAPHQL_PARSE_FAILED',
    'GRAPHQL_VALIDATION_FAILED',
    'BAD_REQUEST',
    'PERSISTED_QUERY_NOT_FOUND',
    'PERSISTED_QUERY_NOT_SUPPORTED',
    'OPERATION_RESOLUTION_FAILURE',
    'QUERY_PLANNING_FAILED',
  ];

  it.each(PUBLIC)('lets %s through with its message, locations and path', (code) => {
    const onInternal = vi.fn();
    const formatted: GraphQLFormattedError = { message: `about ${code}`, locations: [{ line: 1, column: 3 }], path: ['a', 0], extensions: { code } };
    expect(maskError(formatted, onInternal, new Error('original'))).toEqual(formatted);
    expect(onInternal).not.toHaveBeenCalled();
  });

  it('keeps exactly the allow-listed extensions', () => {
    const extensions = {
      code: 'QUERY_TOO_COMPLEX',
      field: 'f',
      typename: 'T',
      id: '1',
      retryAfterSeconds: 3,
      limit: 'depth',
      max: 12,
      actual: 13,
      variable: 'v',
      path: ['x'],
      requestId: 'r',
    };
    const masked = maskError({ message: 'm', extensions: { ...extensions, stacktrace: ['at x'], serviceName: 'products', exception: { sql: 'SELECT' }, http: { status: 500 } } });
    expect(masked).toEqual({ message: 'm', extensions });
  });

  it.each([
    ['an unknown code', { message: 'connect ECONNREFUSED 10.0.0.5:5432', extensions: { code: 'WEIRD', stacktrace: ['at x'] } }],
    ['INTERNAL_SERVER_ERROR with details', { message: 'Invalid `prisma.user.findMany()` invocation', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
    ['a code that is not a string', { message: 'x', extensions: { code: 404 } }],
    ['a look-alike in lower case', { message: 'x', extensions: { code: 'not_found' } }],
    ['no code', { message: 'x', extensions: { field: 'f' } }],
    ['no extensions at all', { message: 'relation "users" does not exist' }],
  ])('turns %s into one generic INTERNAL_SERVER_ERROR, and tells the caller once', (_what, formatted: GraphQLFormattedError) => {
    const onInternal = vi.fn();
    const original = new Error('the real cause');
    const masked = maskError(formatted, onInternal, original);
    expect(masked).toEqual({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(onInternal).toHaveBeenCalledTimes(1);
    expect(onInternal).toHaveBeenCalledWith(formatted, original);
  });

  it('keeps where a masked error happened (locations and path), nothing else', () => {
    const masked = maskError({ message: 'secret', locations: [{ line: 2, column: 5 }], path: ['user', 'email'], extensions: { code: 'WEIRD', field: 'kept?' } });
    expect(masked).toEqual({ message: 'Internal server error', locations: [{ line: 2, column: 5 }], path: ['user', 'email'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  });

  it('masks without a callback too', () => {
    expect(maskError({ message: 'secret', extensions: { code: 'WEIRD' } })).toEqual({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  });
});
