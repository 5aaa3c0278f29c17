import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { GatewayGraphQLRequest, GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { cacheInvalidatingEvents, signatureHeaders } from '@commerce/service-kit/core';
import { natsServerBinary, privateNatsServer } from '@commerce/service-kit/testing/nats';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachePolicy, cacheRuleOf, createEntityCache, heapBytesOf, memoryStore, redisStore, rootTags, type CacheStore, type StoredEntry } from '../src/entity-cache.ts';
import { guardedFields } from '../src/merge.ts';
import { eventually } from './support/eventually.ts';
import { startSupergraph } from './support/supergraph.ts';

const SUPERGRAPH = await readFile(fileURLToPath(new URL('../supergraph.graphql', import.meta.url)), 'utf8');
const policy = cachePolicy(SUPERGRAPH, guardedFields(SUPERGRAPH));
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const PRODUCT = `query ($id: ID!) { product(id: $id) { name priceCents weightGrams stock inStock shippingEstimateCents averageRating reviewCount reviews(first: 2) { rating author { name } } } }`;

describe('what the supergraph declares cacheable', () => {
  it('an entity fetch of @cacheable fields is cached per type with the shortest lifetime it selects', () => {
    const rule = cacheRuleOf('query($representations:[_Any!]!){_entities(representations:$representations){...on Product{stock shippingEstimateCents}}}', policy);
    expect(rule).toMatchObject({ kind: 'entities', lifetimes: new Map([['Product', 300]]) });
    const reviews = cacheRuleOf('query($representations:[_Any!]!){_entities(representations:$representations){...on Product{averageRating reviews(first:2){rating author{__typename id}}}}}', policy);
    // The reviews under the list declare 3600 s of their own; the list's 300 s is the shortest.
    expect(reviews).toMatchObject({ kind: 'entities', lifetimes: new Map([['Product', 300]]) });
  });

  it('nothing undeclared and no mutation is cached; what is behind an authorization directive is cached per caller', () => {
    const entities = (selection: string) => cacheRuleOf(`query($representations:[_Any!]!){_entities(representations:$representations){${selection}}}`, policy);
    expect(entities('...on User{email}')).toBeNull(); // @ownerOrScope, not declared
    expect(entities('...on Product{stock waitlist{email}}')).toBeNull(); // @requiresScope, not declared
    expect(entities('...on Product{stock} ...on User{email}')).toMatchObject({ lifetimes: new Map([['Product', 300]]), private: false });
    expect(cacheRuleOf('{me{name}}', policy)).toBeNull(); // depends on the caller without a directive: never declared
    expect(cacheRuleOf('mutation{restock(productId:"1",quantity:1){product{stock}}}', policy)).toBeNull();
    // email inherits user's lifetime; it is guarded, so the entry is the caller's own.
    expect(cacheRuleOf('query($id:ID!){user(id:$id){name email}}', policy)).toMatchObject({ kind: 'root', lifetime: 3600, private: true });
    expect(cacheRuleOf('query($id:ID!){user(id:$id){name}}', policy)).toMatchObject({ kind: 'root', private: false });
  });

  it('a root answer depends on the entities it holds by id, on their types where it holds no id, and lists on creations', () => {
    const tagsOf = (query: string, data: unknown) => {
      const rule = cacheRuleOf(query, policy);
      if (rule?.kind !== 'root') throw new Error('not a cacheable root fetch');
      return rootTags(data, rule.selections, policy, rule.fragments);
    };
    expect(cacheRuleOf('{products(first:2){nodes{name}}}', policy)).toMatchObject({ kind: 'root', lifetime: 300 });
    const page = { products: { nodes: [{ __typename: 'Product', id: '1', name: 'a' }, { __typename: 'Product', id: '2', name: 'b' }], pageInfo: { hasNextPage: true } } };
    expect(tagsOf('{products(first:2){nodes{__typename id name} pageInfo{hasNextPage}}}', page)).toEqual(['Product:+', 'Product:1', 'Product:2']);
    expect(tagsOf('{products(first:2){nodes{name}}}', { products: { nodes: [{ name: 'a' }] } })).toEqual(['Product:*', 'Product:+']);
    expect(tagsOf('query($id:ID!){product(id:$id){name}}', { product: { name: 'a' } })).toEqual(['Product:*']);
    expect(tagsOf('query($id:ID!){product(id:$id){__typename id name}}', { product: { __typename: 'Product', id: '5', name: 'a' } })).toEqual(['Product:5']);
    expect(tagsOf('query($id:ID!){review(id:$id){rating author{__typename id}}}', { review: { rating: 4, author: { __typename: 'User', id: '3' } } })).toEqual(['Review:*', 'User:3']);
    expect(tagsOf('query($id:ID!){product(id:$id){name}}', { product: null })).toEqual([]);
    // Pages of users, announced by accounts' UserCreated; an email on them makes the page the caller's own.
    expect(cacheRuleOf('{users(first:2){nodes{name}}}', policy)).toMatchObject({ kind: 'root', lifetime: 300, private: false });
    expect(cacheRuleOf('{users(first:2){nodes{name email}}}', policy)).toMatchObject({ kind: 'root', lifetime: 300, private: true });
    expect(tagsOf('{users(first:2){nodes{__typename id name}}}', { users: { nodes: [{ __typename: 'User', id: '1', name: 'a' }] } })).toEqual(['User:+', 'User:1']);
  });
});

