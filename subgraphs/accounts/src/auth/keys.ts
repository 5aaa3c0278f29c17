import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, importJWK, type CryptoKey, type JSONWebKeySet, type JWK, type KeyObject as JoseKeyObject } from 'jose';

/**
 * Access tokens are signed with one Ed25519 key (EdDSA). Its public half is published in the JWKS
 * beside the public halves of previous keys that tokens still in circulation may carry, so a key
 * can be replaced without signing anyone out: make the new key current, keep the old public key
 * published for one access-token lifetime, then drop it (README, "Signing in").
 */
export const ALGORITHM = 'EdDSA';

/** What jose signs with: a CryptoKey (ours, imported once) or a Node KeyObject (handy in tests and tools). */
export type PrivateSigningKey = CryptoKey | JoseKeyObject;

export interface SigningKeys {
  /** The `kid` every new token carries in its protected header. */
  kid: string;
  privateKey: PrivateSigningKey;
  /** What `GET /.well-known/jwks.json` serves: the current public key first, then previous ones. */
  publicJwks: JSONWebKeySet;
}

/**
 * An Ed25519 private key from the environment: PKCS#8 PEM (as `openssl genpkey -algorithm ed25519`
 * prints it; `\n` escapes allowed, for env files that hold one line) or a private JWK as JSON.
 * Errors never quote the value.
 */
export function parsePrivateKey(text: string): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    key = trimmed.startsWith('{')
      ? createPrivateKey({ key: JSON.parse(trimmed) as JWK as never, format: 'jwk' })
      : createPrivateKey({ key: trimmed.replaceAll('\\n', '\n'), format: 'pem' });
  } catch {
    throw new Error('is not a PKCS#8 PEM private key or a private JWK (make one with `openssl genpkey -algorithm ed25519`)');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`must be an Ed25519 key (got ${key.asymmetricKeyType ?? 'an unknown type'}; make one with \`openssl genpkey -algorithm ed25519\`)`);
  }
  return key;
}

/**
 * Previous public keys, still accepted during a rotation: a JWKS `{"keys":[…]}` of Ed25519 public
 * JWKs, each with its `kid`. A private key here is refused: this list is published.
 */
export function parsePublicKeySet(text: string): JWK[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('is not JSON (expected a JWKS: {"keys":[…]})');
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('must be a JWKS: {"keys":[…]}');
  return keys.map((candidate: unknown, index) => {
    const jwk = candidate as JWK | null;
    if (typeof jwk !== 'object' || jwk === null) throw new Error(`keys[${index}] is not a JWK`);
    if ('d' in jwk) throw new Error(`keys[${index}] is a private key; list only public keys here`);
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new Error(`keys[${index}] is not an Ed25519 public key (kty OKP, crv Ed25519)`);
    if (typeof jwk.kid !== 'string' || jwk.kid === '') throw new Error(`keys[${index}] has no kid`);
    try {
      createPublicKey({ key: jwk as never, format: 'jwk' });
    } catch {
      throw new Error(`keys[${index}] is not a valid Ed25519 public key`);
    }
    return { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: jwk.kid, alg: ALGORITHM, use: 'sig' };
  });
}

/** A fresh key pair that lives as long as the process: tests, and development without a configured key. */
export function generatePrivateKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}

/**
 * Builds the signing keys. The key id defaults to the key's RFC 7638 thumbprint, so the same key
 * always gets the same id on every replica without configuring one.
 */
export async function signingKeys(privateKey: KeyObject, options: { keyId?: string | undefined; previous?: readonly JWK[] } = {}): Promise<SigningKeys> {
  const { d: _private, ...publicPart } = privateKey.export({ format: 'jwk' }) as JWK;
  const kid = options.keyId ?? (await calculateJwkThumbprint(publicPart));
  const previous = options.previous ?? [];
  const kids = [kid, ...previous.map((jwk) => jwk.kid)];
  const clash = kids.find((id, index) => kids.indexOf(id) !== index);
  if (clash !== undefined) throw new Error(`two published keys have the key id "${clash}"; every key needs its own kid`);
  const current: JWK = { kty: 'OKP', crv: 'Ed25519', x: publicPart.x!, kid, alg: ALGORITHM, use: 'sig' };
  return {
    kid,
    privateKey: (await importJWK(privateKey.export({ format: 'jwk' }) as JWK, ALGORITHM)) as CryptoKey,
    publicJwks: { keys: [current, ...previous] },
  };
}

/** The public JWK of a private key, with its id: what to put in ACCOUNTS_JWT_PREVIOUS_PUBLIC_KEYS when retiring it. */
export async function publicJwkOf(privateKey: KeyObject, keyId?: string): Promise<JWK> {
  const keys = await signingKeys(privateKey, { keyId });
  return keys.publicJwks.keys[0]!;
}
