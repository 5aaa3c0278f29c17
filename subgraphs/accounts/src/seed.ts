import { SEED, seedDate, seedUserEmail } from '@commerce/service-kit';
import { hashPassword } from './auth/passwords.ts';
import type { PrismaClient } from './generated/prisma/client.ts';

const FIRST = ['Ada', 'Grace', 'Alan', 'Barbara', 'Edsger', 'Frances', 'Donald', 'Margaret', 'Ken', 'Radia'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Liskov', 'Dijkstra', 'Allen', 'Knuth', 'Hamilton', 'Thompson', 'Perlman'];

/** Every seeded user's password in development, documented in the README. Never set in production. */
export const DEVELOPMENT_PASSWORD = 'commerce-dev';

/** The seeded admin: Ada Lovelace. */
export const SEED_ADMIN_ID = 1;

/** User n: `user<n>@example.com`, named from two fixed lists, created on day n of the seed epoch. */
export function seedUser(n: number) {
  return {
    id: n,
    email: seedUserEmail(n),
    name: `${FIRST[(n - 1) % FIRST.length]} ${LAST[Math.floor((n - 1) / FIRST.length) % LAST.length]}`,
    createdAt: seedDate(n),
    role: n === SEED_ADMIN_ID ? 'admin' : 'customer',
  };
}

/**
 * `developmentPasswords: false` (production) seeds users without a password: they exist for other
 * services' data but nobody can sign in as them with a published password.
 */
export async function seed(db: PrismaClient, { developmentPasswords = true }: { developmentPasswords?: boolean } = {}): Promise<void> {
  // One scrypt run for all 50 users (one salt, so identical hashes): hashing per user would add
  // ~50 × 100–300 ms to every fresh database, i.e. to every test file. Fine for a published password.
  const passwordHash = developmentPasswords ? await hashPassword(DEVELOPMENT_PASSWORD) : null;
  const users = Array.from({ length: SEED.users }, (_, i) => ({ ...seedUser(i + 1), passwordHash }));
  await db.user.createMany({ data: users });
  // Explicit ids bypass the sequence; move it past them so signUp does not collide.
  await db.$executeRawUnsafe(`SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))`);
}
