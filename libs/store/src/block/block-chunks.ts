// Blocks in chunks under their group's locator (README "Block chunks", migration 008): the chunk encoding, the binary
// COPY file of a group's chunks, and lookups inside a chunk.
import { _sortedByBytes } from '../db.ts';
import { StoreError, StoreErrorCode } from '../errors.ts';
import { COPY_HEADER, COPY_TRAILER, _allocUnsafe } from '../map/copy.ts';
import { CHUNK_HEAD, CHUNK_PER_NODE, _chunkFind, _chunkLayout, _u32 } from '../map/node-codec.ts';
import { _latestPerKey } from './copy-file.ts';
import type { BlockInput, StoredBlock } from './pg-block-store.ts';
import { blockTableKey } from './table-key.ts';

/** Most bytes of blocks in one chunk (its `blocks` column) unless a single entry is larger: inline in a page. */
export const BLOCK_CHUNK_BYTES = 7_600;
/** Chunk header (the entry count, u16) and bytes per entry besides its payload (its key, its end): the node chunks'. */
const _HEAD = CHUNK_HEAD;
const _PER_ENTRY = CHUNK_PER_NODE;
/** Payload before the commitment: op u8, row version u64, log index u64, stream seq u64. */
const _FIXED = 25;
const _DELETE = 3;
const _TWO32 = 0x1_0000_0000;
const _MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** Fields of a `block_chunks` COPY row: table_key, at, lo, log_end, source, table_name, blocks. */
const _FIELDS = 7;
/** A COPY row besides the names and the chunk: field count, three int8 fields and lo with their lengths, 3 lengths. */
const _ROW_FIXED = 2 + 3 * 12 + 36 + 3 * 4;

/** What a group's chunks are written under. */
export interface BlockGroup {
  /** The group's locator: its last stream sequence, the locator of the map nodes it wrote (≥ 1). */
  readonly at: number;
  /** Log size after the group (≥ 1): a sync after log size L reads the groups with `logEnd` > L. */
  readonly logEnd: number;
}

/** A group's chunks as one binary COPY file of `block_chunks (table_key, at, lo, log_end, source, table_name, blocks)`. */
export interface BlockChunkFile {
  readonly file: Buffer;
  /** Chunk rows in the file. */
  readonly chunks: number;
  /** Blocks in the file: the latest change per (source, table, key) of the input. */
  readonly entries: number;
}

interface _Entry {
  readonly b: BlockInput;
  readonly tk: bigint;
  readonly size: number;
}

/**
 * The chunk rows of one group: the latest change per (source, table, map key) of `blocks` (highest log index), by
 * table key then map key, packed while a chunk's bytes stay within {@link BLOCK_CHUNK_BYTES} (at least one entry).
 * Entries are `op u8 ‖ row_version u64 ‖ log_index u64 ‖ stream_seq u64 ‖ (leaf_commitment[32] ‖ block)` (no
 * commitment or block for a delete); a chunk is `count u16 ‖ key[32] × count ‖ end u32 × count ‖ entries`. A block
 * without its own stream sequence gets `streamSeq`. Blocks must have passed the store's checks.
 * @example const { file } = blockChunkFile(blocks, 12, { at: 12, logEnd: 4096 })
 */
export function blockChunkFile(blocks: readonly BlockInput[], streamSeq: number, group: BlockGroup, alloc: (size: number) => Buffer = _allocUnsafe): BlockChunkFile {
  const entries = _sortedEntries(_latestPerKey(blocks), true);
  // Chunk boundaries: a new chunk at each table change and when the next entry would overflow.
  const starts: number[] = [];
  const sizes: number[] = [];
  const names = new Map<string, { s: Buffer; t: Buffer }>();
  let size = COPY_HEADER.length + COPY_TRAILER.length;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const add = _PER_ENTRY + e.size;
    const c = sizes.length - 1;
    if (c < 0 || !_sameTable(entries[starts[c]!]!.b, e.b) || sizes[c]! + add > BLOCK_CHUNK_BYTES) {
      starts.push(i);
      sizes.push(_HEAD + add);
      const n = _names(names, e.b);
      size += _ROW_FIXED + n.s.length + n.t.length + _HEAD;
    } else sizes[c]! += add;
    size += add;
  }
  starts.push(entries.length);
  const f = alloc(size);
  f.set(COPY_HEADER, 0);
  let o = COPY_HEADER.length;
  for (let c = 0; c + 1 < starts.length; c++) {
    const a = starts[c]!;
    const z = starts[c + 1]!;
    const first = entries[a]!;
    const n = _names(names, first.b);
    o = f.writeInt16BE(_FIELDS, o);
    o = f.writeInt32BE(8, o);
    o = f.writeBigInt64BE(first.tk, o);
    o = _int8(f, o, group.at);
    o = f.writeInt32BE(32, o);
    f.set(first.b.mapKey, o);
    o += 32;
    o = _int8(f, o, group.logEnd);
    o = f.writeInt32BE(n.s.length, o);
    o += n.s.copy(f, o);
    o = f.writeInt32BE(n.t.length, o);
    o += n.t.copy(f, o);
    o = f.writeInt32BE(sizes[c]!, o);
    o = _writeChunk(f, o, entries, a, z, streamSeq);
  }
  f.set(COPY_TRAILER, o);
  return { file: f, chunks: starts.length - 1, entries: entries.length };
}

