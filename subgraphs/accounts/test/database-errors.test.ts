// Prisma's own errors, raised by accounts' real client on its real (PGlite) database, through the
// kit's one translation point: a missing record (P2025) is NOT_FOUND, a unique violation (P2002)
// is CONFLICT naming the field (read from the driver adapter's error: Prisma 7 with an adapter
// sets no meta.target), and neither carries Prisma's text; anything else is rethrown untouched
// for formatError to mask.
import { guardWrite } from '@commerce/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import { accountsHarness } from './support.ts';

let harness: Awaited<ReturnType<typeof accountsHarness>>['harness'];

beforeAll(async () => {
  ({ harness } = await accountsHarness());
});
afterAll(() => harness?.close());

async function rejection(write: () => Promise<unknown>): Promise<unknown> {
  try {
    await guardWrite(write);
  } catch (error) {
    return error;
  }
  throw new Error('expected the write to fail');
}

describe('guardWrite on real Prisma errors', () => {
  it.each([
    ['an update', () => harness.client.user.update({ where: { id: 999_999 }, data: { name: 'Nobody' } })],
    ['a delete', () => harness.client.user.delete({ where: { id: 999_999 } })],
    ['a findUniqueOrThrow', () => harness.client.user.findUniqueOrThrow({ where: { id: 999_999 } })],
  ])('turns P2025 from %s of a missing record into NOT_FOUND, without Prisma text', async (_what, write) => {
    const raw = await write().catch((error: unknown) => error);
    expect(raw).toMatchObject({ code: 'P2025' });
    const error = await rejection(write);
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).message).toBe('The record was not found');
    expect((error as GraphQLError).extensions).toEqual({ code: 'NOT_FOUND' });
  });

  it('turns P2002 from a duplicate email into CONFLICT, without Prisma text', async () => {
    const write = () => harness.client.user.create({ data: { email: 'user1@example.com', name: 'Again' } });
    const raw = await write().catch((error: unknown) => error);
    expect(raw).toMatchObject({ code: 'P2002' });
    const error = (await rejection(write)) as GraphQLError;
    expect(error).toBeInstanceOf(GraphQLError);
    expect(error.message).toBe('A record with this email already exists');
    expect(error.extensions).toEqual({ code: 'CONFLICT', field: 'email' });
    expect(JSON.stringify({ message: error.message, extensions: error.extensions })).not.toMatch(/prisma|constraint|P2002|Unique/i);
    expect(await harness.client.user.count({ where: { email: 'user1@example.com' } })).toBe(1);
  });

  it('rethrows any other database error untouched (formatError masks it)', async () => {
    const write = () => harness.client.$executeRawUnsafe('INSERT INTO no_such_table VALUES (1)');
    const error = await rejection(write);
    expect(error).not.toBeInstanceOf(GraphQLError);
    expect((error as Error).message).toMatch(/no_such_table/);
  });
});
