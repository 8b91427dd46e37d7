import { assertBytes, equalBytes } from '@merklesync/merkle';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { _KID_RE, _assertKeyVersion, _assertKid, _readU32 } from '../keys/_bytes.ts';

/** First 4 bytes of every block: ASCII "MSEB" (MerkleSync Encrypted Block). */
export const BLOCK_MAGIC = Uint8Array.of(0x4d, 0x53, 0x45, 0x42);
/** Block format version this library writes and reads. */
export const BLOCK_FORMAT_VERSION = 1;
/** Algorithm ids: 1 = AES-256-GCM (12-byte nonce, 16-byte tag) under an HKDF-SHA256 per-table data key. */
export const BlockAlgorithm = { Aes256GcmHkdfSha256: 1 } as const;
export type BlockAlgorithm = (typeof BlockAlgorithm)[keyof typeof BlockAlgorithm];
export const BLOCK_NONCE_BYTES = 12;
export const BLOCK_TAG_BYTES = 16;
/** Largest plaintext a block may carry: 16 MiB. Larger input is refused before anything is allocated. */
export const MAX_BLOCK_PLAINTEXT_BYTES = 1 << 24;
/** Fixed header bytes besides the kid: magic 4 + version 1 + algorithm 1 + kid length 1 + key version 4 + nonce 12 + plaintext length 4. */
const _FIXED = 27;
/** Largest well-formed block: header with a 64-character kid, the largest plaintext, the tag. */
export const MAX_BLOCK_BYTES = _FIXED + 64 + MAX_BLOCK_PLAINTEXT_BYTES + BLOCK_TAG_BYTES;

/** The parsed header of a block. */
export interface BlockHeader {
  readonly formatVersion: number;
  readonly algorithm: BlockAlgorithm;
  readonly kid: string;
  readonly keyVersion: number;
  readonly nonce: Uint8Array;
  readonly plaintextLength: number;
  /** Header size in bytes: the header is block[0, headerLength). */
  readonly headerLength: number;
}

const _enc = new TextEncoder();

/**
 * Header bytes: magic || version || algorithm || u8 len(kid) || kid || u32 keyVersion || nonce(12) || u32 plaintextLength.
 * @throws TypeError/RangeError for a bad kid, version, nonce or length.
 * @example encodeBlockHeader({ kid: 'k1', keyVersion: 1, nonce, plaintextLength: 200 })
 */
export function encodeBlockHeader(h: { kid: string; keyVersion: number; nonce: Uint8Array; plaintextLength: number }): Uint8Array {
  const kid = _checkHeader(h);
  const out = new Uint8Array(_FIXED + kid.length);
  _writeBlockHeader(out, kid, h.keyVersion, h.nonce, h.plaintextLength);
  return out;
}

// The bytes of kids already checked: a service seals every row under one or a few kids, and the kid pattern plus a
// TextEncoder array cost more per seal than the native seal itself (README B.3). Shared arrays: callers only copy them.
const _KID_CACHE_MAX = 64;
const _kidCache = new Map<string, Uint8Array>();
function _kidBytes(kid: string): Uint8Array {
  const hit = typeof kid === 'string' ? _kidCache.get(kid) : undefined;
  if (hit !== undefined) return hit;
  _assertKid('kid', kid);
  const b = _enc.encode(kid);
  if (_kidCache.size >= _KID_CACHE_MAX) _kidCache.clear();
  _kidCache.set(kid, b);
  return b;
}

/** The kid bytes of a header, after encodeBlockHeader's checks (same errors, same order). Read-only (shared). @internal */
export function _checkHeader(h: { kid: string; keyVersion: number; nonce: Uint8Array; plaintextLength: number }): Uint8Array {
  const kid = _kidBytes(h.kid);
  _assertKeyVersion('keyVersion', h.keyVersion);
  assertBytes('nonce', h.nonce, BLOCK_NONCE_BYTES);
  if (!Number.isSafeInteger(h.plaintextLength) || h.plaintextLength < 0 || h.plaintextLength > MAX_BLOCK_PLAINTEXT_BYTES) {
    throw new RangeError(`plaintext must be at most ${MAX_BLOCK_PLAINTEXT_BYTES} bytes, got ${h.plaintextLength}`);
  }
  return kid;
}

