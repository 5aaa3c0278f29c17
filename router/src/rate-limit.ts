import { ErrorCode, HttpError, type Viewer } from '@commerce/service-kit/core';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/**
 * Requests per minute: a signed-in caller spends their own budget, an anonymous one the budget of
 * their address. In memory by default; in Redis when the router has one, so every replica draws
 * from the same budget (with an in-memory insurance limiter taking over while Redis is down).
 */
export interface RateLimitOptions {
  userPerMinute: number;
  ipPerMinute: number;
  redis?: Redis | null;
  /** Redis key prefix; tests use a unique one. */
  keyPrefix?: string;
}

export type RateLimit = (who: Viewer, clientIp: string) => Promise<void>;

export function createRateLimit(options: RateLimitOptions): RateLimit {
  const prefix = options.keyPrefix ?? 'commerce:rate';
  const limiter = (name: string, points: number): RateLimiterAbstract | null => {
    if (points <= 0) return null;
    const local = new RateLimiterMemory({ keyPrefix: `${prefix}:${name}`, points, duration: 60 });
    if (!options.redis) return local;
    return new RateLimiterRedis({ storeClient: options.redis, keyPrefix: `${prefix}:${name}`, points, duration: 60, insuranceLimiter: local });
  };
  const byUser = limiter('user', options.userPerMinute);
  const byIp = limiter('ip', options.ipPerMinute);

  return async (who, clientIp) => {
    const [bucket, key] = who.userId !== null ? [byUser, `u${who.userId}`] : [byIp, clientIp];
    if (!bucket) return;
    try {
      await bucket.consume(key);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new HttpError(429, ErrorCode.RATE_LIMITED, `Too many requests; try again in ${retryAfterSeconds} s`, {
        headers: { 'retry-after': String(retryAfterSeconds) },
        extensions: { retryAfterSeconds },
      });
    }
  };
}