/**
 * The chunk bytes of `blocks` as one chunk (no size limit; the latest per key, in key order), for tests and tools.
 * @example blockChunk(blocks, 7)
 */
export function blockChunk(blocks: readonly BlockInput[], streamSeq: number): Uint8Array {
  const entries = _sortedEntries(_latestPerKey(blocks), false);
  let size = _HEAD;
  for (const e of entries) size += _PER_ENTRY + e.size;
  const out = Buffer.allocUnsafe(size);
  _writeChunk(out, 0, entries, 0, entries.length, streamSeq);
  return out;
}

function _writeChunk(f: Buffer, w: number, entries: readonly _Entry[], a: number, z: number, streamSeq: number): number {
  const m = z - a;
  f[w] = m >>> 8;
  f[w + 1] = m & 0xff;
  let k = w + _HEAD;
  let ends = k + 32 * m;
  let body = ends + 4 * m;
  let end = 0;
  for (let i = a; i < z; i++) {
    const { b, size } = entries[i]!;
    f.set(b.mapKey, k);
    k += 32;
    end += size;
    f.writeUInt32BE(end, ends);
    ends += 4;
    f[body] = b.op;
    // Row versions (LSNs) fit a double's integers in practice: the BigInt write only above 2^53 − 1.
    if (b.rowVersion <= _MAX_SAFE) _u64(f, body + 1, Number(b.rowVersion));
    else f.writeBigUInt64BE(b.rowVersion, body + 1);
    _u64(f, body + 9, b.logIndex);
    _u64(f, body + 17, b.streamSeq ?? streamSeq);
    if (b.op !== _DELETE) {
      f.set(b.leafCommitment!, body + _FIXED);
      f.set(b.block!, body + _FIXED + 32);
    }
    body += size;
  }
  return body;
}

/**
 * The block of `key` in a stored chunk (views into `chunk`), or undefined when the chunk does not hold the key.
 * @throws StoreError(CORRUPT_BLOCK) when the chunk or the entry does not decode.
 * @example const b = chunkBlock(row.blocks, key, 'pg', 'public.users')
 */
export function chunkBlock(chunk: Uint8Array, key: Uint8Array, source: string, table: string): StoredBlock | undefined {
  const { n, ends, body } = _layout(chunk);
  const i = _chunkFind(chunk, n, key);
  return i < 0 ? undefined : _entry(chunk, i, n, ends, body, source, table);
}

/**
 * Every block of a stored chunk, in key order (views into `chunk`).
 * @throws StoreError(CORRUPT_BLOCK).
 * @example for (const b of chunkBlocks(row.blocks, 'pg', 'public.users')) keys.push(b.mapKey)
 */
export function chunkBlocks(chunk: Uint8Array, source: string, table: string): StoredBlock[] {
  const { n, ends, body } = _layout(chunk);
  const out: StoredBlock[] = [];
  for (let i = 0; i < n; i++) out.push(_entry(chunk, i, n, ends, body, source, table));
  return out;
}

function _layout(chunk: Uint8Array): { n: number; ends: number; body: number } {
  return _chunkLayout(chunk, StoreErrorCode.CorruptBlock, 'block');
}

