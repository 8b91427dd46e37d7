import { assertBytes } from '@merklesync/merkle';
import { getCryptoBackend, type CryptoBackend } from '../backend/index.ts';
import { _ctEqual, _nameCached } from '../keys/_bytes.ts';
import { isCommitmentAlgorithm, type CommitmentAlgorithm } from './algorithm.ts';
import type { CommitmentKeys } from './keys.ts';

function _mac(algorithm: CommitmentAlgorithm, key: Uint8Array, msg: Uint8Array, backend: CryptoBackend): Uint8Array {
  return algorithm === 'hmac-sha256' ? backend.hmacSha256(key, msg) : backend.blake3Keyed(key, msg);
}

function _checkKeys(keys: CommitmentKeys): void {
  if (typeof keys !== 'object' || keys === null) throw new TypeError('keys must be CommitmentKeys');
  if (!isCommitmentAlgorithm(keys.algorithm)) throw new RangeError(`keys.algorithm must be 'hmac-sha256' or 'blake3'`);
  assertBytes('keys.leafKey', keys.leafKey, 32);
  assertBytes('keys.mapKeyKey', keys.mapKeyKey, 32);
}

/**
 * A row's leaf value: MAC(leafKey, canonical row bytes), 32 bytes. MAC is HMAC-SHA256 or keyed BLAKE3 per
 * `keys.algorithm`. The canonical encoding is self-delimiting, so no framing is added.
 * @throws TypeError/RangeError for bad keys or a non-Uint8Array row.
 * @example const leaf = commitRow(ck, encodeRow(row));
 */
export function commitRow(keys: CommitmentKeys, rowBytes: Uint8Array, backend: CryptoBackend = getCryptoBackend()): Uint8Array {
  _checkKeys(keys);
  assertBytes('rowBytes', rowBytes);
  return _mac(keys.algorithm, keys.leafKey, rowBytes, backend);
}

/**
 * The map-key input: u16 len(table) || table (UTF-8) || u32 len(pk) || pk, big-endian lengths, so no two
 * (table, pk) pairs give the same bytes.
 * @throws TypeError/RangeError for an empty or ill-formed table or a pk above 2^32 - 1 bytes.
 * @example mapKeyInput('public.users', pk)
 */
export function mapKeyInput(table: string, primaryKey: Uint8Array): Uint8Array {
  const t = _nameCached('table', table);
  assertBytes('primaryKey', primaryKey);
  if (primaryKey.length > 0xffffffff) throw new RangeError('primaryKey must be at most 2^32 - 1 bytes');
  // Byte writes, not a DataView: `out.buffer` would move a small array's bytes off the V8 heap (README B.5).
  const out = new Uint8Array(6 + t.length + primaryKey.length);
  const tl = t.length;
  const pl = primaryKey.length;
  out[0] = tl >>> 8;
  out[1] = tl & 0xff;
  out.set(t, 2);
  out[2 + tl] = pl >>> 24;
  out[3 + tl] = (pl >>> 16) & 0xff;
  out[4 + tl] = (pl >>> 8) & 0xff;
  out[5 + tl] = pl & 0xff;
  out.set(primaryKey, 6 + tl);
  return out;
}

/**
 * A row's 32-byte key in the table's Merkle map: MAC(mapKeyKey, mapKeyInput(table, pk)).
 * @throws TypeError/RangeError for bad keys, table or pk.
 * @example map.set(commitMapKey(ck, 'public.users', pk), commitRow(ck, rowBytes));
 */
export function commitMapKey(keys: CommitmentKeys, table: string, primaryKey: Uint8Array, backend: CryptoBackend = getCryptoBackend()): Uint8Array {
  _checkKeys(keys);
  return _mac(keys.algorithm, keys.mapKeyKey, mapKeyInput(table, primaryKey), backend);
}

/**
 * Whether `leaf` is the commitment of `rowBytes` (comparison time independent of where they differ).
 * Returns false for a leaf of the wrong type or length; never throws for a bad leaf.
 * @throws TypeError/RangeError for bad keys or a non-Uint8Array row (caller bugs, not untrusted input).
 * @example if (!verifyRowCommitment(ck, decrypted, leafFromProof)) reject();
 */
export function verifyRowCommitment(keys: CommitmentKeys, rowBytes: Uint8Array, leaf: unknown, backend: CryptoBackend = getCryptoBackend()): boolean {
  const expected = commitRow(keys, rowBytes, backend);
  return leaf instanceof Uint8Array && _ctEqual(expected, leaf);
}
