import { describe, expect, it } from 'vitest';
import { modulesLoadedBy } from '../src/testing.ts';

/**
 * The router imports only the kit's `core`, so it never loads a database platform (PGlite, Prisma,
 * pg: about 30 MB of RSS), a NATS client or a Redis client (ioredis, ~15 MB, loaded by the first
 * connectRedis) it may not use. Every module `core` loads is recorded in a
 * fresh Node process (`modulesLoadedBy`) and held to that; the names the router's entity cache uses of
 * the events must be there.
 */
const CORE = new URL('../src/core.ts', import.meta.url).href;
const MAIN = new URL('../src/index.ts', import.meta.url).href;
const DB_PACKAGE = new URL('../../../prisma/', import.meta.url).href;

describe('the kit’s core entry', () => {
  it('loads no database platform, no NATS client and no Redis client, and offers what the router needs of the events', async () => {
    const { loaded, exports } = await modulesLoadedBy(CORE);
    expect(loaded).toContain(CORE);
    const forbidden = loaded.filter((url) => url.startsWith(DB_PACKAGE) || /\/node_modules\/(@electric-sql\/pglite|@prisma\/|pg\/|pg-[a-z-]+\/|pglite-prisma-adapter\/|@nats-io\/|ioredis\/)/.test(url));
    expect(forbidden).toEqual([]);
    expect(exports).toEqual(expect.arrayContaining(['checkEnvelope', 'changedEntities', 'cacheInvalidatingEvents', 'streamName', 'subjectOf', 'EVENTS_PATH']));
  });
});

describe('the kit’s main entry', () => {
  // What every subgraph loads: the NATS client (1.4 MB of heap after loading) only once jetStreamTransport is
  // called (NATS_URL set), Redis's only on the first connectRedis; the embedded default uses neither.
  // pino-pretty (1.1 MB) only when a logger writes readable lines, never in production.
  it('loads no NATS client, no Redis client and no log prettifier until one is asked for', async () => {
    const { loaded, exports } = await modulesLoadedBy(MAIN);
    expect(loaded).toContain(MAIN);
    expect(loaded.filter((url) => /\/node_modules\/(@nats-io\/|ioredis\/|pino-pretty\/)/.test(url))).toEqual([]);
    expect(exports).toEqual(expect.arrayContaining(['jetStreamTransport', 'httpTransport', 'connectRedis', 'startSubgraph']));
  });
});
