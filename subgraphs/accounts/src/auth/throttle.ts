import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { SubgraphRuntime } from '@commerce/service-kit';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/**
 * Budgets of failed sign-in attempts: per email (stops guessing one account's password from many
 * addresses) and per client address (stops trying one common password against many accounts).
 * Counted in Redis when there is one, so every replica shares the budgets; each Redis limiter has an
 * in-memory "insurance" limiter that takes over while Redis is unreachable, so an outage weakens the
 * throttle to per-process budgets instead of locking everyone out or letting everyone through.
 */
export interface ThrottleLimits {
  failuresPerEmail: number;
  failuresPerIp: number;
  /** The fixed window, in seconds, counted from an email's or address's first failure. */
  windowSeconds: number;
}

export const DEFAULT_THROTTLE_LIMITS: ThrottleLimits = { failuresPerEmail: 5, failuresPerIp: 50, windowSeconds: 15 * 60 };

export type Attempt =
  | { allowed: false; retryAfterSeconds: number }
  /** Allowed, and already counted as a failure; `succeeded` takes that back. */
  | { allowed: true; succeeded(): Promise<void> };

export interface SignInThrottle {
  /**
   * Call before checking a password. The attempt is counted as a failure up front, so concurrent
   * guesses cannot all slip in before the first one is counted; a sign-in that succeeds clears the
   * email's count and gives the address its attempt back.
   */
  begin(email: string, clientIp: string | null): Promise<Attempt>;
}

export interface ThrottleOptions {
  limits?: ThrottleLimits;
  /** Shared budgets across replicas; null/undefined: this process's memory only. */
  redis?: SubgraphRuntime['redis'] | undefined;
  /** Prefix of the Redis keys (tests use a unique one per run). */
  keyPrefix?: string;
}

export function createSignInThrottle({ limits = DEFAULT_THROTTLE_LIMITS, redis, keyPrefix = 'commerce:accounts:signin-failures' }: ThrottleOptions = {}): SignInThrottle {
  const limiter = (name: string, points: number): RateLimiterAbstract => {
    const options = { keyPrefix: `${keyPrefix}:${name}`, points, duration: limits.windowSeconds };
    const memory = new RateLimiterMemory(options);
    if (!redis) return memory;
    // rejectIfRedisNotReady: while Redis reconnects, go straight to memory instead of waiting on it.
    return new RateLimiterRedis({ ...options, storeClient: redis, insuranceLimiter: memory, rejectIfRedisNotReady: true });
  };
  const byEmail = limiter('email', limits.failuresPerEmail);
  const byIp = limiter('ip', limits.failuresPerIp);

  return {
    async begin(email, clientIp) {
      const emailKey = emailBucket(email);
      // No address (the router did not say): skip that budget rather than pool every such caller in one.
      const ipKey = clientIp === null ? null : ipBucket(clientIp);
      // The address first: an address over its budget does not get to spend the email's.
      if (ipKey !== null) {
        const refused = await spend(byIp, ipKey);
        if (refused) return refused;
      }
      const refused = await spend(byEmail, emailKey);
      if (refused) {
        // Refused without a password check: not a failure of this address.
        if (ipKey !== null) await byIp.reward(ipKey);
        return refused;
      }
      return {
        allowed: true,
        async succeeded() {
          await byEmail.delete(emailKey);
          if (ipKey !== null) await byIp.reward(ipKey);
        },
      };
    },
  };
}

/** Consumes one point; the refusal when the budget is spent, null when allowed. */
async function spend(limiter: RateLimiterAbstract, key: string): Promise<{ allowed: false; retryAfterSeconds: number } | null> {
  try {
    await limiter.consume(key);
    return null;
  } catch (rejection) {
    // A RateLimiterRes means "over budget"; anything else is a store failure the insurance could not cover.
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
  }
}

/**
 * The email's bucket: a hash of the lower-cased address, so Redis never holds the addresses people
 * try, and unknown emails are counted exactly like known ones (a refusal reveals nothing).
 */
export function emailBucket(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase()).digest('base64url');
}

/**
 * The address's bucket. IPv6: the /64 prefix, because one subscriber usually holds a whole /64 and
 * could otherwise take a fresh address per attempt. IPv4-mapped IPv6 counts as the IPv4 address.
 */
export function ipBucket(ip: string): string {
  const address = ip.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIPv4(address)) return address;
  if (isIPv6(address)) return `${ipv6Groups(address).slice(0, 4).join(':')}::/64`;
  return `other:${address.slice(0, 100)}`;
}

/** The eight 16-bit groups of an IPv6 address, `::` expanded, as lower-case hex without leading zeros. */
function ipv6Groups(address: string): string[] {
  const parse = (part: string) => (part === '' ? [] : part.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group])));
  const gap = address.indexOf('::');
  const head = parse(gap === -1 ? address : address.slice(0, gap));
  const tail = gap === -1 ? [] : parse(address.slice(gap + 2));
  const groups = gap === -1 ? head : [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  return groups.map((group) => parseInt(group, 16).toString(16));
}
