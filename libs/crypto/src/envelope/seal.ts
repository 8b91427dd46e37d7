import { assertBytes, concatBytes } from '@merklesync/merkle';
import { getCryptoBackend, type CryptoBackend } from '../backend/index.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { defaultRandom, type RandomSource } from '../keys/master-key.ts';
import { _bindingParts, _writeBinding, encodeRowBinding, type RowBinding } from './binding.ts';
import { BLOCK_NONCE_BYTES, MAX_BLOCK_PLAINTEXT_BYTES, _checkHeader, _headerLength, _writeBlockHeader, parseBlockHeader, type BlockHeader } from './header.ts';

/** A data key together with the master key id and version it was derived from (they go into the header). */
export interface DataKeyRef {
  readonly kid: string;
  readonly version: number;
  /** The 32-byte AES-256-GCM data key of the block's (source, table) under that master key version. */
  readonly key: Uint8Array;
}

/**
 * Hands out the arrays that {@link sealBlock} writes blocks into, carved out of shared chunks: one allocation per
 * chunk instead of one per block (a fresh small typed array costs about a microsecond, and each is one more
 * backing store for the garbage collector to track and free). A block keeps its whole chunk alive, so an arena
 * suits blocks that are dropped together, e.g. those of one bus message. Blocks above a quarter of a chunk get
 * their own array. Not safe to share across threads; fine to share across callers on one thread.
 * @example const arena = new BlockArena(); sealBlock(ref, binding, rowBytes, { arena });
 */
export class BlockArena {
  readonly #chunkBytes: number;
  #chunk: Uint8Array = new Uint8Array(0);
  #used = 0;

  /** @throws RangeError unless chunkBytes is an integer in [1 KiB, 16 MiB]. */
  constructor(chunkBytes = 64 * 1024) {
    if (!Number.isInteger(chunkBytes) || chunkBytes < 1024 || chunkBytes > 16 << 20) throw new RangeError(`chunkBytes must be an integer in [1024, ${16 << 20}], got ${chunkBytes}`);
    this.#chunkBytes = chunkBytes;
  }

