import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { Logger } from './logger.ts';

// ioredis is loaded by the first connectRedis: a process without REDIS_URL never pays its ~15 MB
// of resident memory (measured on import). It is CommonJS, so a require keeps connectRedis synchronous.
const require = createRequire(import.meta.url);
import type { NonceStore } from './signing.ts';

/**
 * Redis holds what several replicas of a process must share (rate-limit budgets, seen nonces).
 * Commands fail at once while Redis is unreachable instead of queueing, so a caller can fall back
 * to its in-process state and keep serving; the client reconnects by itself.
 */
export function connectRedis(url: string, logger: Logger): Redis {
  const { Redis: RedisClient } = require('ioredis') as typeof import('ioredis');
  const redis = new RedisClient(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  const warn = warnAtMostEvery(30_000, logger);
  redis.on('error', (error: Error) => warn('redis unavailable', { error: error.message }));
  return redis;
}

/**
 * Waits (briefly) for the first connection, so a process that starts with Redis up uses it from
 * its first request instead of its in-process fallback. False when Redis did not answer in time:
 * the process starts anyway and switches over once the client connects.
 */
export async function redisReady(redis: Redis, timeoutMs = 2_000): Promise<boolean> {
  if (redis.status === 'ready') return true;
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    const onReady = () => done(true);
    function done(ready: boolean) {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ready);
    }
    redis.once('ready', onReady);
  });
}

/** A logger call that stays quiet for `intervalMs` after it has spoken, so an outage is one line, not thousands. */
export function warnAtMostEvery(intervalMs: number, logger: Logger) {
  let last = 0;
  return (message: string, fields?: Record<string, unknown>) => {
    const now = Date.now();
    if (now - last < intervalMs) return;
    last = now;
    logger.warn(message, fields);
  };
}

/**
 * Nonces shared by every replica (SET NX with an expiry). While Redis is down it falls back to
 * the process's own store: replays to the same process are still caught, replays to another
 * replica are not until Redis is back. Refusing every request instead would turn a Redis outage
 * into an outage of the whole graph.
 */
export function redisNonceStore(redis: Redis, keyPrefix: string, fallback: NonceStore, logger: Logger): NonceStore {
  const warn = warnAtMostEvery(30_000, logger);
  return {
    async claim(nonce, ttlMs) {
      try {
        return (await redis.set(`${keyPrefix}${nonce}`, '1', 'PX', ttlMs, 'NX')) === 'OK';
      } catch (error) {
        warn('nonce store: Redis unavailable, using this process’s own memory', { error: (error as Error).message });
        return fallback.claim(nonce, ttlMs);
      }
    },
  };
}
