import { modulesLoadedBy } from '@commerce/service-kit/testing';
import { describe, expect, it } from 'vitest';

/**
 * Loading the router loads no NATS client and no Redis client: each is imported when its URL is
 * configured (NATS_URL for the entity cache's events, REDIS_URL for shared limits and the cache),
 * so a router without them does not hold their ~12 and ~15 MB. Of undici it loads the connection
 * pool only, not the fetch, WebSocket and cache modules its index brings (src/fetcher.ts). Recorded
 * in a fresh Node process, as the kit's core entry is.
 */
const ROUTER = new URL('../src/router.ts', import.meta.url).href;

describe('the router module', () => {
  it('loads no NATS client and no Redis client until one is configured', async () => {
    const { loaded } = await modulesLoadedBy(ROUTER);
    expect(loaded).toContain(ROUTER);
    expect(loaded.filter((url) => /\/node_modules\/(@nats-io\/|ioredis\/)/.test(url))).toEqual([]);
  });

  it('loads undici\'s connection pool, and none of its fetch, WebSocket or cache modules', async () => {
    const { loaded } = await modulesLoadedBy(ROUTER);
    const undici = loaded.filter((url) => url.includes('/node_modules/undici/'));
    expect(undici).toContainEqual(expect.stringMatching(/\/undici\/lib\/dispatcher\/pool\.js$/));
    expect(undici.filter((url) => /\/undici\/(index\.js$|lib\/(web|cache|mock|interceptor)\/)/.test(url))).toEqual([]);
  });
});