  /** A zeroed array of `n` bytes that no other call of this arena returns (a view into a chunk, or its own). */
  take(n: number): Uint8Array {
    if (n > this.#chunkBytes >> 2) return new Uint8Array(n);
    if (this.#used + n > this.#chunk.length) {
      this.#chunk = new Uint8Array(this.#chunkBytes);
      this.#used = 0;
    }
    const out = this.#chunk.subarray(this.#used, this.#used + n);
    this.#used += n;
    return out;
  }
}

/**
 * Encrypts one row into a block: header || AES-256-GCM(dataKey, nonce, plaintext, AAD = header || binding).
 * The nonce is 12 random bytes; with random nonces NIST SP 800-38D allows at most 2^32 blocks per data key,
 * i.e. per (master key version, source, table) — rotate the master key well before that.
 * With `arena`, the block is a view into one of the arena's chunks (same bytes).
 * @throws TypeError/RangeError for a bad key ref, binding, nonce, or a plaintext above MAX_BLOCK_PLAINTEXT_BYTES.
 * @example const block = sealBlock({ kid: 'k1', version: 1, key: dataKey }, binding, rowBytes);
 */
export function sealBlock(
  dataKey: DataKeyRef,
  binding: RowBinding,
  plaintext: Uint8Array,
  opts: { random?: RandomSource; backend?: CryptoBackend; arena?: BlockArena } = {},
): Uint8Array {
  assertBytes('dataKey.key', dataKey.key, 32);
  assertBytes('plaintext', plaintext);
  if (plaintext.length > MAX_BLOCK_PLAINTEXT_BYTES) throw new RangeError(`plaintext must be at most ${MAX_BLOCK_PLAINTEXT_BYTES} bytes, got ${plaintext.length}`);
  const bind = _bindingParts(binding);
  const nonce = (opts.random ?? defaultRandom)(BLOCK_NONCE_BYTES);
  assertBytes('random(12)', nonce, BLOCK_NONCE_BYTES);
  const kid = _checkHeader({ kid: dataKey.kid, keyVersion: dataKey.version, nonce, plaintextLength: plaintext.length });
  // header || binding in one array: the AAD, whose first headerLength bytes also start the block.
  const headerLength = _headerLength(kid.length);
  const aadLength = headerLength + bind.length;
  const scratch = !_aadBusy && aadLength <= _AAD_SCRATCH_MAX;
  const aad = scratch ? _aadScratch(aadLength) : new Uint8Array(aadLength);
  if (scratch) _aadBusy = true;
  try {
    _writeBlockHeader(aad, kid, dataKey.version, nonce, plaintext.length);
    _writeBinding(aad, headerLength, bind);
    const length = headerLength + plaintext.length + 16;
    const block = opts.arena === undefined ? new Uint8Array(length) : opts.arena.take(length);
    block.set(aad.subarray(0, headerLength), 0);
    (opts.backend ?? getCryptoBackend()).aesGcmEncryptInto(dataKey.key, nonce, plaintext, aad, block.subarray(headerLength));
    return block;
  } finally {
    if (scratch) {
      aad.fill(0); // the binding holds the row's primary key
      _aadBusy = false;
    }
  }
}

// The AAD of every seal is written into one reused array (a fresh array of more than 64 bytes costs an off-heap
// allocation, about 1 µs, as much as the seal itself with the native backend). The backend keeps no reference to
// its inputs; a seal started from inside a backend call (a custom backend) gets a fresh array.
const _AAD_SCRATCH_MAX = 64 * 1024;
let _aadBuffer = new Uint8Array(512);
let _aadBusy = false;
function _aadScratch(length: number): Uint8Array {
  if (_aadBuffer.length < length) _aadBuffer = new Uint8Array(Math.max(length, 2 * _aadBuffer.length));
  return _aadBuffer.subarray(0, length);
}

/**
 * Looks up the data key a block's header names, for the block's binding; undefined when unknown.
 * Called once per block, synchronously.
 */
export type DataKeyResolver = (kid: string, version: number, binding: RowBinding) => Uint8Array | undefined;

/**
 * Decrypts a block for the row `binding` names. Never returns unauthenticated plaintext.
 * @throws CryptoError(MALFORMED_INPUT) for a malformed block; CryptoError(UNKNOWN_KEY) when the resolver
 *   has no key for the header's kid/version; CryptoError(DECRYPTION_FAILED) for a wrong key, another binding,
 *   or any tampered byte; TypeError/RangeError for a bad binding.
 * @example const row = openBlock(block, binding, (kid, v) => keys.get(`${kid}/${v}`));
 */
export function openBlock(block: Uint8Array, binding: RowBinding, resolve: DataKeyResolver, opts: { backend?: CryptoBackend } = {}): Uint8Array {
  const header = parseBlockHeader(block);
  const bind = encodeRowBinding(binding);
  const key = resolve(header.kid, header.keyVersion, binding);
  if (key === undefined) throw new CryptoError(CryptoErrorCode.UnknownKey, `block: no data key for ${header.kid} version ${header.keyVersion}`);
  assertBytes('resolved data key', key, 32);
  return _open(block, header, bind, key, opts.backend ?? getCryptoBackend());
}

function _open(block: Uint8Array, header: BlockHeader, bind: Uint8Array, key: Uint8Array, backend: CryptoBackend): Uint8Array {
  const headerBytes = block.subarray(0, header.headerLength);
  const plain = backend.aesGcmDecrypt(key, header.nonce, block.subarray(header.headerLength), concatBytes(headerBytes, bind));
  if (plain === null) throw new CryptoError(CryptoErrorCode.DecryptionFailed, 'block: authentication failed (wrong key, wrong row binding, or tampered block)');
  return plain;
}
