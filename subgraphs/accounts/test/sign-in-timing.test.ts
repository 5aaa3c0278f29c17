// "An unknown email takes as long as a wrong password": signIn runs scrypt once whatever happens
// (against a dummy hash when there is no account or no password), so the time of the answer does
// not tell which emails exist. Measured on the real password hashing (about 100–300 ms here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountsHarness, type Query } from './support.ts';

let harness: Awaited<ReturnType<typeof accountsHarness>>['harness'];
let query: Query;

beforeAll(async () => {
  ({ harness, query } = await accountsHarness());
  await harness.client.user.update({ where: { id: 48 }, data: { passwordHash: null } });
});
afterAll(() => harness?.close());

const SIGN_IN = 'mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { accessToken } }';

/** How long one failed sign-in takes (each from its own address, so no address throttle applies). */
let address = 0;
async function timed(email: string): Promise<number> {
  const started = performance.now();
  const result = await query(SIGN_IN, { email, password: 'not the password' }, { ip: `10.9.0.${address++}` });
  const took = performance.now() - started;
  expect(result.errors?.[0]?.message).toBe('Invalid email or password');
  return took;
}
const median = (times: number[]) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;

describe('signIn timing', () => {
  it('takes as long for an unknown email, or an account without a password, as for a wrong password', async () => {
    // Warm up (the first scrypt and the first query of each kind are slower).
    await timed('user9@example.com');
    await timed('nobody0@example.com');
    const wrong: number[] = [];
    const unknown: number[] = [];
    const withoutPassword: number[] = [];
    // Interleaved, so a busy moment of the machine weighs on every kind alike.
    for (let round = 0; round < 4; round++) {
      wrong.push(await timed(`user${20 + round}@example.com`));
      unknown.push(await timed(`nobody${round + 1}@example.com`));
      withoutPassword.push(await timed('user48@example.com'));
    }
    // A shortcut that skipped scrypt would answer in a few milliseconds; scrypt takes about 100 ms.
    expect(median(wrong)).toBeGreaterThan(20);
    expect(median(unknown)).toBeGreaterThan(median(wrong) * 0.3);
    expect(median(withoutPassword)).toBeGreaterThan(median(wrong) * 0.3);
  });
});
