// The bytes of one global-log entry (README "Log leaf format"). Pure: no I/O, no Nest. Built from the
// DataBlock alone, so anyone holding a block (an edge client after GetBlock) can recompute the entry and
// check its inclusion in a checkpointed log.
import type { HashSuite } from '@merklesync/merkle';

/** Version byte of the log leaf format. */
export const LOG_LEAF_VERSION = 1;

/** The fields of a DataBlock the log leaf commits to (protobuf-es `DataBlock` satisfies it). */
export interface LogLeafInput {
  readonly source: string;
  readonly table: string;
  /** RowOperation code: 1 insert, 2 update, 3 delete, 4 snapshot. */
  readonly op: number;
  /** 32-byte keyed map key. */
  readonly mapKey: Uint8Array;
  /** 32-byte keyed leaf commitment, or empty for a delete. */
  readonly leafCommitment: Uint8Array;
  /** Row version (commit LSN), 1..2^64−1. */
  readonly rowVersion: bigint;
  /** The encrypted block (empty for a delete). */
  readonly block: Uint8Array;
}

const _utf8 = new TextEncoder();

// Source and table names repeat on every change: each is encoded once (bounded: cleared when full).
const _NAMES_MAX = 4096;
const _names = new Map<string, Uint8Array>();
function _name(s: string): Uint8Array {
  let b = _names.get(s);
  if (b === undefined) {
    if (typeof s !== 'string') throw new TypeError('source and table must be strings');
    if (_names.size >= _NAMES_MAX) _names.clear();
    _names.set(s, (b = _utf8.encode(s)));
  }
  return b;
}

/**
 * Hands out the leaves of one batch as views of shared 64 KiB chunks: a fresh array of more than 64 bytes costs an
 * off-heap allocation each, and a batch's leaves only live until the log has hashed them. Use one arena per batch
 * and drop it with the leaves (a view keeps its whole chunk alive).
 */
export class LeafArena {
  private chunk = new Uint8Array(0);
  private at = 0;

  take(length: number): Uint8Array {
    if (length > this.chunk.length - this.at) {
      if (length > _ARENA_CHUNK / 4) return new Uint8Array(length);
      this.chunk = new Uint8Array(_ARENA_CHUNK);
      this.at = 0;
    }
    const out = this.chunk.subarray(this.at, this.at + length);
    this.at += length;
    return out;
  }
}
const _ARENA_CHUNK = 64 * 1024;

/**
 * Encodes one change as a log entry (the log's leaf hash is then `H(0x00 ‖ entry)`, RFC 9162):
 *
 * ```
 * u8 version (1) ‖ u8 op ‖ u16 len(source) ‖ source ‖ u16 len(table) ‖ table ‖ map_key[32]
 *   ‖ u8 len(leaf_commitment) (0|32) ‖ leaf_commitment ‖ u64 row_version
 *   ‖ u8 len(block_hash) (0|32) ‖ block_hash          -- block_hash = H(block), absent for an empty block
 * ```
 * Integers are unsigned big-endian, names UTF-8; `H` is the log's hash suite.
 * @throws TypeError / RangeError for a field of the wrong type or size (names over 65,535 bytes, op
 *   outside 0..255, map key not 32 bytes, commitment not 0 or 32 bytes, row version outside u64).
 * With `arena` the leaf is a view of the arena's memory (see {@link LeafArena}).
 * @example log.append(encodeLogLeaf(suite, event.block!))
 */
export function encodeLogLeaf(suite: HashSuite, b: LogLeafInput, arena?: LeafArena): Uint8Array {
  const source = _name(b.source);
  const table = _name(b.table);
  if (source.length === 0 || source.length > 0xffff) throw new RangeError('source must be 1..65535 UTF-8 bytes');
  if (table.length === 0 || table.length > 0xffff) throw new RangeError('table must be 1..65535 UTF-8 bytes');
  if (!Number.isInteger(b.op) || b.op < 0 || b.op > 255) throw new RangeError('op must be a byte');
  if (!(b.mapKey instanceof Uint8Array) || b.mapKey.length !== 32) throw new RangeError('mapKey must be 32 bytes');
  if (!(b.leafCommitment instanceof Uint8Array) || (b.leafCommitment.length !== 0 && b.leafCommitment.length !== 32)) {
    throw new RangeError('leafCommitment must be 0 or 32 bytes');
  }
  if (typeof b.rowVersion !== 'bigint' || b.rowVersion < 0n || b.rowVersion > 0xffffffffffffffffn) throw new RangeError('rowVersion must be a u64 bigint');
  if (!(b.block instanceof Uint8Array)) throw new TypeError('block must be a Uint8Array');
  const blockHash = b.block.length === 0 ? new Uint8Array(0) : suite.digest(b.block);
  const length = 2 + 2 + source.length + 2 + table.length + 32 + 1 + b.leafCommitment.length + 8 + 1 + blockHash.length;
  const out = arena === undefined ? new Uint8Array(length) : arena.take(length);
  let o = 0;
  out[o++] = LOG_LEAF_VERSION;
  out[o++] = b.op;
  out[o++] = source.length >>> 8;
  out[o++] = source.length & 0xff;
  out.set(source, o);
  o += source.length;
  out[o++] = table.length >>> 8;
  out[o++] = table.length & 0xff;
  out.set(table, o);
  o += table.length;
  out.set(b.mapKey, o);
  o += 32;
  out[o++] = b.leafCommitment.length;
  out.set(b.leafCommitment, o);
  o += b.leafCommitment.length;
  const hi = Number(b.rowVersion >> 32n);
  const lo = Number(b.rowVersion & 0xffff_ffffn);
  out[o++] = hi >>> 24;
  out[o++] = (hi >>> 16) & 0xff;
  out[o++] = (hi >>> 8) & 0xff;
  out[o++] = hi & 0xff;
  out[o++] = lo >>> 24;
  out[o++] = (lo >>> 16) & 0xff;
  out[o++] = (lo >>> 8) & 0xff;
  out[o++] = lo & 0xff;
  out[o++] = blockHash.length;
  out.set(blockHash, o);
  return out;
}
