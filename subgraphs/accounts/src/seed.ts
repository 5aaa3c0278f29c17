import { SEED, seedDate, seedUserEmail } from '@commerce/service-kit';
import type { PrismaClient } from './generated/prisma/client.ts';

const FIRST = ['Ada', 'Grace', 'Alan', 'Barbara', 'Edsger', 'Frances', 'Donald', 'Margaret', 'Ken', 'Radia'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Liskov', 'Dijkstra', 'Allen', 'Knuth', 'Hamilton', 'Thompson', 'Perlman'];

/** User n: `user<n>@example.com`, named from two fixed lists, created on day n of the seed epoch. */
export function seedUser(n: number) {
  return {
    id: n,
    email: seedUserEmail(n),
    name: `${FIRST[(n - 1) % FIRST.length]} ${LAST[Math.floor((n - 1) / FIRST.length) % LAST.length]}`,
    createdAt: seedDate(n),
  };
}

export async function seed(db: PrismaClient): Promise<void> {
  const users = Array.from({ length: SEED.users }, (_, i) => seedUser(i + 1));
  await db.user.createMany({ data: users });
  // Explicit ids bypass the sequence; move it past them so createUser does not collide.
  await db.$executeRawUnsafe(`SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))`);
}
