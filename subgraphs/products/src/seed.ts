import { randomInt, SEED, seedDate, seededRandom, seedProductPriceCents } from '@commerce/service-kit';
import type { Category, PrismaClient } from './generated/prisma/client.ts';

export const CATEGORIES = ['BOOKS', 'ELECTRONICS', 'HOME', 'OUTDOOR', 'TOYS'] as const satisfies readonly Category[];

const ADJECTIVES = ['Classic', 'Compact', 'Deluxe', 'Rugged', 'Sleek', 'Vintage', 'Cosy', 'Smart'];
// Indexed like CATEGORIES. 8 adjectives × 5 nouns = 40 names per category: every seeded name is unique.
const NOUNS: readonly (readonly string[])[] = [
  ['Novel', 'Atlas', 'Cookbook', 'Journal', 'Anthology'],
  ['Headphones', 'Speaker', 'Charger', 'Keyboard', 'Camera'],
  ['Lamp', 'Kettle', 'Blanket', 'Vase', 'Clock'],
  ['Tent', 'Backpack', 'Lantern', 'Hammock', 'Compass'],
  ['Puzzle', 'Robot', 'Kite', 'Yo-yo', 'Train Set'],
];

/** Seeds of the per-product generators; the price uses the kit's own (seedProductPriceCents). */
const WEIGHT_SEED = 0x3e160000;

/**
 * Product n (1..200): SKU-000n; category cycles BOOKS, ELECTRONICS, HOME, OUTDOOR, TOYS; price
 * from the kit (so orders can compute it too); weight 50..25000 g from its own generator; name
 * `<adjective> <noun>` from the lists above, description `<Adjective> <noun>, from our <category> range.`;
 * created at minute n of the seed epoch.
 */
export function seedProduct(n: number) {
  const categoryIndex = (n - 1) % CATEGORIES.length;
  const rank = Math.floor((n - 1) / CATEGORIES.length);
  const category = CATEGORIES[categoryIndex] ?? 'BOOKS';
  const adjective = ADJECTIVES[rank % ADJECTIVES.length] ?? '';
  const noun = NOUNS[categoryIndex]?.[Math.floor(rank / ADJECTIVES.length) % 5] ?? '';
  return {
    id: n,
    sku: `SKU-${String(n).padStart(4, '0')}`,
    name: `${adjective} ${noun}`,
    description: `${adjective} ${noun.toLowerCase()}, from our ${category.toLowerCase()} range.`,
    priceCents: seedProductPriceCents(n),
    weightGrams: randomInt(seededRandom(WEIGHT_SEED + n), 50, 25_000),
    category,
    createdAt: seedDate(0, n),
  };
}

export async function seed(db: PrismaClient): Promise<void> {
  const products = Array.from({ length: SEED.products }, (_, i) => seedProduct(i + 1));
  await db.product.createMany({ data: products });
  // Explicit ids bypass the sequence; move it past them so createProduct does not collide.
  await db.$executeRawUnsafe(`SELECT setval(pg_get_serial_sequence('products', 'id'), (SELECT max(id) FROM products))`);
}
