import { concatBytes, toBase64 } from '@merklesync/merkle';
import { getCryptoBackend } from '../backend/index.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { _b64, _clip } from './_util.ts';
import { SignatureType, isValidKeyName, keyId, keyIdHex } from './key-id.ts';

/** A public key as a signed-note verifier key (vkey) names it. */
export interface VerifierKey {
  readonly name: string;
  readonly keyId: number;
  readonly type: SignatureType;
  /** 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
}

/** A private key as a signed-note signer key names it (keep secret). */
export interface SignerKey extends VerifierKey {
  /** 32-byte Ed25519 seed (RFC 8032 private key). */
  readonly seed: Uint8Array;
}

/** Longest key string accepted (a name of up to ~400 bytes plus the key): bounds the work on hostile input. */
const _MAX_KEY_STRING = 512;

function _invalid(reason: string): never {
  throw new CryptoError(CryptoErrorCode.InvalidKey, reason);
}

function _type(b: number | undefined): SignatureType {
  if (b === SignatureType.Ed25519 || b === SignatureType.Ed25519Cosignature) return b;
  return _invalid(`unsupported signature type 0x${(b ?? 0).toString(16).padStart(2, '0')} (want 0x01 Ed25519 or 0x04 cosignature)`);
}

// Splits "a+b+rest" at the first n '+' (the base64 tail may itself contain '+').
function _chop(s: string, n: number): string[] | undefined {
  const parts: string[] = [];
  let rest = s;
  for (let i = 0; i < n; i++) {
    const at = rest.indexOf('+');
    if (at < 0) return undefined;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  parts.push(rest);
  return parts;
}

function _parseTail(name: string, hash: string, b64: string, what: string): { type: SignatureType; keyId: number; material: Uint8Array } {
  if (!isValidKeyName(name)) _invalid(`${what}: invalid key name ${_clip(name)}`);
  if (!/^[0-9a-fA-F]{8}$/.test(hash)) _invalid(`${what}: key ID must be 8 hex digits`);
  let raw: Uint8Array;
  try {
    raw = _b64(b64, `${what} key material`);
  } catch {
    return _invalid(`${what}: key material is not canonical base64`);
  }
  if (raw.length !== 33) _invalid(`${what}: key material must be 1 type byte + 32 key bytes, got ${raw.length} bytes`);
  return { type: _type(raw[0]), keyId: parseInt(hash, 16) >>> 0, material: raw.subarray(1) };
}

/**
 * Parses a verifier key `<name>+<8 hex key ID>+<base64(type || 32-byte Ed25519 public key)>` (types 0x01 and 0x04)
 * and checks that the key ID is the one the name, type and key derive.
 * @throws CryptoError(INVALID_KEY) for any malformed or inconsistent key string; TypeError when not a string.
 * @example parseVerifierKey('PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW').name // 'PeterNeumann'
 */
export function parseVerifierKey(vkey: string): VerifierKey {
  if (typeof vkey !== 'string') throw new TypeError('vkey must be a string');
  if (vkey.length > _MAX_KEY_STRING) _invalid('verifier key: too long');
  const parts = _chop(vkey, 2);
  if (!parts) return _invalid('verifier key: expected <name>+<keyid>+<base64 key>');
  const [name, hash, b64] = parts as [string, string, string];
  const t = _parseTail(name, hash, b64, 'verifier key');
  if (keyId(name, t.type, t.material) !== t.keyId) _invalid(`verifier key ${_clip(name)}: key ID does not match the key`);
  return { name, keyId: t.keyId, type: t.type, publicKey: t.material.slice() };
}

/**
 * Formats a verifier key string (lowercase key ID).
 * @throws TypeError / RangeError for an invalid name or a key that is not 32 bytes.
 * @example formatVerifierKey(key) // 'example.com/log+1a2b3c4d+AR...'
 */
export function formatVerifierKey(key: Pick<VerifierKey, 'name' | 'type' | 'publicKey'>): string {
  if (key.publicKey?.length !== 32) throw new RangeError('publicKey must be 32 bytes');
  const id = keyId(key.name, key.type, key.publicKey);
  return `${key.name}+${keyIdHex(id)}+${toBase64(concatBytes(new Uint8Array([key.type]), key.publicKey))}`;
}

/**
 * Parses a signer key `PRIVATE+KEY+<name>+<8 hex key ID>+<base64(type || 32-byte Ed25519 seed)>` (the
 * golang.org/x/mod/sumdb/note format) and checks the key ID against the derived public key.
 * @throws CryptoError(INVALID_KEY) for any malformed or inconsistent key string; TypeError when not a string.
 * @example parseSignerKey(fileText.trim()).publicKey
 */
export function parseSignerKey(skey: string): SignerKey {
  if (typeof skey !== 'string') throw new TypeError('skey must be a string');
  if (skey.length > _MAX_KEY_STRING) _invalid('signer key: too long');
  const parts = _chop(skey, 4);
  if (!parts || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') return _invalid('signer key: expected PRIVATE+KEY+<name>+<keyid>+<base64 key>');
  const [, , name, hash, b64] = parts as [string, string, string, string, string];
  const t = _parseTail(name, hash, b64, 'signer key');
  const seed = t.material.slice();
  const publicKey = getCryptoBackend().ed25519PublicKey(seed);
  if (keyId(name, t.type, publicKey) !== t.keyId) _invalid(`signer key ${_clip(name)}: key ID does not match the key`);
  return { name, keyId: t.keyId, type: t.type, publicKey, seed };
}

/**
 * Formats a signer key string (secret!).
 * @throws TypeError / RangeError for an invalid name or a seed that is not 32 bytes.
 * @example formatSignerKey(key) // 'PRIVATE+KEY+example.com/log+1a2b3c4d+AR...'
 */
export function formatSignerKey(key: Pick<SignerKey, 'name' | 'type' | 'seed'>): string {
  if (key.seed?.length !== 32) throw new RangeError('seed must be 32 bytes');
  const id = keyId(key.name, key.type, getCryptoBackend().ed25519PublicKey(key.seed));
  return `PRIVATE+KEY+${key.name}+${keyIdHex(id)}+${toBase64(concatBytes(new Uint8Array([key.type]), key.seed))}`;
}

/**
 * A signer key from a name, a type and a 32-byte seed.
 * @throws TypeError / RangeError for an invalid name, type or seed.
 * @example signerKeyFromSeed('example.com/log', SignatureType.Ed25519, seed)
 */
export function signerKeyFromSeed(name: string, type: SignatureType, seed: Uint8Array): SignerKey {
  if (!isValidKeyName(name)) throw new TypeError('name must be a valid key name (non-empty, no spaces, no +)');
  if (type !== SignatureType.Ed25519 && type !== SignatureType.Ed25519Cosignature) throw new RangeError('type must be 0x01 or 0x04');
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new RangeError('seed must be 32 bytes');
  const publicKey = getCryptoBackend().ed25519PublicKey(seed);
  return { name, type, seed: seed.slice(), publicKey, keyId: keyId(name, type, publicKey) };
}

/**
 * Generates a fresh signer key; `random` defaults to the platform CSPRNG.
 * @throws TypeError / RangeError for an invalid name or type.
 * @example const sk = generateSignerKey('example.com/log'); formatVerifierKey(sk)
 */
export function generateSignerKey(
  name: string,
  type: SignatureType = SignatureType.Ed25519,
  random: (n: number) => Uint8Array = (n) => getCryptoBackend().randomBytes(n),
): SignerKey {
  return signerKeyFromSeed(name, type, random(32));
}

/**
 * The public half of a signer key.
 * @example verifierKeyOf(sk).publicKey
 */
export function verifierKeyOf(key: SignerKey): VerifierKey {
  return { name: key.name, keyId: key.keyId, type: key.type, publicKey: key.publicKey };
}
