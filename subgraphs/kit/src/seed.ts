/**
 * The shape of the seed data every service agrees on, so ids line up across databases without
 * any service reading another's tables: users 1..USERS, products 1..PRODUCTS, and so on.
 * Each service generates its own rows from these numbers and a seeded generator.
 */
export const SEED = {
  users: 50,
  products: 200,
  reviews: 600,
  orders: 150,
  /** A fixed clock, so createdAt values are the same on every machine. */
  epoch: Date.UTC(2026, 0, 1),
} as const;

/** mulberry32: a tiny deterministic PRNG; the same seed gives the same sequence everywhere. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An integer in [min, max] from a generator. */
export function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

export function seedDate(dayOffset: number, minuteOffset = 0): Date {
  return new Date(SEED.epoch + dayOffset * 86_400_000 + minuteOffset * 60_000);
}

/** The email of seeded user n: services that key users by email can compute it. */
export function seedUserEmail(n: number): string {
  return `user${n}@example.com`;
}

/**
 * The list price of seeded product n, in cents (x.99 prices from 0.99 to 499.99). Products seeds
 * its catalogue with it, and orders uses it for prices at purchase time, so seeded orders match
 * the seeded catalogue without orders ever reading the products database.
 */
export function seedProductPriceCents(n: number): number {
  const random = seededRandom(0x5eed0000 + n);
  return randomInt(random, 1, 500) * 100 - 1;
}
