import { ADMIN, ANONYMOUS_CALLER, asUser, errorCodes, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { seedProduct } from '../src/seed.ts';
import { products } from '../src/server.ts';

let harness: SubgraphHarness<PrismaClient>;

beforeAll(async () => {
  // As the admin: these tests are about data and writes; authorization has its own tests below.
  harness = await subgraphHarness(products, { viewer: ADMIN });
});
afterAll(() => harness?.close());

const FIELDS = 'id sku name description priceCents weightGrams category';

/** The product as GraphQL returns it, computed from the seed module. */
function expected(n: number) {
  const { createdAt: _createdAt, id, ...rest } = seedProduct(n);
  return { id: String(id), ...rest };
}

/** Counts the SQL statements the Prisma client sends while `run` executes. */
const countStatements = async (run: () => Promise<unknown>) => (await harness.countStatements(run)).statements;

describe('seed', () => {
  it('has 200 products with the documented rules', async () => {
    const rows = await harness.client.product.findMany({ orderBy: { id: 'asc' } });
    expect(rows).toHaveLength(200);
    expect(rows.map(({ id, sku, category }) => ({ id, sku, category }))[0]).toEqual({ id: 1, sku: 'SKU-0001', category: 'BOOKS' });
    expect(rows[199]).toMatchObject({ id: 200, sku: 'SKU-0200', category: 'TOYS' });
    for (const row of rows) {
      expect(row.weightGrams).toBeGreaterThanOrEqual(50);
      expect(row.weightGrams).toBeLessThanOrEqual(25_000);
      expect(row.priceCents % 100).toBe(99);
      // Every seeded product starts at revision 1, as other services' seeded replicas assume.
      expect(row).toEqual({ ...seedProduct(row.id), revision: 1 });
    }
    expect(new Set(rows.map((row) => row.name)).size).toBe(200);
  });

  it('pins product 1 so other services can rely on it', () => {
    expect(seedProduct(1)).toMatchObject({ sku: 'SKU-0001', name: 'Classic Novel', category: 'BOOKS' });
  });
});

describe('queries', () => {
  it('returns a seeded product by id', async () => {
    const result = await harness.query(`{ product(id: "7") { ${FIELDS} } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data?.product).toEqual(expected(7));
    expect(result.data?.product.category).toBe('ELECTRONICS');
  });

  it('pages through every product in id order with opaque cursors', async () => {
    const ids: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const result: any = await harness.query(
        `query($after: String) { products(first: 100, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }`,
        { after },
      );
      expect(result.errors).toBeUndefined();
      ids.push(...result.data.products.nodes.map((n: { id: string }) => n.id));
      if (!result.data.products.pageInfo.hasNextPage) break;
      after = result.data.products.pageInfo.endCursor;
    }
    expect(ids.slice(0, 200)).toEqual(Array.from({ length: 200 }, (_, i) => String(i + 1)));
  });

  it('defaults to 20 per page', async () => {
    const result = await harness.query(`{ products { nodes { id } pageInfo { hasNextPage endCursor } } }`);
    expect(result.data?.products.nodes).toHaveLength(20);
    expect(result.data?.products.pageInfo.hasNextPage).toBe(true);
    expect(Buffer.from(result.data?.products.pageInfo.endCursor, 'base64url').toString()).toBe('product:20');
  });

  it('filters by category and pages within it', async () => {
    const first: any = await harness.query(
      `{ products(first: 30, category: TOYS) { nodes { id category } pageInfo { hasNextPage endCursor } } }`,
    );
    expect(first.errors).toBeUndefined();
    expect(first.data.products.nodes).toEqual(
      Array.from({ length: 30 }, (_, i) => ({ id: String(5 * (i + 1)), category: 'TOYS' })),
    );
    expect(first.data.products.pageInfo.hasNextPage).toBe(true);

    const second: any = await harness.query(
      `query($after: String) { products(first: 30, after: $after, category: TOYS) { nodes { id } pageInfo { hasNextPage endCursor } } }`,
      { after: first.data.products.pageInfo.endCursor },
    );
    // 40 seeded toys (5, 10, …, 200) minus the 30 already seen; later tests may add none before this.
    expect(second.data.products.nodes.map((n: { id: string }) => n.id)).toEqual(
      Array.from({ length: 10 }, (_, i) => String(155 + 5 * i)),
    );
    expect(second.data.products.pageInfo.hasNextPage).toBe(false);
  });

  it('gives an empty page with a null cursor after the last product', async () => {
    const result = await harness.query(`query($after: String) { products(after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }`, {
      after: Buffer.from('product:100000').toString('base64url'),
    });
    expect(result.data?.products).toEqual({ nodes: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  it('offers the page as Relay-style edges beside nodes, each cursor continuing after its product', async () => {
    const result: any = await harness.query(
      `{ products(first: 3, category: BOOKS) { nodes { id } edges { cursor node { id name } } pageInfo { hasNextPage endCursor } } }`,
    );
    expect(result.errors).toBeUndefined();
    const { nodes, edges, pageInfo } = result.data.products;
    expect(edges.map((edge: any) => edge.node)).toEqual([1, 6, 11].map((n) => ({ id: String(n), name: expected(n).name })));
    expect(nodes).toEqual([{ id: '1' }, { id: '6' }, { id: '11' }]);
    expect(edges.map((edge: any) => Buffer.from(edge.cursor, 'base64url').toString())).toEqual(['product:1', 'product:6', 'product:11']);
    expect(pageInfo).toEqual({ hasNextPage: true, endCursor: edges[2].cursor });
    const next: any = await harness.query(`query($after: String) { products(first: 2, after: $after, category: BOOKS) { edges { node { id } } } }`, {
      after: edges[0].cursor,
    });
    expect(next.data.products.edges).toEqual([{ node: { id: '6' } }, { node: { id: '11' } }]);
  });

  it('fetches a page in one SQL statement', async () => {
    expect(await countStatements(() => harness.query(`{ products(first: 50, category: HOME) { nodes { ${FIELDS} } } }`))).toBe(1);
  });
});

describe('createProduct', () => {
  it('creates a product with a trimmed, upper-cased SKU and a fresh id past the seed', async () => {
    const result = await harness.query(
      `mutation($input: CreateProductInput!) { createProduct(input: $input) { product { ${FIELDS} } } }`,
      {
        input: {
          sku: '  new-sku-1 ',
          name: '  Brand New Thing ',
          description: '',
          priceCents: 1999,
          weightGrams: 750,
          category: 'HOME',
        },
      },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?.createProduct.product).toEqual({
      id: '201',
      sku: 'NEW-SKU-1',
      name: 'Brand New Thing',
      description: '',
      priceCents: 1999,
      weightGrams: 750,
      category: 'HOME',
    });
    expect(await harness.client.product.findUnique({ where: { sku: 'NEW-SKU-1' } })).toMatchObject({ id: 201, priceCents: 1999 });
  });

  it('accepts every bound exactly', async () => {
    const result = await harness.query(
      `mutation($input: CreateProductInput!) { createProduct(input: $input) { product { sku name description priceCents weightGrams } } }`,
      {
        input: {
          sku: 'A'.repeat(32),
          name: 'n'.repeat(200),
          description: 'd'.repeat(5000),
          priceCents: 100_000_000,
          weightGrams: 1_000_000,
          category: 'BOOKS',
        },
      },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?.createProduct.product).toEqual({
      sku: 'A'.repeat(32),
      name: 'n'.repeat(200),
      description: 'd'.repeat(5000),
      priceCents: 100_000_000,
      weightGrams: 1_000_000,
    });
  });

  it('accepts the lower bounds', async () => {
    const result = await harness.query(
      `mutation { createProduct(input: { sku: "9", name: "x", description: "", priceCents: 1, weightGrams: 1, category: TOYS }) { product { sku priceCents weightGrams } } }`,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?.createProduct.product).toEqual({ sku: '9', priceCents: 1, weightGrams: 1 });
  });

  it('rejects a taken SKU (in any case) with CONFLICT and creates nothing', async () => {
    const before = await harness.client.product.count();
    const result = await harness.query(
      `mutation { createProduct(input: { sku: "sku-0002", name: "Dup", description: "", priceCents: 100, weightGrams: 100, category: BOOKS }) { product { id } } }`,
    );
    expect(errorCodes(result)).toEqual(['CONFLICT']);
    expect(result.errors?.[0]?.message).not.toMatch(/prisma|constraint|P2002/i);
    expect(await harness.client.product.count()).toBe(before);
  });

  it('gives exactly one product and clean CONFLICTs for concurrent creates of one SKU', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        harness.query(
          `mutation { createProduct(input: { sku: "RACE-1", name: "Racer", description: "fast", priceCents: 500, weightGrams: 500, category: TOYS }) { product { id } } }`,
        ),
      ),
    );
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.flatMap(errorCodes)).toEqual(Array(9).fill('CONFLICT'));
    expect(await harness.client.product.count({ where: { sku: 'RACE-1' } })).toBe(1);
  });
});

describe('updateProductPrice', () => {
  it('changes the price and returns the whole product', async () => {
    const result = await harness.query(`mutation { updateProductPrice(id: "3", priceCents: 12345) { product { ${FIELDS} } } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data?.updateProductPrice.product).toEqual({ ...expected(3), priceCents: 12345 });
    expect((await harness.client.product.findUniqueOrThrow({ where: { id: 3 } })).priceCents).toBe(12345);
    // Nothing else moved.
    expect((await harness.client.product.findUniqueOrThrow({ where: { id: 4 } })).priceCents).toBe(seedProduct(4).priceCents);
  });

  it('gives NOT_FOUND with typename and id for an unknown id, without a Prisma message', async () => {
    const result = await harness.query(`mutation { updateProductPrice(id: "9999", priceCents: 100) { product { id } } }`);
    expect(errorCodes(result)).toEqual(['NOT_FOUND']);
    expect(result.errors?.[0]?.extensions).toEqual({ code: 'NOT_FOUND', typename: 'Product', id: '9999' });
    expect(result.errors?.[0]?.message).toBe('Product 9999 was not found');
  });
});

const create = (fields: Partial<Record<'sku' | 'name' | 'description' | 'priceCents' | 'weightGrams', string | number>>) => {
  const input = { sku: 'OK-1', name: 'Fine', description: 'fine', priceCents: 100, weightGrams: 100, ...fields };
  return `mutation { createProduct(input: { sku: ${JSON.stringify(input.sku)}, name: ${JSON.stringify(input.name)}, description: ${JSON.stringify(
    input.description,
  )}, priceCents: ${input.priceCents}, weightGrams: ${input.weightGrams}, category: BOOKS }) { product { id } } }`;
};

describe('bad input', () => {
  it.each([
    ['malformed id', `{ product(id: "abc") { id } }`, 'BAD_USER_INPUT', 'id'],
    ['negative id', `{ product(id: "-3") { id } }`, 'BAD_USER_INPUT', 'id'],
    ['id beyond int4', `{ product(id: "99999999999") { id } }`, 'BAD_USER_INPUT', 'id'],
    ['unknown id', `{ product(id: "9999") { id } }`, 'NOT_FOUND', undefined],
    ['page size over the bound', `{ products(first: 101) { nodes { id } } }`, 'BAD_USER_INPUT', 'first'],
    ['page size of zero', `{ products(first: 0) { nodes { id } } }`, 'BAD_USER_INPUT', 'first'],
    ['forged cursor', `{ products(after: "bm90LWEtY3Vyc29y") { nodes { id } } }`, 'BAD_USER_INPUT', 'after'],
    ['cursor of another field', `{ products(after: "${Buffer.from('user:3').toString('base64url')}") { nodes { id } } }`, 'BAD_USER_INPUT', 'after'],
    ['SKU with a space', create({ sku: 'SKU 1' }), 'BAD_USER_INPUT', 'input.sku'],
    ['SKU with other characters', create({ sku: 'SKU_1' }), 'BAD_USER_INPUT', 'input.sku'],
    ['empty SKU', create({ sku: '   ' }), 'BAD_USER_INPUT', 'input.sku'],
    ['oversized SKU', create({ sku: 'A'.repeat(33) }), 'BAD_USER_INPUT', 'input.sku'],
    ['empty name', create({ name: '   ' }), 'BAD_USER_INPUT', 'input.name'],
    ['oversized name', create({ name: 'x'.repeat(201) }), 'BAD_USER_INPUT', 'input.name'],
    ['oversized description', create({ description: 'x'.repeat(5001) }), 'BAD_USER_INPUT', 'input.description'],
    ['zero price', create({ priceCents: 0 }), 'BAD_USER_INPUT', 'input.priceCents'],
    ['negative price', create({ priceCents: -5 }), 'BAD_USER_INPUT', 'input.priceCents'],
    ['price over the bound', create({ priceCents: 100_000_001 }), 'BAD_USER_INPUT', 'input.priceCents'],
    ['zero weight', create({ weightGrams: 0 }), 'BAD_USER_INPUT', 'input.weightGrams'],
    ['weight over the bound', create({ weightGrams: 1_000_001 }), 'BAD_USER_INPUT', 'input.weightGrams'],
    ['malformed id to updateProductPrice', `mutation { updateProductPrice(id: "x1", priceCents: 100) { product { id } } }`, 'BAD_USER_INPUT', 'id'],
    ['zero price to updateProductPrice', `mutation { updateProductPrice(id: "1", priceCents: 0) { product { id } } }`, 'BAD_USER_INPUT', 'priceCents'],
    ['price over the bound to updateProductPrice', `mutation { updateProductPrice(id: "1", priceCents: 100000001) { product { id } } }`, 'BAD_USER_INPUT', 'priceCents'],
  ])('%s → %s', async (_name, query, code, field) => {
    const before = await harness.client.product.count();
    const result = await harness.query(query);
    expect(errorCodes(result)).toEqual([code]);
    expect(result.errors?.[0]?.extensions?.field).toBe(field);
    expect(JSON.stringify(result.errors)).not.toMatch(/stacktrace|prisma|at .*\.ts/i);
    expect(await harness.client.product.count()).toBe(before);
  });

  it('leaves the price alone when the new one is rejected', async () => {
    await harness.query(`mutation { updateProductPrice(id: "1", priceCents: 0) { product { id } } }`);
    expect((await harness.client.product.findUniqueOrThrow({ where: { id: 1 } })).priceCents).toBe(seedProduct(1).priceCents);
  });
});

describe('federation', () => {
  const ENTITIES = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id sku name priceCents weightGrams category } } }`;
  const entity = (n: number) => {
    const { description: _description, ...rest } = expected(n);
    return rest;
  };

  it('resolves Product entities by id and by SKU, in order, with null for misses', async () => {
    const result = await harness.query(ENTITIES, {
      reps: [
        { __typename: 'Product', id: '12' },
        { __typename: 'Product', sku: 'SKU-0040' },
        { __typename: 'Product', id: '404' },
        { __typename: 'Product', sku: 'sku-0012' },
        { __typename: 'Product', sku: 'NO-SUCH-SKU' },
        { __typename: 'Product', id: 'not-an-id' },
        { __typename: 'Product', id: '1' },
      ],
    });
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([entity(12), entity(40), null, entity(12), null, null, entity(1)]);
  });

  it('batches references: one statement per key kind, however many representations', async () => {
    const reps = [
      ...Array.from({ length: 30 }, (_, i) => ({ __typename: 'Product', id: String(i + 101) })),
      ...Array.from({ length: 30 }, (_, i) => ({ __typename: 'Product', sku: seedProduct(i + 1).sku })),
    ];
    let result: any;
    const statements = await countStatements(async () => {
      result = await harness.query(ENTITIES, { reps });
    });
    expect(result.errors).toBeUndefined();
    expect(result.data._entities.map((e: { id: string }) => e.id)).toEqual([
      ...Array.from({ length: 30 }, (_, i) => String(i + 101)),
      ...Array.from({ length: 30 }, (_, i) => String(i + 1)),
    ]);
    expect(statements).toBe(2);
  });

  it('publishes its SDL with both keys', async () => {
    const result = await harness.query(`{ _service { sdl } }`);
    expect(result.data?._service.sdl).toContain('@key(fields: "id")');
    expect(result.data?._service.sdl).toContain('@key(fields: "sku")');
  });
});

describe('authorization', () => {
  const CREATE = `mutation { createProduct(input: { sku: "AUTH-1", name: "Nope", description: "", priceCents: 100, weightGrams: 100, category: TOYS }) { product { id } } }`;
  const PRICE = `mutation { updateProductPrice(id: "4", priceCents: 1) { product { priceCents } } }`;

  it.each([
    ['anonymous', ANONYMOUS_CALLER, 'UNAUTHENTICATED'],
    ['a customer', asUser(2), 'FORBIDDEN'],
  ])('refuses catalogue writes by %s with %s and changes nothing', async (_who, caller, code) => {
    const before = await harness.client.product.findUniqueOrThrow({ where: { id: 4 } });
    const count = await harness.client.product.count();
    for (const mutation of [CREATE, PRICE]) {
      const result = await harness.query(mutation, undefined, caller);
      expect(errorCodes(result)).toEqual([code]);
      expect(result.data).toBeNull();
    }
    expect(await harness.client.product.count()).toBe(count);
    expect((await harness.client.product.findUniqueOrThrow({ where: { id: 4 } })).priceCents).toBe(before.priceCents);
  });

  it('lets anyone read the catalogue', async () => {
    const result = await harness.query(`{ product(id: "4") { id name } }`, undefined, ANONYMOUS_CALLER);
    expect(result.errors).toBeUndefined();
  });
});
