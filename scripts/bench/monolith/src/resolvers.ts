import {
  badUserInput,
  DateTime,
  guardWrite,
  notFound,
  parseId,
  parsePage,
  requireEmail,
  requireInt,
  requireText,
  toConnection,
} from '@commerce/service-kit';
import type { Category, Order, OrderItem, Review, User } from './generated/prisma/client.ts';
import type { Context } from './context.ts';
import type { ProductRow } from './loaders.ts';

/**
 * The supergraph's API answered by one process from one database. Validation, bounds, cursors
 * and error codes are the services' own (from the kit, or restated where a service keeps them
 * private), so answers are identical to the supergraph's, including errors.
 */

const PAGE = { defaultSize: 20, maxSize: 100 } as const;
const LIST = { defaultSize: 20, maxSize: 100 } as const;
const MAX_RESTOCK_QUANTITY = 100_000;
const MAX_STOCK = 1_000_000;
const SKU = /^[A-Z0-9-]{1,32}$/;

/** The inventory service's rule: free from 100.00 up, else 4.99 handling plus 0.99 per started 500 g. */
function shippingEstimateCents(priceCents: number, weightGrams: number): number {
  if (priceCents >= 10_000) return 0;
  return 499 + 99 * Math.ceil(weightGrams / 500);
}

const listSize = (first: number | null | undefined) => requireInt(first ?? LIST.defaultSize, 'first', { min: 1, max: LIST.maxSize });

interface Args {
  id: string;
  first?: number | null;
  after?: string | null;
  category?: Category | null;
}