/** Header length for a kid of `kidBytes` bytes. @internal */
export const _headerLength = (kidBytes: number): number => _FIXED + kidBytes;

/** Writes a checked header (see _checkHeader) at out[0, _headerLength(kid.length)). @internal */
export function _writeBlockHeader(out: Uint8Array, kid: Uint8Array, keyVersion: number, nonce: Uint8Array, plaintextLength: number): void {
  out.set(BLOCK_MAGIC, 0);
  out[4] = BLOCK_FORMAT_VERSION;
  out[5] = BlockAlgorithm.Aes256GcmHkdfSha256;
  out[6] = kid.length;
  out.set(kid, 7);
  _u32At(out, 7 + kid.length, keyVersion);
  out.set(nonce, 11 + kid.length);
  _u32At(out, 23 + kid.length, plaintextLength);
}

/** `v` as a big-endian u32 at `out[o..o+4]` (no DataView per call). */
function _u32At(out: Uint8Array, o: number, v: number): void {
  out[o] = v >>> 24;
  out[o + 1] = (v >>> 16) & 0xff;
  out[o + 2] = (v >>> 8) & 0xff;
  out[o + 3] = v & 0xff;
}

function _bad(reason: string): never {
  throw new CryptoError(CryptoErrorCode.MalformedInput, `block: ${reason}`);
}

/**
 * Parses and checks the header of a whole block (header || ciphertext || tag). Does not authenticate:
 * only decryption does.
 * @throws CryptoError(MALFORMED_INPUT) for an oversized or truncated block, bad magic, unknown format
 *   version or algorithm, bad kid, key version 0, or a length that disagrees with the block size;
 *   TypeError when `block` is not a Uint8Array.
 * @example const { kid, keyVersion } = parseBlockHeader(block);
 */
export function parseBlockHeader(block: Uint8Array): BlockHeader {
  assertBytes('block', block);
  if (block.length > MAX_BLOCK_BYTES) _bad(`oversized: ${block.length} bytes, at most ${MAX_BLOCK_BYTES}`);
  if (block.length < 7) _bad('truncated header');
  if (!equalBytes(block.subarray(0, 4), BLOCK_MAGIC)) _bad('bad magic (not a MerkleSync encrypted block)');
  if (block[4] !== BLOCK_FORMAT_VERSION) _bad(`unknown format version ${block[4]}`);
  if (block[5] !== BlockAlgorithm.Aes256GcmHkdfSha256) _bad(`unknown algorithm ${block[5]}`);
  const kidLen = block[6]!;
  if (kidLen < 1 || kidLen > 64) _bad(`kid length ${kidLen} not in 1..64`);
  const headerLength = _FIXED + kidLen;
  if (block.length < headerLength + BLOCK_TAG_BYTES) _bad('truncated');
  let kid = '';
  for (let i = 7; i < 7 + kidLen; i++) kid += String.fromCharCode(block[i]!);
  if (!_KID_RE.test(kid)) _bad('kid has characters outside [A-Za-z0-9._:-]');
  const keyVersion = _readU32(block, 7 + kidLen);
  if (keyVersion === 0) _bad('key version 0');
  const nonce = new Uint8Array(block.subarray(11 + kidLen, 23 + kidLen));
  const plaintextLength = _readU32(block, 23 + kidLen);
  if (plaintextLength > MAX_BLOCK_PLAINTEXT_BYTES) _bad(`plaintext length ${plaintextLength} above ${MAX_BLOCK_PLAINTEXT_BYTES}`);
  const expected = headerLength + plaintextLength + BLOCK_TAG_BYTES;
  if (block.length < expected) _bad(`truncated: ${block.length} bytes, header says ${expected}`);
  if (block.length > expected) _bad(`trailing bytes: ${block.length} bytes, header says ${expected}`);
  return { formatVersion: BLOCK_FORMAT_VERSION, algorithm: BlockAlgorithm.Aes256GcmHkdfSha256, kid, keyVersion, nonce, plaintextLength, headerLength };
}
