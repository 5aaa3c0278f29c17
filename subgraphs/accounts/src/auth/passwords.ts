import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { badUserInput } from '@commerce/service-kit';

/**
 * Passwords are stored as self-describing scrypt strings, `scrypt$ln=15,r=8,p=1$<salt>$<hash>`
 * (base64url, no padding), so the cost can be raised later: a hash made with older parameters
 * still verifies, and `needsRehash` tells sign-in to store a fresh one.
 *
 * N = 2^15, r = 8, p = 1 needs 32 MiB and one full pass over it per hash (~100 ms on a current
 * server core, ~280 ms on the slow CI machine): memory-hard enough that a GPU or ASIC gets little
 * over a CPU, cheap enough that a burst of sign-ins does not exhaust the libuv pool.
 */
export interface ScryptParams {
  /** log2 of N, the CPU/memory cost. */
  ln: number;
  r: number;
  p: number;
}

export const CURRENT_PARAMS: ScryptParams = { ln: 15, r: 8, p: 1 };

const SALT_BYTES = 16;
const KEY_BYTES = 32;
export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 128;

/**
 * Verified when the email is unknown or the account has no password, so a failure costs the same
 * one scrypt run whether or not the email exists (its password is random and was thrown away).
 */
const DUMMY_HASH = 'scrypt$ln=15,r=8,p=1$J-EMnOHLZQylj2Iw02joMA$PbuYnsLN9Vu26SrAd9f6dgwkwS-znRO1HMLCyBlqwug';

const FORMAT = /^scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{16,})$/;

/**
 * The password a user typed, as it is hashed: NFKC-normalised (NIST SP 800-63B), so the same
 * password typed on two keyboards that compose characters differently still matches.
 */
export function normalizePassword(password: string): string {
  return password.isWellFormed() ? password.normalize('NFKC') : password;
}

/** The sign-up policy: 10 to 128 characters (code points), any characters, well-formed Unicode. */
export function requirePassword(password: string, field: string): string {
  if (!password.isWellFormed()) throw badUserInput(`${field} is not valid Unicode text`, field);
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  if (length < MIN_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
    throw badUserInput(`${field} must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters, got ${length}`, field);
  }
  return normalized;
}

export async function hashPassword(password: string, params: ScryptParams = CURRENT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(normalizePassword(password), salt, params, KEY_BYTES);
  return `scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/**
 * True when `password` matches `stored`. With `stored` null (unknown email, account without a
 * password) it still runs one scrypt against a dummy hash and answers false, so the time taken
 * does not tell which emails exist. A malformed stored string is a non-match, never an exception.
 */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const parsed = stored === null ? null : parseHash(stored);
  const target = parsed ?? DUMMY;
  const key = await derive(normalizePassword(password), target.salt, target.params, target.key.length);
  return timingSafeEqual(key, target.key) && parsed !== null;
}

/** True when a stored hash was made with other parameters than the current ones. */
export function needsRehash(stored: string): boolean {
  const parsed = parseHash(stored);
  return !parsed || parsed.params.ln !== CURRENT_PARAMS.ln || parsed.params.r !== CURRENT_PARAMS.r || parsed.params.p !== CURRENT_PARAMS.p;
}

interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

const DUMMY = parseHash(DUMMY_HASH)!;

function parseHash(stored: string): ParsedHash | null {
  const match = FORMAT.exec(stored);
  if (!match) return null;
  const [, ln, r, p, salt, key] = match;
  const params = { ln: Number(ln), r: Number(r), p: Number(p) };
  // Bounds keep a corrupted or hostile row from asking for gigabytes or minutes of work.
  if (params.ln < 10 || params.ln > 20 || params.r < 1 || params.r > 32 || params.p < 1 || params.p > 16) return null;
  return { params, salt: Buffer.from(salt!, 'base64url'), key: Buffer.from(key!, 'base64url') };
}

function derive(password: string, salt: Buffer, params: ScryptParams, length: number): Promise<Buffer> {
  const N = 2 ** params.ln;
  // Node refuses more than 32 MiB by default; scrypt needs 128·N·r bytes plus a little.
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 128 * N * params.r + 16 * 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}
