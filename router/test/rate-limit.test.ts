// The router's per-minute budgets (router/src/rate-limit.ts) on their own, as the README's Limits
// and Configuration sections describe them: a signed-in caller spends their own budget, an
// anonymous one their address's; 0 turns one off; past the budget, 429 RATE_LIMITED with
// Retry-After; and with Redis unreachable, each process keeps limiting in memory.
import { connectRedis, createLogger, HttpError, viewer } from '@commerce/service-kit/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createRateLimit, type RateLimit } from '../src/rate-limit.ts';
import { freePort as closedPort } from '@commerce/service-kit/testing';

const ANONYMOUS = viewer(null);
const ADDRESS = '203.0.113.9';

/** How many of `n` calls get through, and the first refusal. */
async function spend(limit: RateLimit, who: ReturnType<typeof viewer>, address: string, n: number) {
  let passed = 0;
  let refusal: HttpError | undefined;
  for (let i = 0; i < n; i++) {
    try {
      await limit(who, address);
      passed++;
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      refusal ??= error;
    }
  }
  return { passed, refusal };
}

describe('rate limits', () => {
  it('answers 429 RATE_LIMITED with Retry-After once an anonymous address has spent its budget', async () => {
    const limit = createRateLimit({ userPerMinute: 100, ipPerMinute: 3 });
    const { passed, refusal } = await spend(limit, ANONYMOUS, ADDRESS, 5);
    expect(passed).toBe(3);
    expect(refusal).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    const seconds = Number(refusal!.headers['retry-after']);
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(60);
    expect(refusal!.extensions).toEqual({ retryAfterSeconds: seconds });
  });

  it('gives a signed-in caller their own budget, apart from their address’s and other users’', async () => {
    const limit = createRateLimit({ userPerMinute: 2, ipPerMinute: 2 });
    expect((await spend(limit, viewer(7), ADDRESS, 4)).passed).toBe(2);
    // The same address, anonymous: its own budget is untouched by user 7's requests.
    expect((await spend(limit, ANONYMOUS, ADDRESS, 4)).passed).toBe(2);
    // Another user from the same address, and user 7 from another address (the user is the key).
    expect((await spend(limit, viewer(8), ADDRESS, 4)).passed).toBe(2);
    expect((await spend(limit, viewer(7), '198.51.100.7', 1)).passed).toBe(0);
  });

  it('turns a budget off with 0', async () => {
    const limit = createRateLimit({ userPerMinute: 0, ipPerMinute: 0 });
    expect((await spend(limit, viewer(7), ADDRESS, 50)).passed).toBe(50);
    expect((await spend(limit, ANONYMOUS, ADDRESS, 50)).passed).toBe(50);
  });

  describe('with Redis unreachable', () => {
    let redis: ReturnType<typeof connectRedis> | undefined;
    afterAll(() => redis?.disconnect());

    it('keeps limiting in each process’s memory instead of refusing or allowing everyone', async () => {
      const port = await closedPort();
      redis = connectRedis(`redis://127.0.0.1:${port}`, createLogger('rate-limit-test', 'silent'));
      const limit = createRateLimit({ userPerMinute: 100, ipPerMinute: 3, redis, keyPrefix: `rate-limit-test-${process.pid}` });
      const { passed, refusal } = await spend(limit, ANONYMOUS, ADDRESS, 5);
      expect(passed).toBe(3);
      expect(refusal).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    });
  });
});
