// The blocks' binary COPY file and the latest-per-key selection, written for the one row shape they have: no
// per-row arrays, closures or strings (this runs once per stored change).
import { COPY_HEADER, COPY_TRAILER, _allocUnsafe } from '../map/copy.ts';
import type { BlockInput } from './pg-block-store.ts';
import { blockTableKey } from './table-key.ts';
const _FIELDS = 10;
/**
 * Per row, besides the names' head and the table key's tail: the other 7 field lengths, and op 2, row version 8,
 * stream seq 8, log index 8.
 */
const _ROW_FIXED = 4 * 7 + 2 + 8 + 8 + 8;
const _TWO32 = 0x1_0000_0000;
const _MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * What every row of one (source, table) starts and ends with: field count and the two names, length-prefixed;
 * the table key, length-prefixed.
 */
interface _Frame {
  readonly head: Buffer;
  readonly tail: Buffer;
}

function _frame(source: string, table: string): _Frame {
  const s = Buffer.from(source, 'utf8');
  const t = Buffer.from(table, 'utf8');
  const head = Buffer.allocUnsafe(2 + 4 + s.length + 4 + t.length);
  let o = head.writeInt16BE(_FIELDS, 0);
  o = head.writeInt32BE(s.length, o);
  o += s.copy(head, o);
  o = head.writeInt32BE(t.length, o);
  t.copy(head, o);
  const tail = Buffer.allocUnsafe(12);
  tail.writeInt32BE(8, 0);
  tail.writeBigInt64BE(blockTableKey(source, table), 4);
  return { head, tail };
}

/**
 * The binary COPY file of `rows` in the column order `source, table_name, map_key, op, row_version,
 * leaf_commitment, block, stream_seq, log_index, table_key` (text, text, bytea, int2, int8, bytea, bytea, int8, int8,
 * int8; the table key is {@link blockTableKey} of the row's source and table). A row
 * without its own stream sequence gets `seq` (null: SQL NULL). Rows must have passed the store's block checks
 * (32-byte key, row version in [0, 2^63), safe integer log index and stream sequence).
 * `alloc` gives the file's memory (default `Buffer.allocUnsafe`; the store passes reused buffers).
 * @example blockCopyFile(rows, 12)
 */
export function blockCopyFile(rows: readonly BlockInput[], seq: number | null, alloc: (size: number) => Buffer = _allocUnsafe): Buffer {
  // The names and the table key repeat in every row of a table: each table's are encoded once.
  const frames = new Map<string, _Frame>();
  let lastSource: string | undefined;
  let lastTable: string | undefined;
  let frame: _Frame = { head: Buffer.alloc(0), tail: Buffer.alloc(0) };
  const frameOf = (r: BlockInput): _Frame => {
    if (r.source === lastSource && r.table === lastTable) return frame;
    lastSource = r.source;
    lastTable = r.table;
    const k = `${r.source}\u0000${r.table}`;
    let f = frames.get(k);
    if (f === undefined) frames.set(k, (f = _frame(r.source, r.table)));
    return (frame = f);
  };
  let size = COPY_HEADER.length + COPY_TRAILER.length;
  for (const r of rows) {
    const f = frameOf(r);
    size += f.head.length + f.tail.length + _ROW_FIXED + r.mapKey.length + (r.leafCommitment?.length ?? 0) + (r.block?.length ?? 0);
    if ((r.streamSeq ?? seq) === null) size -= 8;
  }
  const out = alloc(size);
  out.set(COPY_HEADER, 0);
  let o = COPY_HEADER.length;
  const bytes = (b: Uint8Array | null): void => {
    if (b === null) {
      o = out.writeInt32BE(-1, o);
      return;
    }
    o = out.writeInt32BE(b.length, o);
    out.set(b, o);
    o += b.length;
  };
  const int8 = (v: number): void => {
    const hi = Math.floor(v / _TWO32);
    o = out.writeInt32BE(8, o);
    o = out.writeInt32BE(hi, o);
    o = out.writeUInt32BE(v - hi * _TWO32, o);
  };
  for (const r of rows) {
    const f = frameOf(r);
    out.set(f.head, o);
    o += f.head.length;
    bytes(r.mapKey);
    o = out.writeInt32BE(2, o);
    o = out.writeInt16BE(r.op, o);
    // Row versions (LSNs) fit a double's integers in practice: the BigInt write only above 2^53 − 1.
    const v = r.rowVersion;
    if (v <= _MAX_SAFE) int8(Number(v));
    else {
      o = out.writeInt32BE(8, o);
      o = out.writeBigInt64BE(v, o);
    }
    bytes(r.leafCommitment);
    bytes(r.block);
    const s = r.streamSeq ?? seq;
    if (s === null) o = out.writeInt32BE(-1, o);
    else int8(s);
    int8(r.logIndex);
    out.set(f.tail, o);
    o += f.tail.length;
  }
  out.set(COPY_TRAILER, o);
  return out;
}

/**
 * The entry with the highest log index per (source, table, map key), in the order each key first appears. Keys
 * are told apart by their first 48 bits (map keys are keyed hashes, uniform) and compared in full on a match; two
 * different keys sharing those bits send the whole input through an exact string-keyed pass instead.
 * @example _latestPerKey(blocks)
 */
export function _latestPerKey(blocks: readonly BlockInput[]): BlockInput[] {
  const tables = new Map<string, Map<number, number>>();
  const out: BlockInput[] = [];
  let lastSource: string | undefined;
  let lastTable: string | undefined;
  let keys = new Map<number, number>();
  for (const b of blocks) {
    if (b.source !== lastSource || b.table !== lastTable) {
      const t = `${b.source}\u0000${b.table}`;
      let m = tables.get(t);
      if (m === undefined) tables.set(t, (m = new Map<number, number>()));
      keys = m;
      lastSource = b.source;
      lastTable = b.table;
    }
    const k = b.mapKey;
    const h = ((k[0]! << 16) | (k[1]! << 8) | k[2]!) * 0x100_0000 + ((k[3]! << 16) | (k[4]! << 8) | k[5]!);
    const at = keys.get(h);
    if (at === undefined) {
      keys.set(h, out.length);
      out.push(b);
      continue;
    }
    const prev = out[at]!;
    if (!_equal(prev.mapKey, k)) return _latestPerKeyExact(blocks);
    if (prev.logIndex < b.logIndex) out[at] = b;
  }
  return out;
}

function _latestPerKeyExact(blocks: readonly BlockInput[]): BlockInput[] {
  const latest = new Map<string, BlockInput>();
  for (const b of blocks) {
    const k = `${b.source}\u0000${b.table}\u0000${Buffer.from(b.mapKey.buffer, b.mapKey.byteOffset, b.mapKey.byteLength).toString('latin1')}`;
    const prev = latest.get(k);
    if (prev === undefined || prev.logIndex < b.logIndex) latest.set(k, b);
  }
  return [...latest.values()];
}

function _equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
