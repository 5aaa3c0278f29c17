import { createHash } from 'node:crypto';
import { connectRedis, createLogger, startSubgraph, type RunningSubgraph } from '@commerce/service-kit';
import { errorCodes, subgraphHarness, type SubgraphHarness } from '@commerce/service-kit/testing';
import { errors as joseErrors } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../src/auth/passwords.ts';
import { pruneSessions } from '../src/auth/sessions.ts';
import { createSignInThrottle, DEFAULT_THROTTLE_LIMITS, ipBucket } from '../src/auth/throttle.ts';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import {
  createAccounts,
  DEVELOPMENT_PASSWORD,
  issueAccessToken,
  JWKS_PATH,
  testAccountsConfig,
  type AccountsConfig,
} from '../src/server.ts';
import { accountsHarness, recordingLogger, serve, verifyAccessToken, type Query } from './support.ts';

let harness: SubgraphHarness<PrismaClient>;
let config: AccountsConfig;
let query: Query;

beforeAll(async () => {
  ({ harness, config, query } = await accountsHarness());
});
afterAll(() => harness?.close());

const SIGN_IN = `mutation($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { accessToken tokenType expiresIn refreshToken user { id name email } }
}`;
const REFRESH = `mutation($token: String!) { refreshSession(refreshToken: $token) { accessToken refreshToken user { id } } }`;
const SIGN_OUT = `mutation($token: String!) { signOut(refreshToken: $token) { signedOut } }`;

