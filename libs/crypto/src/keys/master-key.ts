import { assertBytes, fromBase64 } from '@merklesync/merkle';
import { getCryptoBackend } from '../backend/index.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';

/** Length of every master key, data key and commitment key: 32 bytes (256 bits). */
export const MASTER_KEY_BYTES = 32;

/** A source of randomness: n cryptographically secure random bytes (injectable for deterministic tests). */
export type RandomSource = (n: number) => Uint8Array;

/** The platform CSPRNG of the crypto backend. */
export const defaultRandom: RandomSource = (n) => getCryptoBackend().randomBytes(n);

/**
 * A fresh random 32-byte master key.
 * @throws RangeError when `random` returns the wrong number of bytes.
 * @example const key = generateMasterKey();
 */
export function generateMasterKey(random: RandomSource = defaultRandom): Uint8Array {
  const k = random(MASTER_KEY_BYTES);
  assertBytes('random(32)', k, MASTER_KEY_BYTES);
  return new Uint8Array(k);
}

/**
 * Decodes a master key given as base64 of 32 bytes — the form of an environment variable such as
 * `MERKLESYNC_MASTER_KEY` (reading the environment is the caller's job; this library reads none).
 * Surrounding ASCII whitespace (a trailing newline from `$(cat file)`) is ignored; otherwise the base64 is
 * strict (standard alphabet, canonical padding).
 * @throws CryptoError(MALFORMED_INPUT) when not base64; CryptoError(INVALID_KEY) when not 32 bytes; TypeError when not a string.
 * @example const key = masterKeyFromBase64(env.MERKLESYNC_MASTER_KEY);
 */
export function masterKeyFromBase64(text: string, what = 'master key'): Uint8Array {
  if (typeof text !== 'string') throw new TypeError(`${what} must be a string`);
  let key: Uint8Array;
  try {
    key = fromBase64(text.trim(), what);
  } catch {
    // The message never echoes the text: it is (almost) a secret.
    throw new CryptoError(CryptoErrorCode.MalformedInput, `${what}: not canonical base64`);
  }
  if (key.length !== MASTER_KEY_BYTES) {
    throw new CryptoError(CryptoErrorCode.InvalidKey, `${what}: must be ${MASTER_KEY_BYTES} bytes, got ${key.length}`);
  }
  return key;
}
