import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * Loading the router loads no NATS client and no Redis client: each is imported when its URL is
 * configured (NATS_URL for the entity cache's events, REDIS_URL for shared limits and the cache),
 * so a router without them does not hold their ~12 and ~15 MB. Recorded in a fresh Node process
 * (a resolve hook), as the kit's core entry is.
 */
const ROUTER = new URL('../src/router.ts', import.meta.url).href;
const PROBE = `
import { registerHooks } from 'node:module';
const loaded = [];
registerHooks({ resolve(specifier, context, next) { const resolved = next(specifier, context); loaded.push(resolved.url); return resolved; } });
await import(${JSON.stringify(ROUTER)});
console.log(JSON.stringify(loaded));
`;

describe('the router module', () => {
  it('loads no NATS client and no Redis client until one is configured', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', PROBE], { timeout: 60_000 });
    const loaded = JSON.parse(stdout) as string[];
    expect(loaded).toContain(ROUTER);
    expect(loaded.filter((url) => /\/node_modules\/(@nats-io\/|ioredis\/)/.test(url))).toEqual([]);
  });
});