/** Signs in and returns the payload; fails the test on any error. */
async function signIn(email: string, password = DEVELOPMENT_PASSWORD, ip = '10.0.0.1', on: Query = query) {
  const result = await on(SIGN_IN, { email, password }, { ip });
  expect(result.errors).toBeUndefined();
  return result.data!.signIn as { accessToken: string; refreshToken: string; expiresIn: number; user: { id: string; name: string; email: string } };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

describe('signIn', () => {
  it('signs the seeded admin in with the development password and gives the admin scope', async () => {
    const payload = await signIn('user1@example.com');
    expect(payload.user).toEqual({ id: '1', name: 'Ada Lovelace', email: 'user1@example.com' });
    expect(payload.expiresIn).toBe(900);
    const { payload: claims } = await verifyAccessToken(payload.accessToken, config.publicJwks, config);
    expect(claims).toMatchObject({ iss: 'commerce-accounts', aud: 'commerce-supergraph', sub: '1', scope: 'admin' });
    expect(claims.exp! - claims.iat!).toBe(900);
  });

  it('gives a seeded customer no scope, and takes the email in any case', async () => {
    const payload = await signIn('  USER2@Example.com ');
    expect(payload.user.id).toBe('2');
    const { payload: claims } = await verifyAccessToken(payload.accessToken, config.publicJwks, config);
    expect(claims).toMatchObject({ sub: '2', scope: '' });
  });

  it('issues a different access token and refresh token on every sign-in', async () => {
    const [a, b] = [await signIn('user5@example.com'), await signIn('user5@example.com')];
    expect(a.accessToken).not.toBe(b.accessToken);
    expect(a.refreshToken).not.toBe(b.refreshToken);
    expect(await harness.client.session.count({ where: { userId: 5 } })).toBe(2);
  });

  it.each([
    ['a wrong password', 'user6@example.com', 'not the password'],
    ['an unknown email', 'nobody@example.com', DEVELOPMENT_PASSWORD],
    ['a malformed email', 'not an email', DEVELOPMENT_PASSWORD],
    ['an empty password', 'user6@example.com', ''],
  ])('refuses %s with UNAUTHENTICATED and one generic message', async (_case, email, password) => {
    const result = await query(SIGN_IN, { email, password }, { ip: '10.0.0.2' });
    expect(result.data).toBeNull();
    expect(result.errors).toEqual([
      { message: 'Invalid email or password', path: ['signIn'], locations: expect.any(Array), extensions: { code: 'UNAUTHENTICATED' } },
    ]);
  });

  it('refuses an account without a password, like a wrong one', async () => {
    await harness.client.user.update({ where: { id: 49 }, data: { passwordHash: null } });
    const result = await query(SIGN_IN, { email: 'user49@example.com', password: DEVELOPMENT_PASSWORD }, { ip: '10.0.0.2' });
    expect(errorCodes(result)).toEqual(['UNAUTHENTICATED']);
    expect(result.errors?.[0]?.message).toBe('Invalid email or password');
  });

  it('stores seeded passwords as scrypt strings', async () => {
    const user = await harness.client.user.findUniqueOrThrow({ where: { id: 2 } });
    expect(user.passwordHash).toMatch(/^scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(user.passwordHash).not.toContain(DEVELOPMENT_PASSWORD);
  });

  it('seeds no passwords when the configuration says production', async () => {
    const production = await subgraphHarness(createAccounts({ ...config, seedDevelopmentPasswords: false }));
    try {
      expect(await production.client.user.count({ where: { passwordHash: { not: null } } })).toBe(0);
      const on = await serve(config, production);
      expect(errorCodes(await on(SIGN_IN, { email: 'user1@example.com', password: DEVELOPMENT_PASSWORD }))).toEqual(['UNAUTHENTICATED']);
    } finally {
      await production.close();
    }
  });

  it('upgrades a hash made with older parameters when its owner signs in', async () => {
    await harness.client.user.update({ where: { id: 30 }, data: { passwordHash: await hashPassword(DEVELOPMENT_PASSWORD, { ln: 10, r: 8, p: 1 }) } });
    await signIn('user30@example.com');
    const { passwordHash } = await harness.client.user.findUniqueOrThrow({ where: { id: 30 } });
    expect(passwordHash).toMatch(/^scrypt\$ln=15,r=8,p=1\$/);
    expect(await verifyPassword(DEVELOPMENT_PASSWORD, passwordHash)).toBe(true);
  });

  it('makes user 1 the only seeded admin', async () => {
    expect(await harness.client.user.findMany({ where: { role: 'admin' }, select: { id: true } })).toEqual([{ id: 1 }]);
  });
});

describe('refreshSession', () => {
  it('rotates: each refresh token works once and gives a new pair', async () => {
    const first = await signIn('user7@example.com');
    const second = await query(REFRESH, { token: first.refreshToken });
    expect(second.errors).toBeUndefined();
    expect(second.data?.refreshSession.user).toEqual({ id: '7' });
    expect(second.data?.refreshSession.refreshToken).not.toBe(first.refreshToken);
    const { payload } = await verifyAccessToken(second.data?.refreshSession.accessToken, config.publicJwks, config);
    expect(payload.sub).toBe('7');
    const third = await query(REFRESH, { token: second.data?.refreshSession.refreshToken });
    expect(third.errors).toBeUndefined();
  });

  it('revokes the whole session when a used refresh token comes back: the newest token stops working too', async () => {
    const logger = recordingLogger();
    const watched = await serve({ ...config, logger }, harness);
    const first = await signIn('user8@example.com');
    const second = (await watched(REFRESH, { token: first.refreshToken })).data?.refreshSession;

    const replay = await watched(REFRESH, { token: first.refreshToken }, { ip: '203.0.113.9' });
    expect(errorCodes(replay)).toEqual(['UNAUTHENTICATED']);
    expect(replay.errors?.[0]?.message).toBe('Invalid or expired refresh token; sign in again');

    const newest = await watched(REFRESH, { token: second.refreshToken });
    expect(errorCodes(newest)).toEqual(['UNAUTHENTICATED']);
    const session = await harness.client.session.findFirstOrThrow({ where: { userId: 8 } });
    expect(session.revokedReason).toBe('reuse_detected');
    expect(session.revokedAt).toBeInstanceOf(Date);
    expect(logger.lines).toEqual([
      {
        level: 'warn',
        message: 'a used refresh token was presented again: its session is revoked',
        fields: { sessionId: session.id, userId: 8, clientIp: '203.0.113.9' },
      },
    ]);
    // Never a token in a log line.
    expect(JSON.stringify(logger.lines)).not.toContain(first.refreshToken);
  });

  it('lets exactly one of two concurrent refreshes with one token succeed', async () => {
    const { refreshToken } = await signIn('user9@example.com');
    const results = await Promise.all([query(REFRESH, { token: refreshToken }), query(REFRESH, { token: refreshToken })]);
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.flatMap(errorCodes)).toEqual(['UNAUTHENTICATED']);
  });

  it.each([
    ['an unknown token', 'A'.repeat(43)],
    ['a malformed token', 'not a token'],
    ['an empty token', ''],
  ])('refuses %s with the same generic UNAUTHENTICATED', async (_case, token) => {
    const result = await query(REFRESH, { token });
    expect(errorCodes(result)).toEqual(['UNAUTHENTICATED']);
    expect(result.errors?.[0]?.message).toBe('Invalid or expired refresh token; sign in again');
  });

  it('refuses an expired refresh token without revoking the session', async () => {
    let now = new Date();
    const clocked = await serve({ ...config, now: () => now }, harness);
    const { refreshToken } = await signIn('user10@example.com', DEVELOPMENT_PASSWORD, '10.0.0.1', clocked);
    now = new Date(now.getTime() + config.refreshTokenTtlSeconds * 1000 + 1000);
    const result = await clocked(REFRESH, { token: refreshToken });
    expect(errorCodes(result)).toEqual(['UNAUTHENTICATED']);
    expect(result.errors?.[0]?.message).toBe('Invalid or expired refresh token; sign in again');
    expect((await harness.client.session.findFirstOrThrow({ where: { userId: 10 } })).revokedAt).toBeNull();
  });

  it('ends a session at its maximum age however often it is refreshed: its last token expires with it, and a refresh after is refused without a revocation', async () => {
    const start = new Date();
    let now = start;
    const clocked = await serve({ ...config, sessionMaxAgeSeconds: 3_600, now: () => now }, harness);
    const { refreshToken } = await signIn('user41@example.com', DEVELOPMENT_PASSWORD, '10.0.0.1', clocked);
    const sessionEnd = start.getTime() + 3_600_000;
    expect((await harness.client.refreshToken.findUniqueOrThrow({ where: { tokenHash: sha256(refreshToken) } })).expiresAt.getTime()).toBe(sessionEnd);
    now = new Date(start.getTime() + 30 * 60_000);
    const refreshed = (await clocked(REFRESH, { token: refreshToken })).data?.refreshSession as { refreshToken: string };
    // Its own lifetime would be 30 days: it ends with the session instead.
    expect((await harness.client.refreshToken.findUniqueOrThrow({ where: { tokenHash: sha256(refreshed.refreshToken) } })).expiresAt.getTime()).toBe(sessionEnd);
    // A token that outlives its session (the maximum age lowered since it was issued) is refused too.
    await harness.client.refreshToken.update({ where: { tokenHash: sha256(refreshed.refreshToken) }, data: { expiresAt: new Date(sessionEnd + 86_400_000) } });
    now = new Date(sessionEnd + 1_000);
    const late = await clocked(REFRESH, { token: refreshed.refreshToken });
    expect(errorCodes(late)).toEqual(['UNAUTHENTICATED']);
    expect(late.errors?.[0]?.message).toBe('Invalid or expired refresh token; sign in again');
    expect((await harness.client.session.findFirstOrThrow({ where: { userId: 41 } })).revokedAt).toBeNull();
  });

  it('reads the role again: a user made admin gets the scope at the next refresh', async () => {
    const { refreshToken } = await signIn('user11@example.com');
    await harness.client.user.update({ where: { id: 11 }, data: { role: 'admin' } });
    const result = await query(REFRESH, { token: refreshToken });
    const { payload } = await verifyAccessToken(result.data?.refreshSession.accessToken, config.publicJwks, config);
    expect(payload.scope).toBe('admin');
  });

  it('stores refresh tokens only as SHA-256 hashes', async () => {
    const { refreshToken } = await signIn('user12@example.com');
    const rows = await harness.client.$queryRaw<Record<string, unknown>[]>`SELECT * FROM refresh_tokens`;
    const dump = JSON.stringify(rows, (_key, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value));
    expect(dump).not.toContain(refreshToken);
    expect(dump).not.toContain(Buffer.from(refreshToken).toString('hex'));
    const hashes = rows.map((row) => Buffer.from(row.token_hash as Uint8Array).toString('hex'));
    expect(hashes).toContain(sha256(refreshToken).toString('hex'));
    expect(new Set(hashes.map((hash) => hash.length))).toEqual(new Set([64]));
  });
});

describe('pruning sessions', () => {
  const DAY = 86_400_000;
  /** Signs in and back-dates the new session and its token: created `createdDaysAgo`, the token expiring `expiredDaysAgo`. */
  async function sessionOf(userId: number, { createdDaysAgo, expiredDaysAgo }: { createdDaysAgo: number; expiredDaysAgo: number }) {
    const { refreshToken } = await signIn(`user${userId}@example.com`);
    const session = await harness.client.session.findFirstOrThrow({ where: { userId }, orderBy: { createdAt: 'desc' } });
    await harness.client.session.update({ where: { id: session.id }, data: { createdAt: new Date(Date.now() - createdDaysAgo * DAY) } });
    await harness.client.refreshToken.updateMany({ where: { sessionId: session.id }, data: { expiresAt: new Date(Date.now() - expiredDaysAgo * DAY) } });
    return { id: session.id, refreshToken };
  }
  const sessionExists = async (id: string) => (await harness.client.session.count({ where: { id } })) === 1;
  const tokensOf = (sessionId: string) => harness.client.refreshToken.count({ where: { sessionId } });

  it('forgets tokens expired more than 30 days ago and sessions left without any, or ended more than 30 days ago; keeps the rest', async () => {
    const lapsed = await sessionOf(32, { createdDaysAgo: 62, expiredDaysAgo: 31 });
    const recentlyLapsed = await sessionOf(33, { createdDaysAgo: 59, expiredDaysAgo: 29 });
    const ended = await sessionOf(34, { createdDaysAgo: 40, expiredDaysAgo: -20 });
    await harness.client.session.update({ where: { id: ended.id }, data: { revokedAt: new Date(Date.now() - 31 * DAY), revokedReason: 'sign_out' } });
    const recentlyEnded = await sessionOf(35, { createdDaysAgo: 40, expiredDaysAgo: -20 });
    await harness.client.session.update({ where: { id: recentlyEnded.id }, data: { revokedAt: new Date(Date.now() - 29 * DAY), revokedReason: 'sign_out' } });

    // The lapsed token and session, the ended session (its token goes with it, not counted).
    expect(await pruneSessions(harness.client, config)).toBe(3);
    expect(await sessionExists(lapsed.id)).toBe(false);
    expect(await sessionExists(ended.id)).toBe(false);
    expect(await tokensOf(ended.id)).toBe(0);
    expect(await sessionExists(recentlyLapsed.id)).toBe(true);
    expect(await tokensOf(recentlyLapsed.id)).toBe(1);
    expect(await sessionExists(recentlyEnded.id)).toBe(true);
  });

  it('keeps an open session and its current token while its old used tokens go; a pruned token is then unknown and ends nothing', async () => {
    const first = await signIn('user36@example.com');
    const second = (await query(REFRESH, { token: first.refreshToken })).data?.refreshSession as { refreshToken: string };
    const session = await harness.client.session.findFirstOrThrow({ where: { userId: 36 } });
    await harness.client.refreshToken.update({ where: { tokenHash: sha256(first.refreshToken) }, data: { expiresAt: new Date(Date.now() - 31 * DAY) } });
    await harness.client.session.update({ where: { id: session.id }, data: { createdAt: new Date(Date.now() - 62 * DAY) } });

    await pruneSessions(harness.client, config);
    expect(await sessionExists(session.id)).toBe(true);
    expect(await tokensOf(session.id)).toBe(1);
    // Within the retention it would have ended the session (reuse); pruned, it is just unknown.
    expect(errorCodes(await query(REFRESH, { token: first.refreshToken }))).toEqual(['UNAUTHENTICATED']);
    expect((await query(REFRESH, { token: second.refreshToken })).errors).toBeUndefined();
  });

  it('deletes in bounded batches', async () => {
    const lapsed = await Promise.all([37, 38, 39].map((userId) => sessionOf(userId, { createdDaysAgo: 62, expiredDaysAgo: 31 })));
    // One batch of one: one token and one session (the first token's session has none left).
    expect(await pruneSessions(harness.client, config, { batchSize: 1, maxBatches: 1 })).toBe(2);
    expect(await pruneSessions(harness.client, config)).toBe(4);
    for (const { id } of lapsed) expect(await sessionExists(id)).toBe(false);
  });

  it('runs in every running accounts process: at start, then hourly', async () => {
    const lapsed = await sessionOf(40, { createdDaysAgo: 62, expiredDaysAgo: 31 });
    const running = await startSubgraph(createAccounts(config), {
      database: harness.database,
      signingSecret: 'a-test-signing-secret-of-32-chars!!',
      logger: createLogger('accounts', 'silent'),
    });
    try {
      for (const deadline = Date.now() + 5_000; (await sessionExists(lapsed.id)) && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await sessionExists(lapsed.id)).toBe(false);
      expect(createAccounts(config).housekeeping?.map((task) => [task.name, task.everyMs])).toEqual([['session prune', 3_600_000]]);
    } finally {
      await running.stop();
    }
  });
});

describe('signOut', () => {
  it('ends the session: its refresh token stops working; a second sign-out says false', async () => {
    const { refreshToken } = await signIn('user13@example.com');
    expect((await query(SIGN_OUT, { token: refreshToken })).data).toEqual({ signOut: { signedOut: true } });
    expect(errorCodes(await query(REFRESH, { token: refreshToken }))).toEqual(['UNAUTHENTICATED']);
    expect((await query(SIGN_OUT, { token: refreshToken })).data).toEqual({ signOut: { signedOut: false } });
    const session = await harness.client.session.findFirstOrThrow({ where: { userId: 13 } });
    expect(session.revokedReason).toBe('sign_out');
  });

  it('works with any token of the session, and ends only that session', async () => {
    const phone = await signIn('user14@example.com');
    const laptop = await signIn('user14@example.com');
    const rotated = (await query(REFRESH, { token: phone.refreshToken })).data?.refreshSession.refreshToken as string;
    // The phone's first (already used) token still names its session.
    expect((await query(SIGN_OUT, { token: phone.refreshToken })).data).toEqual({ signOut: { signedOut: true } });
    expect(errorCodes(await query(REFRESH, { token: rotated }))).toEqual(['UNAUTHENTICATED']);
    expect((await query(REFRESH, { token: laptop.refreshToken })).errors).toBeUndefined();
  });

  it('says false for an unknown or malformed token', async () => {
    expect((await query(SIGN_OUT, { token: 'B'.repeat(43) })).data).toEqual({ signOut: { signedOut: false } });
    expect((await query(SIGN_OUT, { token: 'nope' })).data).toEqual({ signOut: { signedOut: false } });
  });
});

describe('throttle on failed sign-ins', () => {
  /** A fresh throttle (a fresh config) on the shared database. */
  async function throttled(limits = DEFAULT_THROTTLE_LIMITS) {
    const fresh = await testAccountsConfig({ throttleLimits: limits });
    return serve(fresh, harness);
  }

  it('refuses the 6th attempt for an email with RATE_LIMITED, even with the right password, without checking it', async () => {
    const on = await throttled();
    for (let i = 0; i < 5; i++) {
      const result = await on(SIGN_IN, { email: 'user20@example.com', password: `wrong ${i}` }, { ip: `192.0.2.${i + 1}` });
      expect(errorCodes(result)).toEqual(['UNAUTHENTICATED']);
    }
    const { result, statements } = await harness.countStatements(() =>
      on(SIGN_IN, { email: 'USER20@example.com', password: DEVELOPMENT_PASSWORD }, { ip: '192.0.2.99' }),
    );
    expect(errorCodes(result)).toEqual(['RATE_LIMITED']);
    expect(result.errors?.[0]?.message).toBe('Too many failed sign-in attempts; try again later');
    const retryAfter = result.errors?.[0]?.extensions?.retryAfterSeconds as number;
    expect(retryAfter).toBeGreaterThan(890);
    expect(retryAfter).toBeLessThanOrEqual(900);
    // Refused before the user is even looked up.
    expect(statements).toBe(0);

    // Another email from another address is not affected.
    const other = await on(SIGN_IN, { email: 'user21@example.com', password: DEVELOPMENT_PASSWORD }, { ip: '198.51.100.7' });
    expect(other.errors).toBeUndefined();
  });

  it('counts unknown emails like known ones', async () => {
    const on = await throttled({ failuresPerEmail: 2, failuresPerIp: 50, windowSeconds: 60 });
    for (let i = 0; i < 2; i++) await on(SIGN_IN, { email: 'ghost@example.com', password: 'whatever it is' });
    expect(errorCodes(await on(SIGN_IN, { email: 'ghost@example.com', password: 'whatever it is' }))).toEqual(['RATE_LIMITED']);
  });

  it('clears an email’s failures when it signs in successfully', async () => {
    const on = await throttled({ failuresPerEmail: 2, failuresPerIp: 50, windowSeconds: 60 });
    await on(SIGN_IN, { email: 'user22@example.com', password: 'wrong password' });
    await on(SIGN_IN, { email: 'user22@example.com', password: 'wrong password' });
    // Budget spent: now refused…
    expect(errorCodes(await on(SIGN_IN, { email: 'user22@example.com', password: DEVELOPMENT_PASSWORD }))).toEqual(['RATE_LIMITED']);
    // …so check the reset on a fresh throttle: one failure, a success, then two failures are allowed again.
    const again = await throttled({ failuresPerEmail: 2, failuresPerIp: 50, windowSeconds: 60 });
    expect(errorCodes(await again(SIGN_IN, { email: 'user22@example.com', password: 'wrong password' }))).toEqual(['UNAUTHENTICATED']);
    expect((await again(SIGN_IN, { email: 'user22@example.com', password: DEVELOPMENT_PASSWORD })).errors).toBeUndefined();
    expect(errorCodes(await again(SIGN_IN, { email: 'user22@example.com', password: 'wrong password' }))).toEqual(['UNAUTHENTICATED']);
    expect(errorCodes(await again(SIGN_IN, { email: 'user22@example.com', password: 'wrong password' }))).toEqual(['UNAUTHENTICATED']);
    expect(errorCodes(await again(SIGN_IN, { email: 'user22@example.com', password: DEVELOPMENT_PASSWORD }))).toEqual(['RATE_LIMITED']);
  });

  it('refuses an address over its budget, across emails, while other addresses still sign in', async () => {
    const on = await throttled({ failuresPerEmail: 5, failuresPerIp: 3, windowSeconds: 60 });
    for (const n of [23, 24, 25]) {
      expect(errorCodes(await on(SIGN_IN, { email: `user${n}@example.com`, password: 'password123' }, { ip: '203.0.113.50' }))).toEqual(['UNAUTHENTICATED']);
    }
    const blocked = await on(SIGN_IN, { email: 'user26@example.com', password: DEVELOPMENT_PASSWORD }, { ip: '203.0.113.50' });
    expect(errorCodes(blocked)).toEqual(['RATE_LIMITED']);
    expect(blocked.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    // The email's own budget was not spent by the refusal: it signs in from elsewhere.
    expect((await on(SIGN_IN, { email: 'user26@example.com', password: DEVELOPMENT_PASSWORD }, { ip: '203.0.113.51' })).errors).toBeUndefined();
  });

  it('gives successful sign-ins back to the address (an office behind one address is not locked out)', async () => {
    const on = await throttled({ failuresPerEmail: 5, failuresPerIp: 2, windowSeconds: 60 });
    for (const n of [27, 28, 29]) {
      expect((await on(SIGN_IN, { email: `user${n}@example.com`, password: DEVELOPMENT_PASSWORD }, { ip: '203.0.113.60' })).errors).toBeUndefined();
    }
  });

  it('treats an IPv6 /64 as one address, and IPv4-mapped IPv6 as IPv4', () => {
    expect(ipBucket('2001:db8:1:2:aaaa::1')).toBe(ipBucket('2001:0db8:0001:0002:bbbb:cccc:dddd:eeee'));
    expect(ipBucket('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(ipBucket('2001:db8:1:3::1')).not.toBe(ipBucket('2001:db8:1:2::1'));
    expect(ipBucket('::1')).toBe('0:0:0:0::/64');
    expect(ipBucket('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(ipBucket('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(ipBucket('192.0.2.1')).toBe('192.0.2.1');
  });

  it('defaults to 5 failures per email and 50 per address in 15 minutes', () => {
    expect(DEFAULT_THROTTLE_LIMITS).toEqual({ failuresPerEmail: 5, failuresPerIp: 50, windowSeconds: 900 });
  });

  const redisUrl = process.env.TEST_REDIS_URL;
  if (!redisUrl) console.warn('auth.test.ts: TEST_REDIS_URL is not set; the shared-budget (Redis) throttle tests are skipped');

  it.skipIf(!redisUrl)('shares one budget between replicas through Redis', async () => {
    const logger = createLogger('accounts', 'silent');
    const [a, b] = [connectRedis(redisUrl!, logger), connectRedis(redisUrl!, logger)];
    const keyPrefix = `test:${process.pid}:${Date.now()}:signin-failures`;
    try {
      // Commands fail at once while disconnected (no offline queue): wait until both are connected.
      await Promise.all([a, b].map((redis) => (redis.status === 'ready' ? undefined : new Promise((resolve) => redis.once('ready', resolve)))));
      const limits = { failuresPerEmail: 5, failuresPerIp: 100, windowSeconds: 60 };
      const replicaA = createSignInThrottle({ limits, redis: a, keyPrefix });
      const replicaB = createSignInThrottle({ limits, redis: b, keyPrefix });
      for (let i = 0; i < 3; i++) expect((await replicaA.begin('shared@example.com', '10.1.1.1')).allowed).toBe(true);
      for (let i = 0; i < 2; i++) expect((await replicaB.begin('shared@example.com', '10.1.1.2')).allowed).toBe(true);
      expect(await replicaA.begin('shared@example.com', '10.1.1.3')).toEqual({ allowed: false, retryAfterSeconds: expect.any(Number) });
      expect((await replicaB.begin('Shared@Example.com', '10.1.1.4')).allowed).toBe(false);
      // The keys hold a hash of the email, never the address itself.
      const keys = await a.keys(`${keyPrefix}:*`);
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.join(' ')).not.toContain('shared@example.com');
    } finally {
      const keys = await a.keys(`${keyPrefix}:*`).catch(() => []);
      if (keys.length > 0) await a.del(...keys);
      a.disconnect();
      b.disconnect();
    }
  });

  it('keeps throttling in memory while Redis is unreachable', async () => {
    // Nothing listens on port 1: every Redis command fails at once and the insurance limiter counts.
    const redis = connectRedis('redis://127.0.0.1:1', createLogger('accounts', 'silent'));
    try {
      const throttle = createSignInThrottle({ limits: { failuresPerEmail: 2, failuresPerIp: 100, windowSeconds: 60 }, redis, keyPrefix: 'test:unreachable' });
      expect((await throttle.begin('down@example.com', '10.2.2.2')).allowed).toBe(true);
      expect((await throttle.begin('down@example.com', '10.2.2.2')).allowed).toBe(true);
      expect((await throttle.begin('down@example.com', '10.2.2.2')).allowed).toBe(false);
      expect((await throttle.begin('other@example.com', '10.2.2.3')).allowed).toBe(true);
    } finally {
      redis.disconnect();
    }
  });
});

describe('keys and the JWKS', () => {
  let running: RunningSubgraph<PrismaClient>;
  let rotated: AccountsConfig;
  let retired: AccountsConfig;

  beforeAll(async () => {
    // A rotation in progress: `retired` signed tokens until now; `rotated` signs from now on and
    // still publishes the retired public key.
    retired = await testAccountsConfig();
    rotated = await testAccountsConfig({ previousPublicKeys: [retired.publicJwks.keys[0]!] });
    running = await startSubgraph(createAccounts(rotated), {
      database: harness.database,
      signingSecret: 'a-test-signing-secret-of-32-chars!!',
      logger: createLogger('accounts', 'silent'),
    });
  });
  afterAll(() => running?.stop());

  it('serves the current and previous public keys at /.well-known/jwks.json, cacheable for 5 minutes', async () => {
    const response = await fetch(new URL(JWKS_PATH, running.url));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const jwks = (await response.json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys.map((key) => key.kid)).toEqual([rotated.kid, retired.kid]);
    for (const key of jwks.keys) {
      expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
      expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    }
    // The key id is the key's RFC 7638 thumbprint: 43 base64url characters.
    expect(rotated.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('lets verifiers accept tokens of the current and the retired key, and nothing else', async () => {
    const jwks = (await (await fetch(new URL(JWKS_PATH, running.url))).json()) as AccountsConfig['publicJwks'];
    const current = await issueAccessToken(rotated, { userId: 2, scopes: [] });
    const old = await issueAccessToken(retired, { userId: 3, scopes: ['admin'] });
    expect((await verifyAccessToken(current.token, jwks, rotated)).payload.sub).toBe('2');
    expect((await verifyAccessToken(old.token, jwks, rotated)).payload).toMatchObject({ sub: '3', scope: 'admin' });

    const stranger = await testAccountsConfig();
    const forged = await issueAccessToken(stranger, { userId: 1, scopes: ['admin'] });
    await expect(verifyAccessToken(forged.token, jwks, rotated)).rejects.toBeInstanceOf(joseErrors.JWKSNoMatchingKey);
  });

  it('mints expired tokens for tests, which verifiers refuse', async () => {
    const expired = await issueAccessToken(config, { userId: 2, scopes: [] }, { issuedAt: new Date(Date.now() - 3_600_000), expiresInSeconds: 900 });
    expect(expired.expiresIn).toBe(900);
    await expect(verifyAccessToken(expired.token, config.publicJwks, config)).rejects.toBeInstanceOf(joseErrors.JWTExpired);
  });

  it('still answers GraphQL only to the router', async () => {
    const response = await fetch(running.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ me { id } }' }) });
    expect(response.status).toBe(401);
  });
});
