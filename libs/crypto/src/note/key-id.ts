import { concatBytes } from '@merklesync/merkle';
import { getCryptoBackend } from '../backend/index.ts';
import { _u32, _utf8 } from './_util.ts';

/**
 * Signature type identifier bytes of c2sp.org/signed-note that this library implements: plain Ed25519 note
 * signatures (logs) and timestamped Ed25519 cosignatures of c2sp.org/tlog-cosignature (witnesses).
 */
export const SignatureType = {
  Ed25519: 0x01,
  Ed25519Cosignature: 0x04,
} as const;
export type SignatureType = (typeof SignatureType)[keyof typeof SignatureType];

// Go's unicode.IsSpace (what golang.org/x/mod/sumdb/note uses), plus '+': the characters a key name may not contain.
const _BAD_NAME_CHAR = /[\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000+]/u;

/**
 * Whether `name` is a valid signed-note key name: non-empty, no Unicode space, no '+', no control character,
 * no lone surrogate.
 * @example isValidKeyName('example.com/log') // true
 */
export function isValidKeyName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    !_BAD_NAME_CHAR.test(name) &&
    // eslint-disable-next-line no-control-regex
    !/[\u0000-\u001F\uD800-\uDFFF]/u.test(name)
  );
}

/**
 * The 32-bit key ID of c2sp.org/signed-note: the first four bytes (big-endian) of
 * SHA-256(name || 0x0A || type || publicKey).
 * @throws TypeError when `name` is not a valid key name or `publicKey` is not bytes.
 * @example keyId('PeterNeumann', SignatureType.Ed25519, pub) // 0xc74f20a3
 */
export function keyId(name: string, type: number, publicKey: Uint8Array): number {
  if (!isValidKeyName(name)) throw new TypeError('name must be a valid key name (non-empty, no spaces, no +)');
  if (!Number.isInteger(type) || type < 0 || type > 255) throw new RangeError('type must be a byte');
  if (!(publicKey instanceof Uint8Array)) throw new TypeError('publicKey must be a Uint8Array');
  const h = getCryptoBackend().sha256(concatBytes(_utf8(name, 'name'), new Uint8Array([0x0a, type]), publicKey));
  return _u32(h);
}

/** A key ID as the 8 lowercase hex digits of the key strings. @example keyIdHex(0xc74f20a3) // 'c74f20a3' */
export function keyIdHex(id: number): string {
  return (id >>> 0).toString(16).padStart(8, '0');
}