describe('who may invalidate what', () => {
  it("every service whose events invalidate is a subgraph of the supergraph, so its events reach its own entries", () => {
    const subgraphs = new Set([...SUPERGRAPH.matchAll(/@join__graph\(name: "([^"]+)"/g)].map((match) => match[1]));
    const publishers = new Set(cacheInvalidatingEvents().map((event) => event.split('.')[0]));
    expect(publishers).toEqual(new Set(['accounts', 'products', 'inventory', 'reviews', 'orders']));
    for (const publisher of publishers) expect(subgraphs).toContain(publisher);
  });
});

/** A send that answers `_entities` from a table, counting what it was asked for. */
function fakeSubgraph(table: Record<string, unknown>) {
  const asked: unknown[][] = [];
  return {
    asked,
    send: async (request: GatewayGraphQLRequest): Promise<GatewayGraphQLResponse> => {
      const reps = request.variables?.representations as { id: string }[];
      asked.push(reps.map((r) => r.id));
      return { data: { _entities: reps.map((r) => table[r.id] ?? null) } };
    },
  };
}

/** An anonymous caller (the fetches here select nothing guarded). */
const ANYONE = { caller: '[null,null]' };

const STOCK_FETCH = {
  query: 'query($representations:[_Any!]!){_entities(representations:$representations){...on Product{stock}}}',
  variables: { representations: ['1', '2', '3'].map((id) => ({ __typename: 'Product', id })) },
};

function storeSuite(name: string, makeStore: () => Promise<{ store: CacheStore; close(): Promise<void> }>) {
  describe(`the ${name} store`, () => {
    let store: CacheStore;
    let close: () => Promise<void>;
    beforeAll(async () => ({ store, close } = await makeStore()));
    afterAll(() => close());

    it('answers a repeated entity fetch from the cache and asks the subgraph only for what it lacks', async () => {
      const cache = createEntityCache({ store, policy });
      const subgraph = fakeSubgraph({ '1': { stock: 5 }, '2': { stock: 0 }, '3': { stock: 7 }, '4': { stock: 9 } });
      expect(await cache.fetch('inventory', STOCK_FETCH, subgraph.send, ANYONE)).toEqual({ data: { _entities: [{ stock: 5 }, { stock: 0 }, { stock: 7 }] } });
      await new Promise((resolve) => setTimeout(resolve, 20)); // writes are not awaited by the fetch
      const wider = { ...STOCK_FETCH, variables: { representations: ['4', '2', '1'].map((id) => ({ __typename: 'Product', id })) } };
      expect(await cache.fetch('inventory', wider, subgraph.send, ANYONE)).toEqual({ data: { _entities: [{ stock: 9 }, { stock: 0 }, { stock: 5 }] } });
      expect(subgraph.asked).toEqual([['1', '2', '3'], ['4']]);
      expect(cache.stats().lookups.Product).toEqual({ hits: 2, misses: 4, stale: 0 });
    });

    it('an invalidation that races a fill leaves nothing stale behind', async () => {
      const cache = createEntityCache({ store, policy });
      const fetch = { ...STOCK_FETCH, variables: { representations: [{ __typename: 'Product', id: '11' }] } };
      // The subgraph read stock 5; the change to 4 commits and its event arrives before the answer does.
      const racing = async (): Promise<GatewayGraphQLResponse> => {
        await cache.invalidate('inventory', [{ type: 'Product', id: '11' }]);
        return { data: { _entities: [{ stock: 5 }] } };
      };
      expect(await cache.fetch('inventory', fetch, racing, ANYONE)).toEqual({ data: { _entities: [{ stock: 5 }] } });
      await new Promise((resolve) => setTimeout(resolve, 20));
      const after = fakeSubgraph({ '11': { stock: 4 } });
      expect(await cache.fetch('inventory', fetch, after.send, ANYONE)).toEqual({ data: { _entities: [{ stock: 4 }] } });
      expect(after.asked).toEqual([['11']]);
      // The second lookup found the raced entry and judged it stale.
      expect(cache.stats().lookups.Product).toEqual({ hits: 0, misses: 2, stale: 1 });
    });

    it('errors are put back at their entity and nothing that erred or came back null is stored', async () => {
      const cache = createEntityCache({ store, policy });
      const ids = ['21', '22', '23'];
      const fetch = { ...STOCK_FETCH, variables: { representations: ids.map((id) => ({ __typename: 'Product', id })) } };
      await cache.fetch('inventory', { ...fetch, variables: { representations: [{ __typename: 'Product', id: '21' }] } }, fakeSubgraph({ '21': { stock: 1 } }).send, ANYONE);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const failing = async (request: GatewayGraphQLRequest): Promise<GatewayGraphQLResponse> => {
        expect((request.variables?.representations as { id: string }[]).map((r) => r.id)).toEqual(['22', '23']);
        return { data: { _entities: [null, { stock: null }] }, errors: [{ message: 'boom', path: ['_entities', 1, 'stock'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }] };
      };
      expect(await cache.fetch('inventory', fetch, failing, ANYONE)).toEqual({
        data: { _entities: [{ stock: 1 }, null, { stock: null }] },
        errors: [{ message: 'boom', path: ['_entities', 2, 'stock'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      const later = fakeSubgraph({ '22': { stock: 2 }, '23': { stock: 3 } });
      await cache.fetch('inventory', fetch, later.send, ANYONE);
      expect(later.asked).toEqual([['22', '23']]);
    });

    it('a root fetch is stored only without errors, and emptied by a change to an entity it holds, not to another', async () => {
      const cache = createEntityCache({ store, policy });
      const fetch = { query: 'query($id:ID!){product(id:$id){__typename id name}}', variables: { id: '31' } };
      let sent = 0;
      const answer = (errors: boolean) => async (): Promise<GatewayGraphQLResponse> => {
        sent++;
        return errors ? { data: { product: null }, errors: [{ message: 'gone', extensions: { code: 'NOT_FOUND' } }] } : { data: { product: { __typename: 'Product', id: '31', name: 'Lamp' } } };
      };
      await cache.fetch('products', fetch, answer(true), ANYONE);
      await cache.fetch('products', fetch, answer(false), ANYONE);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await cache.fetch('products', fetch, answer(false), ANYONE)).toEqual({ data: { product: { __typename: 'Product', id: '31', name: 'Lamp' } } });
      expect(sent).toBe(2);
      await cache.invalidate('products', [{ type: 'Product', id: '999' }]);
      await cache.fetch('products', fetch, answer(false), ANYONE);
      expect(sent).toBe(2);
      await cache.invalidate('products', [{ type: 'Product', id: '31' }]);
      await cache.fetch('products', fetch, answer(false), ANYONE);
      expect(sent).toBe(3);
    });

    it('a root answer that found nothing is not stored, so the entity created next is seen at once', async () => {
      const cache = createEntityCache({ store, policy });
      const fetch = { query: 'query($id:ID!){product(id:$id){__typename id name}}', variables: { id: `absent-${name}` } };
      let sent = 0;
      const nothing = async (): Promise<GatewayGraphQLResponse> => (sent++, { data: { product: null } });
      await cache.fetch('products', fetch, nothing, ANYONE);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await cache.fetch('products', fetch, nothing, ANYONE);
      expect(sent).toBe(2);
    });

    it('a page is emptied by a change to a product on it and by a new product, not by a change elsewhere', async () => {
      const cache = createEntityCache({ store, policy });
      const fetch = { query: 'query($first:Int){products(first:$first){nodes{__typename id name}}}', variables: { first: 2, page: name } };
      let sent = 0;
      const page = async (): Promise<GatewayGraphQLResponse> => {
        sent++;
        return { data: { products: { nodes: ['51', '52'].map((id) => ({ __typename: 'Product', id, name: `P${id}` })) } } };
      };
      const read = async () => {
        await cache.fetch('products', fetch, page, ANYONE);
        await new Promise((resolve) => setTimeout(resolve, 20));
      };
      await read();
      await read();
      expect(sent).toBe(1);
      await cache.invalidate('products', [{ type: 'Product', id: '59' }]);
      await read();
      expect(sent).toBe(1);
      await cache.invalidate('products', [{ type: 'Product', id: '52' }]);
      await read();
      expect(sent).toBe(2);
      await cache.invalidate('products', [{ type: 'Product', id: '60', created: true }]);
      await read();
      expect(sent).toBe(3);
    });

    it("an event empties its publisher's entries only: a restock keeps the product's page and names cached", async () => {
      const cache = createEntityCache({ store, policy });
      const stock = { ...STOCK_FETCH, variables: { representations: [{ __typename: 'Product', id: '71' }] } };
      const page = { query: 'query($first:Int){products(first:$first){nodes{__typename id name}}}', variables: { first: 1, page: `owners-${name}` } };
      const sent = { inventory: 0, products: 0 };
      const inventory = async (): Promise<GatewayGraphQLResponse> => ({ data: { _entities: [{ stock: ++sent.inventory }] } });
      const products = async (): Promise<GatewayGraphQLResponse> => ({ data: { products: { nodes: [{ __typename: 'Product', id: '71', name: `v${++sent.products}` }] } } });
      const read = async () => {
        const answers = [await cache.fetch('inventory', stock, inventory, ANYONE), await cache.fetch('products', page, products, ANYONE)];
        await new Promise((resolve) => setTimeout(resolve, 20));
        return answers;
      };
      await read();
      expect(await read()).toEqual([{ data: { _entities: [{ stock: 1 }] } }, { data: { products: { nodes: [{ __typename: 'Product', id: '71', name: 'v1' }] } } }]);
      await cache.invalidate('inventory', [{ type: 'Product', id: '71' }]);
      expect(await read()).toEqual([{ data: { _entities: [{ stock: 2 }] } }, { data: { products: { nodes: [{ __typename: 'Product', id: '71', name: 'v1' }] } } }]);
      await cache.invalidate('products', [{ type: 'Product', id: '71' }]);
      expect(await read()).toEqual([{ data: { _entities: [{ stock: 2 }] } }, { data: { products: { nodes: [{ __typename: 'Product', id: '71', name: 'v2' }] } } }]);
      // A subgraph that is not the answer's owner, even about the same entity, changes nothing.
      await cache.invalidate('reviews', [{ type: 'Product', id: '71' }]);
      await read();
      expect(sent).toEqual({ inventory: 2, products: 2 });
    });
  });
}

describe('an entry the router cannot read', () => {
  it('is a miss, refilled, never an error', async () => {
    const fetch = { ...STOCK_FETCH, variables: { representations: [{ __typename: 'Product', id: '41' }] } };
    // What a shared Redis could hold under the entry's key that no router wrote.
    const store = memoryStore();
    const foreign: CacheStore = { ...store, read: async (keys, tags) => ({ ...(await store.read(keys, tags)), entries: keys.map(() => 'not json') }) };
    const cache = createEntityCache({ store: foreign, policy });
    const subgraph = fakeSubgraph({ '41': { stock: 2 } });
    expect(await cache.fetch('inventory', fetch, subgraph.send, ANYONE)).toEqual({ data: { _entities: [{ stock: 2 }] } });
    expect(subgraph.asked).toEqual([['41']]);
    expect(cache.stats().errors).toBe(1);
  });
});

describe('the memory store keeps its bounds', () => {
  const entry = (key: string) => ({ key, value: { s: 0, d: { name: key.repeat(100) } }, ttlSeconds: 60 });
  /** What one of the entries above takes, by the store's own estimate. */
  const oneEntry = async () => {
    const store = memoryStore();
    await store.write([entry('a')]);
    return store.occupancy!().bytes;
  };

  it('drops entries not read lately beyond its budget, giving read ones a second chance, and counts them', async () => {
    const store = memoryStore(16 * (await oneEntry()));
    const keys = 'abcdefghijklmnop'.split('');
    await store.write(keys.map(entry));
    await store.read(['a'], []); // a, the oldest, was read: b goes instead
    await store.write([entry('q')]);
    expect((await store.read(['a', 'b', 'q'], [])).entries.map((e) => (e ? 'held' : null))).toEqual(['held', null, 'held']);
    expect(store.occupancy!()).toMatchObject({ entries: 16, evictions: 1 });
  });

  it('never stores one entry past a sixteenth of its budget', async () => {
    const store = memoryStore(32 * (await oneEntry()));
    await store.write([entry('a'), { key: 'big', value: { s: 0, d: 'x'.repeat(10_000) }, ttlSeconds: 60 }]);
    expect((await store.read(['a', 'big'], [])).entries.map((e) => (e ? 'held' : null))).toEqual(['held', null]);
  });

  it('estimates the heap a parsed JSON value takes', () => {
    expect(heapBytesOf('abc')).toBe(19);
    expect(heapBytesOf({ id: '7', n: 1 })).toBe(24 + 8 + 17 + 8 + 16);
    expect(heapBytesOf([null, 'x'])).toBe(32 + 2 * 8 + 16 + 17);
  });

  it('clears entries and stamps together, and a fill from before the clear is not fresh after it', async () => {
    // Room for the entry and a few stamps: past half of the budget in stamps, everything is cleared.
    const store = memoryStore(1_200);
    const before = await store.read([], []);
    await store.write([{ key: 'e', value: { s: 0, d: 'old' }, ttlSeconds: 60 }]);
    await store.bump(Array.from({ length: 10 }, (_, i) => `Product:${i}`));
    const after = await store.read(['e'], ['Product:90']);
    expect(after.entries).toEqual([null]);
    expect(after.stamps[0]).toBeGreaterThan(before.sequence);
    expect(store.occupancy!().entries).toBe(0);
  });
});

describe('the memory store keeps its own copies', () => {
  // The gateway merges later fetches into the objects an answer gives it: a stored entry must never be one of them.
  it('is not changed by changes to what was written or to what was read', async () => {
    const store = memoryStore();
    const written = { s: 3, t: ['products/Product:1'], d: { product: { id: '1', reviews: [{ id: 'r1' }], tags: ['a'] } } };
    await store.write([{ key: 'k', value: written, ttlSeconds: 60 }]);
    written.d.product.reviews[0]!.id = 'changed after the write';
    written.d.product.tags.push('b');
    const [first] = (await store.read(['k'], [])).entries as { d: { product: Record<string, any> } }[];
    expect(first).toEqual({ s: 3, t: ['products/Product:1'], d: { product: { id: '1', reviews: [{ id: 'r1' }], tags: ['a'] } } });
    first!.d.product.reviews[0].author = { name: 'merged in by the gateway' };
    first!.d.product.id = '2';
    const [second] = (await store.read(['k'], [])).entries;
    expect(second).toEqual({ s: 3, t: ['products/Product:1'], d: { product: { id: '1', reviews: [{ id: 'r1' }], tags: ['a'] } } });
  });

  it('keeps a field aliased __proto__ as a field, as JSON does', async () => {
    const store = memoryStore();
    const value = JSON.parse('{"s":1,"d":{"product":{"__proto__":{"id":"9"},"id":"1"}}}') as StoredEntry;
    await store.write([{ key: 'k', value, ttlSeconds: 60 }]);
    const [read] = (await store.read(['k'], [])).entries as StoredEntry[];
    const product = (read!.d as { product: Record<string, unknown> }).product;
    expect(Object.getPrototypeOf(product)).toBe(Object.prototype);
    expect(Object.hasOwn(product, '__proto__')).toBe(true);
    expect(JSON.stringify(read)).toBe('{"s":1,"d":{"product":{"__proto__":{"id":"9"},"id":"1"}}}');
  });
});

describe('the Redis store', () => {
  it('lets entries expire with their lifetime and stamps a day after they were set', async () => {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const prefix = `test:ttl:${process.pid}:${Date.now()}:`;
    try {
      const store = redisStore(redis, prefix);
      await store.write([{ key: 'k', value: { s: 0, d: {} }, ttlSeconds: 60 }]);
      await store.bump(['Product:1']);
      expect(await redis.ttl(`${prefix}k`)).toBeGreaterThan(55);
      expect(await redis.ttl(`${prefix}k`)).toBeLessThanOrEqual(60);
      expect(await redis.ttl(`${prefix}v:Product:1`)).toBeGreaterThan(86_000);
      expect(await store.read(['k'], ['Product:1', 'Product:2'])).toEqual({ entries: ['{"s":0,"d":{}}'], stamps: [1, 0], sequence: 1 });
    } finally {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
});

storeSuite('memory', async () => ({ store: memoryStore(), close: async () => {} }));
storeSuite('Redis', async () => {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const prefix = `test:${process.pid}:${Date.now()}:`;
  return {
    store: redisStore(redis, prefix),
    async close() {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
  };
});

describe('the entity cache in the router, invalidated by events pushed over HTTP', () => {
  let supergraph: Awaited<ReturnType<typeof startSupergraph>>;
  beforeAll(async () => {
    supergraph = await startSupergraph({ entityCache: true });
  }, 120_000);
  afterAll(() => supergraph?.close());

  it('a repeated read costs no subgraph request, and its answer is the same', async () => {
    const first = await supergraph.query(PRODUCT, { id: '2' });
    expect(first.errors).toBeUndefined();
    const { result: second, requests } = await supergraph.measure(() => supergraph.query(PRODUCT, { id: '2' }));
    expect(second).toEqual(first);
    // Accounts' user names, products' root field, inventory's stock, reviews' ratings: all cached.
    expect(requests).toEqual({ accounts: 0, products: 0, inventory: 0, reviews: 0, orders: 0 });
  });

  it('a write is seen by the next read once its event is delivered (restock, price change, new review)', async () => {
    const admin = { userId: 1 };
    const before = (await supergraph.query(PRODUCT, { id: '3' })).data!.product;
    await supergraph.query(PRODUCT, { id: '3' }); // from the cache now
    const restock = await supergraph.query(`mutation { restock(productId: "3", quantity: 5) { product { stock } } }`, {}, admin);
    expect(restock.data?.restock.product.stock).toBe(before.stock + 5);
    const written = performance.now();
    const fresh = await eventually(
      () => supergraph.query(PRODUCT, { id: '3' }),
      (r) => r.data?.product.stock === before.stock + 5,
    );
    expect(fresh.data?.product.stock).toBe(before.stock + 5);
    const staleMs = performance.now() - written;

    await supergraph.query(`mutation { updateProductPrice(id: "3", priceCents: 499) { product { priceCents } } }`, {}, admin);
    const repriced = await eventually(
      () => supergraph.query(PRODUCT, { id: '3' }),
      (r) => r.data?.product.priceCents === 499,
    );
    // The shipping estimate depends on the price (@requires): inventory's entry for the old price is not used.
    expect(repriced.data?.product).toMatchObject({ priceCents: 499, shippingEstimateCents: 499 + 99 * Math.ceil(before.weightGrams / 500) });

    const review = await supergraph.query(`mutation { addReview(input: { productId: "3", rating: 1, body: "cache test" }) { review { id } } }`, {}, { userId: 9 });
    expect(review.errors).toBeUndefined();
    const reviewed = await eventually(
      () => supergraph.query(PRODUCT, { id: '3' }),
      (r) => r.data?.product.reviewCount === before.reviewCount + 1,
    );
    expect(reviewed.data?.product.reviewCount).toBe(before.reviewCount + 1);
    expect(staleMs).toBeLessThan(5_000);
  });

  it('a page of users is cached, and a new account is on it once its UserCreated is delivered', async () => {
    const page = `query { users(first: 100) { nodes { id name } } }`;
    const before = await supergraph.query(page);
    expect(before.errors).toBeUndefined();
    const { result: cached, requests } = await supergraph.measure(() => supergraph.query(page));
    expect(cached).toEqual(before);
    expect(requests.accounts).toBe(0);
    const email = `page-${Date.now()}@example.com`;
    const signUp = await supergraph.query(`mutation { signUp(input: { email: "${email}", name: "Page Reader", password: "long enough password" }) { user { id } } }`);
    expect(signUp.errors).toBeUndefined();
    const id = signUp.data?.signUp.user.id as string;
    const written = performance.now();
    const after = await eventually(
      () => supergraph.query(page),
      (r) => (r.data?.users.nodes as { id: string }[] | undefined)?.some((user) => user.id === id) === true,
    );
    expect(after.data?.users.nodes).toEqual([...before.data!.users.nodes, { id, name: 'Page Reader' }]);
    expect(performance.now() - written).toBeLessThan(5_000);
    // Cached again from then on.
    expect((await supergraph.measure(() => supergraph.query(page))).requests.accounts).toBe(0);
  });

  it('a private field is cached for its caller alone, never served to another', async () => {
    const query = `query ($id: ID!) { user(id: $id) { name email } }`;
    const own = await supergraph.query(query, { id: '4' }, { userId: 4 });
    expect(own.data?.user).toEqual({ name: expect.any(String), email: 'user4@example.com' });
    const { result: other, requests } = await supergraph.measure(() => supergraph.query(query, { id: '4' }, { userId: 5 }));
    expect(other.data?.user.email).toBeNull();
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(requests.accounts).toBe(1);
    const anonymous = await supergraph.query(query, { id: '4' });
    expect(anonymous.data?.user.email).toBeNull();
    // The owner's own entry: answered from the cache, with the email.
    const again = await supergraph.measure(() => supergraph.query(query, { id: '4' }, { userId: 4 }));
    expect(again.result).toEqual(own);
    expect(again.requests.accounts).toBe(0);
  });

  it("a customer's orders: cached for them alone, a new order and the saga's verdict seen on the next read", async () => {
    const orders = `query ($id: ID!) { user(id: $id) { orders(first: 20) { id status totalCents } } }`;
    const mine = { userId: 12 };
    const before = (await supergraph.query(orders, { id: '12' }, mine)).data!.user.orders as { id: string; status: string }[];
    const { requests } = await supergraph.measure(() => supergraph.query(orders, { id: '12' }, mine));
    expect(requests.orders).toBe(0);

    const placed = await supergraph.query(
      `mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id status } } }`,
      { input: { items: [{ productId: '4', quantity: 1 }], idempotencyKey: `cache-${Date.now()}` } },
      mine,
    );
    expect(placed.errors).toBeUndefined();
    const id = placed.data!.placeOrder.order.id as string;
    // OrderPlaced puts it in the list; inventory's answer then confirms it (OrderStatusChanged).
    const settled = await eventually(
      () => supergraph.query(orders, { id: '12' }, mine),
      (r) => (r.data?.user.orders as { id: string; status: string }[] | undefined)?.some((o) => o.id === id && o.status === 'CONFIRMED') === true,
    );
    expect(settled.data!.user.orders).toHaveLength(before.length + 1);
    expect((settled.data!.user.orders as { id: string; status: string }[]).find((o) => o.id === id)?.status).toBe('CONFIRMED');

    // Another customer asking for the same order is refused, never served the owner's entry.
    const other = await supergraph.query(`query ($id: ID!) { order(id: $id) { status } }`, { id }, { userId: 13 });
    expect(other.data?.order ?? null).toBeNull();
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('Cache-Control: no-cache reads from the subgraphs and refills the cache', async () => {
    await supergraph.query(PRODUCT, { id: '5' });
    const { requests } = await supergraph.measure(() =>
      fetch(supergraph.router.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'cache-control': 'no-cache' },
        body: JSON.stringify({ query: PRODUCT, variables: { id: '5' } }),
      }).then((r) => r.json()),
    );
    expect(requests.products).toBe(1);
    expect(requests.inventory).toBe(1);
  });

  it('counts hits and misses per type at /metrics', async () => {
    const text = await (await fetch(`${supergraph.router.url}/metrics`)).text();
    expect(text).toMatch(/commerce_router_cache_lookups_total\{type="Product",result="hit"\} [1-9]/);
    expect(text).toMatch(/commerce_router_cache_lookups_total\{type="Query",result="miss"\} [1-9]/);
    expect(text).toMatch(/commerce_router_cache_invalidations_total [1-9]/);
    expect(text).toMatch(/commerce_router_cache_stale_total\{type="Product"\} \d+/);
    expect(text).toMatch(/commerce_router_cache_entries [1-9]/);
    expect(text).toMatch(/commerce_router_cache_bytes [1-9]/);
    expect(text).toMatch(/commerce_router_cache_evictions_total 0/);
  });

  it('refuses events not signed with its events secret', async () => {
    const url = `${supergraph.router.url}/internal/events`;
    const unsigned = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('a shared cache in Redis', () => {
  let supergraph: Awaited<ReturnType<typeof startSupergraph>>;
  beforeAll(async () => {
    supergraph = await startSupergraph({ entityCache: true, router: { redisUrl: REDIS_URL } });
  }, 120_000);
  afterAll(async () => {
    await supergraph?.close();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys('commerce:cache:*');
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('one router fills, another router answers from it', async () => {
    await supergraph.query(PRODUCT, { id: '6' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await supergraph.startRouter({ redisUrl: REDIS_URL, entityCache: { eventsSecret: 'x'.repeat(40) } });
    try {
      const { requests } = await supergraph.measure(() =>
        fetch(second.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: PRODUCT, variables: { id: '6' } }) }).then((r) => r.json()),
      );
      expect(requests).toEqual({ accounts: 0, products: 0, inventory: 0, reviews: 0, orders: 0 });
    } finally {
      await second.stop();
    }
  });

  it('with Redis unreachable the router answers from the subgraphs, and refuses invalidations so they are sent again', async () => {
    const offline = await supergraph.startRouter({ redisUrl: 'redis://127.0.0.1:1', entityCache: { eventsSecret: 'y'.repeat(40) } });
    try {
      const expected = await supergraph.query(PRODUCT, { id: '7' });
      for (let i = 0; i < 2; i++) {
        const answer = await fetch(offline.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: PRODUCT, variables: { id: '7' } }) });
        expect(answer.status).toBe(200);
        expect(await answer.json()).toEqual({ data: expected.data });
      }
      expect(offline.cache?.stats().errors).toBeGreaterThan(0);

      // An event it cannot apply is refused with 503, so the publisher's relay sends it again;
      // one it cannot read is acknowledged (retrying would block the publisher's later events).
      const push = async (body: string) => {
        const url = new URL('/internal/events', offline.url);
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        Object.assign(headers, signatureHeaders('y'.repeat(40), { method: 'POST', path: url.pathname, headers, body }));
        const response = await fetch(url, { method: 'POST', headers, body });
        return { status: response.status, body: (await response.json()) as Record<string, any> };
      };
      const event = { id: randomUUID(), source: 'inventory', type: 'StockChanged', version: 1, aggregate: 'product:7', sequence: 1, occurredAt: new Date().toISOString(), payload: { productId: 7, stock: 3 } };
      const refused = await push(JSON.stringify(event));
      expect(refused.status).toBe(503);
      expect(refused.body.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
      expect(await push('{"not":"an event"}')).toEqual({ status: 200, body: { outcome: 'ignored', reason: expect.stringMatching(/^malformed envelope/) } });
    } finally {
      await offline.stop();
    }
  });
});

const natsBinary = natsServerBinary();
describe.skipIf(!natsBinary)('the entity cache invalidated through NATS JetStream', () => {
  let broker: Awaited<ReturnType<typeof privateNatsServer>>;
  let supergraph: Awaited<ReturnType<typeof startSupergraph>>;
  beforeAll(async () => {
    broker = await privateNatsServer(natsBinary!);
    supergraph = await startSupergraph({ entityCache: true, natsUrl: broker.url });
  }, 120_000);
  afterAll(async () => {
    await supergraph?.close();
    await broker?.close();
  });

  it('a restock is seen by the next read once the stream delivers it', async () => {
    const before = (await supergraph.query(PRODUCT, { id: '8' })).data!.product;
    const { requests } = await supergraph.measure(() => supergraph.query(PRODUCT, { id: '8' }));
    expect(requests.inventory).toBe(0);
    await supergraph.query(`mutation { restock(productId: "8", quantity: 2) { product { stock } } }`, {}, { userId: 1 });
    const fresh = await eventually(
      () => supergraph.query(PRODUCT, { id: '8' }),
      (r) => r.data?.product.stock === before.stock + 2,
    );
    expect(fresh.data?.product.stock).toBe(before.stock + 2);
  });
});
