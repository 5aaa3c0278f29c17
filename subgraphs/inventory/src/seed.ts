import { randomInt, SEED, seedDate, seededRandom, seedUserEmail } from '@commerce/service-kit';
import type { PrismaClient } from './generated/prisma/client.ts';

/** Seed of the per-product stock generators. */
const STOCK_SEED = 0x570c0000;
/** A waitlisted email with no account: through the router it becomes a null waitlist entry. */
export const GHOST_EMAIL = 'ghost@example.com';
export const GHOST_PRODUCT_ID = 10;

/** Product n's stock: 0 for every tenth product (so waitlists have a reason), else 1..120. */
export function seedStock(n: number): number {
  return n % 10 === 0 ? 0 : randomInt(seededRandom(STOCK_SEED + n), 1, 120);
}

/**
 * Waitlist of product n, in createdAt order: for an out-of-stock product, users k = ((7n + 13j)
 * mod 50) + 1 for j = 0, 1, 2 (distinct, since 13 and 26 are not multiples of 50), then the ghost
 * email for product 10. Entry j of product n is created at day 30, minute 4n + j: distinct minutes,
 * so the order is total.
 */
export function seedWaitlist(n: number): { email: string; createdAt: Date }[] {
  if (seedStock(n) !== 0) return [];
  const emails = [0, 1, 2].map((j) => seedUserEmail(((n * 7 + j * 13) % SEED.users) + 1));
  if (n === GHOST_PRODUCT_ID) emails.push(GHOST_EMAIL);
  return emails.map((email, j) => ({ email, createdAt: seedDate(30, n * 4 + j) }));
}

export async function seed(db: PrismaClient): Promise<void> {
  const productIds = Array.from({ length: SEED.products }, (_, i) => i + 1);
  // The replica as products' events would have made it: every seeded product, at revision 1.
  await db.catalogProduct.createMany({ data: productIds.map((n) => ({ productId: n, revision: 1, updatedAt: seedDate(0, n) })) });
  await db.inventoryItem.createMany({
    data: productIds.map((n) => ({ productId: n, stock: seedStock(n), updatedAt: seedDate(0, n) })),
  });
  // The ledger opens with the seeded stock (a movement moves something: none for an empty shelf).
  await db.stockMovement.createMany({
    data: productIds
      .filter((n) => seedStock(n) > 0)
      .map((n) => ({ productId: n, delta: seedStock(n), reason: 'SEED' as const, at: seedDate(0, n) })),
  });
  const entries = productIds.flatMap((n) => seedWaitlist(n).map((entry) => ({ productId: n, ...entry })));
  await db.waitlistEntry.createMany({ data: entries.map((entry, i) => ({ id: i + 1, ...entry })) });
  // Explicit ids bypass the sequence; move it past them so later inserts do not collide.
  await db.$executeRawUnsafe(
    `SELECT setval(pg_get_serial_sequence('waitlist_entries', 'id'), (SELECT max(id) FROM waitlist_entries))`,
  );
}