export const resolvers = {
  DateTime,
  Query: {
    async user(_: unknown, args: Args, { loaders }: Context) {
      const id = parseId(args.id, 'id');
      const user = await loaders.userById.load(id);
      if (!user) throw notFound('User', id);
      return user;
    },
    async users(_: unknown, args: Args, { db }: Context) {
      const page = parsePage(args, PAGE, 'user');
      const rows = await db.user.findMany({
        where: page.afterId === null ? {} : { id: { gt: page.afterId } },
        orderBy: { id: 'asc' },
        take: page.take + 1,
      });
      return toConnection(rows, page, 'user');
    },
    async product(_: unknown, args: Args, { loaders }: Context) {
      const id = parseId(args.id, 'id');
      const product = await loaders.productById.load(id);
      if (!product) throw notFound('Product', id);
      return product;
    },
    async products(_: unknown, args: Args, { loaders }: Context) {
      const page = parsePage(args, PAGE, 'product');
      const rows = await loaders.productPage({ category: args.category ?? null, afterId: page.afterId }, page.take + 1);
      return toConnection(rows, page, 'product');
    },
    async review(_: unknown, args: Args, { loaders }: Context) {
      const id = parseId(args.id, 'id');
      const review = await loaders.reviewById.load(id);
      if (!review) throw notFound('Review', id);
      return review;
    },
    async order(_: unknown, args: Args, { loaders }: Context) {
      const id = parseId(args.id, 'id');
      const order = await loaders.orderById.load(id);
      if (!order) throw notFound('Order', id);
      return order;
    },
  },

  Mutation: {
    async createUser(_: unknown, { input }: { input: { email: string; name: string } }, { db }: Context) {
      const email = requireEmail(input.email, 'input.email');
      const name = requireText(input.name, 'input.name', { max: 100 });
      return { user: await guardWrite(() => db.user.create({ data: { email, name } })) };
    },
    async createProduct(
      _: unknown,
      { input }: { input: { sku: string; name: string; description: string; priceCents: number; weightGrams: number; category: Category } },
      { db }: Context,
    ) {
      const sku = input.sku.trim().toUpperCase();
      if (!SKU.test(sku)) throw badUserInput('input.sku must be 1 to 32 upper-case letters, digits or dashes', 'input.sku');
      const data = {
        sku,
        name: requireText(input.name, 'input.name', { max: 200 }),
        description: requireText(input.description, 'input.description', { min: 0, max: 5000 }),
        priceCents: requireInt(input.priceCents, 'input.priceCents', { min: 1, max: 100_000_000 }),
        weightGrams: requireInt(input.weightGrams, 'input.weightGrams', { min: 1, max: 1_000_000 }),
        category: input.category,
      };
      const product = await guardWrite(() => db.product.create({ data }));
      return { product: { ...product, stock: 0 } };
    },
    async updateProductPrice(_: unknown, args: { id: string; priceCents: number }, { db, loaders }: Context) {
      const id = parseId(args.id, 'id');
      const priceCents = requireInt(args.priceCents, 'priceCents', { min: 1, max: 100_000_000 });
      const { count } = await guardWrite(() => db.product.updateMany({ where: { id }, data: { priceCents } }));
      if (count === 0) throw notFound('Product', id);
      const product = await loaders.productById.load(id);
      if (!product) throw notFound('Product', id);
      return { product };
    },
    async restock(_: unknown, args: { productId: string; quantity: number }, { db, loaders }: Context) {
      const productId = parseId(args.productId, 'productId');
      const quantity = requireInt(args.quantity, 'quantity', { min: 1, max: MAX_RESTOCK_QUANTITY });
      // The inventory service's atomic upsert, and, one database being the point of a monolith,
      // the product read back by the same statement.
      const rows = await guardWrite(
        () => db.$queryRawUnsafe<ProductRow[]>(
          `WITH stocked AS (
             INSERT INTO inventory_items (product_id, stock, updated_at)
             SELECT id, $2, now() FROM products WHERE id = $1
             ON CONFLICT (product_id) DO UPDATE
               SET stock = inventory_items.stock + EXCLUDED.stock, updated_at = now()
               WHERE inventory_items.stock + EXCLUDED.stock <= $3
             RETURNING product_id, stock)
           SELECT p.id, p.sku, p.name, p.description, p.price_cents AS "priceCents", p.weight_grams AS "weightGrams",
             p.category::text AS category, p.created_at AS "createdAt", s.stock
           FROM stocked s JOIN products p ON p.id = s.product_id`,
          productId,
          quantity,
          MAX_STOCK,
        ),
      );
      const product = rows[0];
      if (!product) {
        if (!(await loaders.productById.load(productId))) throw notFound('Product', productId);
        throw badUserInput(`The maximum stock is ${MAX_STOCK}: adding ${quantity} would exceed it`, 'quantity');
      }
      return { product };
    },
    async addReview(
      _: unknown,
      { input }: { input: { productId: string; authorId: string; rating: number; body: string } },
      { db }: Context,
    ) {
      const productId = parseId(input.productId, 'input.productId');
      const authorId = parseId(input.authorId, 'input.authorId');
      const rating = requireInt(input.rating, 'input.rating', { min: 1, max: 5 });
      const body = requireText(input.body, 'input.body', { max: 2000 });
      return { review: await guardWrite(() => db.review.create({ data: { productId, authorId, rating, body } })) };
    },
  },

  User: {
    id: (user: User) => String(user.id),
    orders: (user: User, args: Args, { loaders }: Context) => loaders.ordersByUserId.load({ key: user.id, first: listSize(args.first) }),
    reviews: (user: User, args: Args, { loaders }: Context) => loaders.reviewsByAuthorId.load({ key: user.id, first: listSize(args.first) }),
  },

  Product: {
    id: (product: ProductRow) => String(product.id),
    stock: (product: ProductRow) => product.stock,
    inStock: (product: ProductRow) => product.stock > 0,
    shippingEstimateCents: (product: ProductRow) => shippingEstimateCents(product.priceCents, product.weightGrams),
    waitlist: (product: ProductRow, _args: unknown, { loaders }: Context) => loaders.waitlistByProductId.load(product.id),
    reviews: (product: ProductRow, args: Args, { loaders }: Context) =>
      loaders.reviewsByProductId.load({ key: product.id, first: listSize(args.first) }),
    averageRating: async (product: ProductRow, _args: unknown, { loaders }: Context) =>
      (await loaders.ratingStatsByProductId.load(product.id)).averageRating,
    reviewCount: async (product: ProductRow, _args: unknown, { loaders }: Context) =>
      (await loaders.ratingStatsByProductId.load(product.id)).reviewCount,
  },

  Review: {
    id: (review: Review) => String(review.id),
    author: (review: Review, _args: unknown, { loaders }: Context) => loaders.userById.load(review.authorId),
    product: (review: Review, _args: unknown, { loaders }: Context) => loaders.productById.load(review.productId),
  },

  Order: {
    id: (order: Order) => String(order.id),
    user: (order: Order, _args: unknown, { loaders }: Context) => loaders.userById.load(order.userId),
    items: (order: Order, _args: unknown, { loaders }: Context) => loaders.itemsByOrderId.load(order.id),
    totalCents: async (order: Order, _args: unknown, { loaders }: Context) =>
      (await loaders.itemsByOrderId.load(order.id)).reduce((total, item) => total + item.quantity * item.unitPriceCents, 0),
  },

  OrderItem: {
    product: (item: OrderItem, _args: unknown, { loaders }: Context) => loaders.productById.load(item.productId),
  },
};