function _entry(c: Uint8Array, i: number, n: number, ends: number, body: number, source: string, table: string): StoredBlock {
  const s = i === 0 ? 0 : _u32(c, ends + 4 * (i - 1));
  const e = _u32(c, ends + 4 * i);
  if (!(s <= e && body + e <= c.length && i < n)) throw new StoreError(StoreErrorCode.CorruptBlock, `stored block chunk has entry ${i} at bytes ${s}..${e} of ${c.length - body}`);
  return _decode(c, body + s, e - s, c.subarray(_HEAD + 32 * i, _HEAD + 32 * i + 32), source, table);
}

/**
 * One entry of a chunk as stored (what `ms_chunk_node(blocks, key)` returns in SQL: the chunk layout is the node
 * chunks'), decoded as the block of `key` (views into `entry`).
 * @throws StoreError(CORRUPT_BLOCK) when the entry does not decode.
 * @example decodeBlockEntry(row.entry, key, 'pg', 'public.users')
 */
export function decodeBlockEntry(entry: Uint8Array, key: Uint8Array, source: string, table: string): StoredBlock {
  return _decode(entry, 0, entry.length, key, source, table);
}

function _decode(c: Uint8Array, at: number, len: number, key: Uint8Array, source: string, table: string): StoredBlock {
  const op = c[at];
  const del = op === _DELETE;
  if (len < _FIXED || op === undefined || op < 1 || op > 4 || (del ? len !== _FIXED : len < _FIXED + 32)) {
    throw new StoreError(StoreErrorCode.CorruptBlock, `stored block entry of ${len} bytes (op ${String(op)}) does not decode`);
  }
  const v = new DataView(c.buffer, c.byteOffset + at, len);
  return {
    source,
    table,
    mapKey: key,
    op: op as StoredBlock['op'],
    rowVersion: v.getBigUint64(1),
    logIndex: v.getUint32(9) * _TWO32 + v.getUint32(13),
    streamSeq: v.getUint32(17) * _TWO32 + v.getUint32(21),
    leafCommitment: del ? null : c.subarray(at + _FIXED, at + _FIXED + 32),
    block: del ? null : c.subarray(at + _FIXED + 32, at + len),
    deleted: del,
  };
}

// By table (table key, then names), then by map key within each table: the tables are few, so the blocks are split
// per table first and each part is sorted by its keys alone (_sortedByBytes: no allocation per comparison).
function _sortedEntries(latest: readonly BlockInput[], byTableKey: boolean): _Entry[] {
  const tables = new Map<string, BlockInput[]>();
  let lastSource: string | undefined;
  let lastTable: string | undefined;
  let list: BlockInput[] = [];
  for (const b of latest) {
    if (b.source !== lastSource || b.table !== lastTable) {
      const k = `${b.source}\u0000${b.table}`;
      let l = tables.get(k);
      if (l === undefined) tables.set(k, (l = []));
      list = l;
      lastSource = b.source;
      lastTable = b.table;
    }
    list.push(b);
  }
  const parts = [...tables.values()].map((l) => ({ tk: byTableKey ? blockTableKey(l[0]!.source, l[0]!.table) : 0n, s: l[0]!.source, t: l[0]!.table, l }));
  parts.sort((x, y) => (x.tk !== y.tk ? (x.tk < y.tk ? -1 : 1) : x.s !== y.s ? (x.s < y.s ? -1 : 1) : x.t < y.t ? -1 : x.t > y.t ? 1 : 0));
  const out: _Entry[] = [];
  for (const p of parts) {
    for (const b of _sortedByBytes(p.l, (x) => x.mapKey)) out.push({ b, tk: p.tk, size: _FIXED + (b.op === _DELETE ? 0 : 32 + b.block!.length) });
  }
  return out;
}

function _sameTable(a: BlockInput, b: BlockInput): boolean {
  return a.source === b.source && a.table === b.table;
}

function _names(cache: Map<string, { s: Buffer; t: Buffer }>, b: BlockInput): { s: Buffer; t: Buffer } {
  const k = `${b.source}\u0000${b.table}`;
  let n = cache.get(k);
  if (n === undefined) cache.set(k, (n = { s: Buffer.from(b.source, 'utf8'), t: Buffer.from(b.table, 'utf8') }));
  return n;
}

function _int8(f: Buffer, o: number, v: number): number {
  o = f.writeInt32BE(8, o);
  _u64(f, o, v);
  return o + 8;
}

function _u64(f: Buffer, o: number, v: number): void {
  const hi = Math.floor(v / _TWO32);
  f.writeUInt32BE(hi, o);
  f.writeUInt32BE(v - hi * _TWO32, o + 4);
}
