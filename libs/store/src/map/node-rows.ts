// Map nodes packed into rows of `map_node_chunks (suite, at, lo, nodes)` in Postgres's binary COPY format, written straight from the
// in-memory store's arrays (MemoryMapStore.visitNewNodesSince hands them over as a MapNodeSink): no object or array
// per node between the map and the database file. README "Writing map nodes".
import { equalBytes, type HashSuite, type HashSuiteName, type MapNodeSink, type MapNodeWithHash } from '@merklesync/merkle';
import type { ScratchBuffers } from '../scratch.ts';
import { COPY_HEADER, COPY_TRAILER, _allocUnsafe } from './copy.ts';
import { CHUNK_HEAD, CHUNK_PER_NODE, NODE_BRANCH, NODE_BRANCH_AT, NODE_LEAF, _putU32, checkLocator, suiteCode, writeLocator } from './node-codec.ts';

/**
 * Bytes of the `nodes` column a chunk fills at most (README "Node chunks"; a single larger node is a chunk of its own): the
 * row then stays below Postgres's TOAST threshold (≈ 2,032 bytes a tuple), so it is neither compressed nor moved
 * out of line.
 */
export const CHUNK_BYTES = 1900;
/** Row prefix: field count (2), suite (4 + 2), at (4 + 8), hash (4 + 32), node length (4). The hash starts 24 bytes in. */
const _ROW_FIXED = 60;
const _AT_AT = 12;
const _HASH_AT = 24;
const _BRANCH_NODE = 98;
const _BRANCH_AT_NODE = 114;
const _EMPTY = new Uint8Array(0);

/** Options of a {@link MapNodeRows}. */
export interface MapNodeRowsOptions {
  /**
   * Where the rows' memory comes from (default: fresh arrays). With buffers, the memory goes back to them when it
   * is outgrown and at {@link MapNodeRows.release} (README "Reused write buffers").
   */
  readonly buffers?: ScratchBuffers;
}

/**
 * Map nodes collected for one write: a {@link MapNodeSink} for `MemoryMapStore.visitNewNodesSince`, or filled from
 * `MapNodeWithHash` objects with {@link add}. Each node is encoded once, as its COPY row (storage encoding of
 * README "Node encoding"); {@link copyFiles} puts the rows in hash order (concurrent writers take index locks in
 * one order) by a radix pass over the hashes' first (up to 16) bits — hashes are uniform — and an insertion sort of the
 * rare collisions, instead of a comparison sort.
 * @example const rows = new MapNodeRows('sha256'); mem.visitNewNodesSince(mark, roots, rows); await nodes.putNodes(rows)
 */
export class MapNodeRows implements MapNodeSink {
  /** The `suite` column's value ({@link suiteCode}). */
  readonly suiteCode: number;
  /**
   * The `at` column's value of every row: the nodes' locator (README "Node locators"): the merkle service writes a
   * group's new nodes under the group's stream sequence; 0 is the locator of nodes written without one.
   */
  readonly at: number;
  private _roots: { hash: Uint8Array; at: number }[] = [];
  private _buf: Uint8Array;
  private _end = 0;
  private _starts: Uint32Array;
  private _count = 0;
  private _sorted: Uint32Array | undefined;
  /** Where `_buf` comes from and goes back to (parts made by {@link parts} have none: their memory is their parent's). */
  private readonly _buffers: ScratchBuffers | undefined;
  /** Memory of the parts made by {@link parts}, which {@link release} gives back with this collection's. */
  private readonly _partsBufs: Uint8Array[] = [];
  private _released = false;

  /**
   * @param suite the nodes' hash suite, or its column code.
   * @param expectedNodes room reserved up front (grows as needed).
   * @param at the rows' locator (default 0).
   * @param options where the memory comes from ({@link MapNodeRowsOptions}).
   * @throws StoreError(CORRUPT_NODE) for an unknown suite code; MerkleError(UNKNOWN_HASH_SUITE) for an unknown name;
   *   RangeError for a locator that is not a non-negative safe integer.
   * @example const rows = new MapNodeRows('sha256', 20_000, seq, { buffers }); …; await nodes.putNodes(rows); rows.release()
   */
  constructor(suite: HashSuite | HashSuiteName | number, expectedNodes = 256, at = 0, options: MapNodeRowsOptions = {}) {
    this.suiteCode = typeof suite === 'number' ? suite : suiteCode(suite);
    this.at = checkLocator(at, 'at');
    this._buffers = options.buffers;
    const n = Math.max(16, Math.min(expectedNodes, 1 << 22) | 0);
    this._buf = this._alloc(n * (_ROW_FIXED + _BRANCH_NODE));
    this._starts = new Uint32Array(n + 1);
  }

  /**
   * Gives the rows' memory (and that of the parts {@link parts} made) back to the buffers they came from; without
   * buffers, lets the collector have it. Call it once nothing reads the rows or their parts any more (their writes
   * completed or failed). The collection is then empty, and adding to it or writing it throws. Repeating is harmless.
   */
  release(): void {
    if (this._released) return;
    this._released = true;
    if (this._buffers !== undefined) for (const b of [this._buf, ...this._partsBufs]) this._buffers.give(b);
    this._partsBufs.length = 0;
    this._buf = _EMPTY;
    this._starts = new Uint32Array(1);
    this._count = 0;
    this._end = 0;
    this._sorted = undefined;
  }

  /** True after {@link release}. */
  get released(): boolean {
    return this._released;
  }

  /** Nodes collected. */
  get count(): number {
    return this._count;
  }

  /** Roots recorded with {@link root} (map_roots rows written with the nodes). */
  get roots(): readonly { readonly hash: Uint8Array; readonly at: number }[] {
    return this._roots;
  }

  /**
   * Records a map root and its node's locator: `putNodes` writes it to `map_roots` (how a reader that has only a
   * root's hash finds its node). A root is recorded once.
   * @throws RangeError for a hash that is not 32 bytes or a locator that is not a non-negative safe integer.
   * @example rows.root(root, mem.atOf(root)!)
   */
  root(hash: Uint8Array, at: number): void {
    if (!(hash instanceof Uint8Array) || hash.length !== 32) throw new RangeError('root must be 32 bytes');
    checkLocator(at, 'root locator');
    if (this._roots.some((r) => equalBytes(r.hash, hash))) return;
    this._roots.push({ hash: hash.slice(), at });
  }

  /** A leaf (MapNodeSink). @throws RangeError when a byte range lies outside its array. */
  leaf(hash: Uint8Array, hashOff: number, key: Uint8Array, keyOff: number, value: Uint8Array, valueOff: number, valueLen: number): void {
    _range('hash', hash, hashOff, 32);
    _range('key', key, keyOff, 32);
    _range('value', value, valueOff, valueLen);
    let o = this._row(hash, hashOff, 33 + valueLen);
    const b = this._buf;
    b[o++] = NODE_LEAF;
    for (let i = 0; i < 32; i++) b[o + i] = key[keyOff + i]!;
    o += 32;
    if (valueLen <= 64) for (let i = 0; i < valueLen; i++) b[o + i] = value[valueOff + i]!;
    else b.set(value.subarray(valueOff, valueOff + valueLen), o);
    this._end = o + valueLen;
  }

  /**
   * A branch (MapNodeSink), with its children's locators (both 0: the 98-byte form, README "Node encoding").
   * @throws RangeError when a byte range lies outside its array, `bit` is not 0..255 or a locator is not a
   *   non-negative safe integer.
   */
  branch(hash: Uint8Array, hashOff: number, bit: number, children: Uint8Array, childrenOff: number, minKey: Uint8Array, minKeyOff: number, leftAt = 0, rightAt = 0): void {
    _range('hash', hash, hashOff, 32);
    _range('children', children, childrenOff, 64);
    _range('minKey', minKey, minKeyOff, 32);
    if (!(Number.isInteger(bit) && bit >= 0 && bit <= 255)) throw new RangeError(`branch bit must be 0..255, got ${bit}`);
    checkLocator(leftAt, 'leftAt');
    checkLocator(rightAt, 'rightAt');
    const located = leftAt !== 0 || rightAt !== 0;
    let o = this._row(hash, hashOff, located ? _BRANCH_AT_NODE : _BRANCH_NODE);
    const b = this._buf;
    b[o++] = located ? NODE_BRANCH_AT : NODE_BRANCH;
    b[o++] = bit;
    for (let i = 0; i < 64; i++) b[o + i] = children[childrenOff + i]!;
    o += 64;
    for (let i = 0; i < 32; i++) b[o + i] = minKey[minKeyOff + i]!;
    o += 32;
    if (located) {
      writeLocator(b, o, leftAt);
      writeLocator(b, o + 8, rightAt);
      o += 16;
    }
    this._end = o;
  }

  /** A node given as an object. @throws RangeError for a hash that is not 32 bytes or a key/child that is not. */
  add(n: MapNodeWithHash): void {
    const { hash, node } = n;
    if (hash.length !== 32) throw new RangeError('map node hash must be 32 bytes');
    if (node.type === 'leaf') {
      this.leaf(hash, 0, node.key, 0, node.value, 0, node.value.length);
      return;
    }
    if (node.left.length !== 32 || node.right.length !== 32) throw new RangeError('map branch children must be 32-byte hashes');
    const children = new Uint8Array(64);
    children.set(node.left, 0);
    children.set(node.right, 32);
    this.branch(hash, 0, node.bit, children, 0, node.minKey, 0, node.leftAt ?? 0, node.rightAt ?? 0);
  }

  /**
   * The nodes sorted by hash and packed into chunks (README "Node chunks"), as up to `parts` complete COPY files of
   * `map_node_chunks (suite, at, lo, nodes)` rows over contiguous hash ranges and about equal node counts (fewer
   * when there are fewer than 1,000 nodes per part: a COPY has a fixed cost). A chunk takes nodes in hash order while
   * it stays within {@link CHUNK_BYTES} (at least one node); at locator 0, every node is a chunk of its own. A hash
   * met twice is written once (content addressing: the same node). No nodes: one empty file.
   * `alloc` gives each file's memory (default `Buffer.allocUnsafe`; the store passes reused buffers, README "Reused
   * write buffers").
   * @example for (const f of rows.copyFiles(2)) await copyFromBinary(client, sql, f)
   */
  copyFiles(parts = 1, alloc: (size: number) => Buffer = _allocUnsafe): Buffer[] {
    this._live();
    const order = this._order();
    const n = this._count;
    const k = Math.max(1, Math.min(Math.floor(parts), Math.ceil(n / 1_000)));
    const per = Math.max(1, Math.ceil(n / k));
    const out: Buffer[] = [];
    for (let from = 0; from < n || out.length === 0; from += per) {
      const to = Math.min(n, from + per);
      const { sel, bounds, sizes } = this._plan(order, from, to);
      let size = COPY_HEADER.length + COPY_TRAILER.length;
      for (const len of sizes) size += _ROW_FIXED + len;
      const f = alloc(size);
      f.set(COPY_HEADER, 0);
      let w = COPY_HEADER.length;
      const b = this._buf;
      for (let c = 0; c < sizes.length; c++) {
        // The first node's row prefix (field count, suite, at, its hash as `lo`), then the chunk's length and bytes.
        const s0 = this._starts[sel[bounds[c]!]!]!;
        f.set(b.subarray(s0, s0 + _HASH_AT + 32), w);
        _putU32(f, w + _HASH_AT + 32, sizes[c]!);
        w = this._writeChunk(f, w + _ROW_FIXED, sel, bounds[c]!, bounds[c + 1]!);
      }
      f.set(COPY_TRAILER, w);
      out.push(f);
      if (to === n) break;
    }
    return out;
  }

  /** The chunks {@link copyFiles} writes, as their first hash (`lo`) and bytes (`nodes`), for an INSERT … unnest. */
  chunkPairs(): { lo: Buffer; nodes: Buffer }[] {
    this._live();
    const order = this._order();
    const { sel, bounds, sizes } = this._plan(order, 0, this._count);
    return sizes.map((len, c) => {
      const nodes = Buffer.allocUnsafe(len);
      this._writeChunk(nodes, 0, sel, bounds[c]!, bounds[c + 1]!);
      const s0 = this._starts[sel[bounds[c]!]!]! + _HASH_AT;
      return { lo: Buffer.from(this._buf.subarray(s0, s0 + 32)), nodes };
    });
  }

  /**
   * The chunks of sorted rows `order[from..to)`: `sel`, the row numbers written (a hash equal to the one before it is
   * left out); chunk `c` is `sel[bounds[c] .. bounds[c + 1])` (`bounds` ends with `sel.length`) and takes `sizes[c]` bytes.
   */
  private _plan(order: Uint32Array, from: number, to: number): { sel: number[]; bounds: number[]; sizes: number[] } {
    const b = this._buf;
    const st = this._starts;
    const sel: number[] = [];
    const bounds: number[] = [];
    const sizes: number[] = [];
    const single = this.at === 0;
    for (let i = from; i < to; i++) {
      const r = order[i]!;
      if (sel.length > 0 && _cmpHash(b, st[sel[sel.length - 1]!]! + _HASH_AT, st[r]! + _HASH_AT) === 0) continue;
      const add = CHUNK_PER_NODE + this._len(r) - _ROW_FIXED;
      if (sizes.length === 0 || single || sizes[sizes.length - 1]! + add > CHUNK_BYTES) {
        bounds.push(sel.length);
        sizes.push(CHUNK_HEAD);
      }
      sel.push(r);
      sizes[sizes.length - 1]! += add;
    }
    bounds.push(sel.length);
    return { sel, bounds, sizes };
  }

  /** Writes the chunk of rows `sel[a..e)` at `f[w..]` (layout: node-codec.ts `CHUNK_HEAD`); returns where it ends. */
  private _writeChunk(f: Uint8Array, w: number, sel: readonly number[], a: number, e: number): number {
    const b = this._buf;
    const st = this._starts;
    const m = e - a;
    f[w] = m >>> 8;
    f[w + 1] = m & 0xff;
    let h = w + CHUNK_HEAD;
    let ends = h + 32 * m;
    let body = ends + 4 * m;
    let end = 0;
    for (let i = a; i < e; i++) {
      const r = sel[i]!;
      const s = st[r]!;
      const len = st[r + 1]! - s - _ROW_FIXED;
      // Byte loops, not subarray + set: a view per node costs more than copying ~150 bytes.
      for (let j = 0, o = s + _HASH_AT; j < 32; j++) f[h + j] = b[o + j]!;
      h += 32;
      end += len;
      _putU32(f, ends, end);
      ends += 4;
      if (len <= 128) for (let j = 0, o = s + _ROW_FIXED; j < len; j++) f[body + j] = b[o + j]!;
      else f.set(b.subarray(s + _ROW_FIXED, s + _ROW_FIXED + len), body);
      body += len;
    }
    return body;
  }

  /**
   * The rows in hash order split into up to `parts` collections of contiguous hash ranges and about equal size
   * (fewer when there are fewer than 1,000 rows per part), for writers on parallel connections. One part: this.
   */
  parts(parts: number): MapNodeRows[] {
    this._live();
    const n = this._count;
    const k = Math.max(1, Math.min(Math.floor(parts), Math.ceil(n / 1_000)));
    if (k === 1) return [this];
    const order = this._order();
    const per = Math.ceil(n / k);
    const out: MapNodeRows[] = [];
    // One piece of memory for every part (each a view of its own range), given back by this collection's release().
    const all = this._buffers ? this._buffers.take(this._end) : new Uint8Array(this._end);
    if (this._buffers) this._partsBufs.push(all);
    let base = 0;
    for (let from = 0; from < n; from += per) {
      const to = Math.min(n, from + per);
      let bytes = 0;
      for (let i = from; i < to; i++) bytes += this._len(order[i]!);
      const p = new MapNodeRows(this.suiteCode, 16, this.at);
      if (out.length === 0) p._roots = this._roots;
      p._buf = all.subarray(base, base + bytes);
      base += bytes;
      p._starts = new Uint32Array(to - from + 1);
      for (let i = from; i < to; i++) {
        const s = this._starts[order[i]!]!;
        const e = this._starts[order[i]! + 1]!;
        p._buf.set(this._buf.subarray(s, e), p._end);
        p._starts[p._count++] = p._end;
        p._end += e - s;
      }
      p._starts[p._count] = p._end;
      p._sorted = Uint32Array.from({ length: p._count }, (_, i) => i);
      out.push(p);
    }
    return out;
  }

  /** Every row's hash and encoded node (views into this collection), in hash order. */
  sortedPairs(): { hash: Buffer; node: Buffer }[] {
    this._live();
    const order = this._order();
    const b = this._buf;
    const out: { hash: Buffer; node: Buffer }[] = [];
    for (let i = 0; i < this._count; i++) {
      const s = this._starts[order[i]!]!;
      const e = this._starts[order[i]! + 1]!;
      out.push({ hash: Buffer.from(b.buffer, b.byteOffset + s + _HASH_AT, 32), node: Buffer.from(b.buffer, b.byteOffset + s + _ROW_FIXED, e - s - _ROW_FIXED) });
    }
    return out;
  }

  /** Starts a row for a node of `nodeLen` bytes with the given hash; returns where the node's bytes go. */
  private _row(hash: Uint8Array, hashOff: number, nodeLen: number): number {
    this._live();
    const need = _ROW_FIXED + nodeLen;
    if (this._end + need > this._buf.length) this._grow(need);
    if (this._count + 2 > this._starts.length) {
      const s = new Uint32Array(2 * this._starts.length);
      s.set(this._starts);
      this._starts = s;
    }
    this._sorted = undefined;
    const b = this._buf;
    let o = this._end;
    this._starts[this._count++] = o;
    // field count 4; suite: length 2, value; at: length 8, value; hash: length 32, bytes; node: length
    b[o] = 0;
    b[o + 1] = 4;
    b[o + 2] = 0;
    b[o + 3] = 0;
    b[o + 4] = 0;
    b[o + 5] = 2;
    b[o + 6] = (this.suiteCode >>> 8) & 0xff;
    b[o + 7] = this.suiteCode & 0xff;
    b[o + 8] = 0;
    b[o + 9] = 0;
    b[o + 10] = 0;
    b[o + 11] = 8;
    writeLocator(b, o + _AT_AT, this.at);
    b[o + 20] = 0;
    b[o + 21] = 0;
    b[o + 22] = 0;
    b[o + 23] = 32;
    o += _HASH_AT;
    for (let i = 0; i < 32; i++) b[o + i] = hash[hashOff + i]!;
    o += 32;
    b[o] = nodeLen >>> 24;
    b[o + 1] = (nodeLen >>> 16) & 0xff;
    b[o + 2] = (nodeLen >>> 8) & 0xff;
    b[o + 3] = nodeLen & 0xff;
    this._starts[this._count] = o + 4 + nodeLen;
    return o + 4;
  }

  private _grow(need: number): void {
    let size = Math.max(2 * this._buf.length, 1024);
    while (size < this._end + need) size *= 2;
    const old = this._buf;
    const b = this._alloc(size);
    b.set(old.subarray(0, this._end));
    this._buf = b;
    this._buffers?.give(old);
  }

  /** Memory for the rows: from the buffers when there are some (given back when outgrown or released). */
  private _alloc(size: number): Uint8Array {
    return this._buffers ? this._buffers.take(size) : new Uint8Array(size);
  }

  private _live(): void {
    if (this._released) throw new Error('MapNodeRows used after release()');
  }

  private _len(r: number): number {
    return this._starts[r + 1]! - this._starts[r]!;
  }

  /**
   * Row numbers in hash order: counting sort by the hash's first `bits` bits (about log2 of the row count, at most
   * 16, so a small collection does not clear 65,536 counters), insertion sort inside each bucket.
   */
  private _order(): Uint32Array {
    if (this._sorted !== undefined) return this._sorted;
    const n = this._count;
    const b = this._buf;
    const st = this._starts;
    const shift = 16 - Math.min(16, Math.max(1, Math.ceil(Math.log2(n + 1))));
    const buckets = 1 << (16 - shift);
    const key = new Uint16Array(n);
    const counts = new Uint32Array(buckets + 1);
    for (let r = 0; r < n; r++) {
      const o = st[r]! + _HASH_AT;
      const k = ((b[o]! << 8) | b[o + 1]!) >>> shift;
      key[r] = k;
      counts[k + 1]!++;
    }
    for (let k = 1; k <= buckets; k++) counts[k]! += counts[k - 1]!;
    const order = new Uint32Array(n);
    for (let r = 0; r < n; r++) order[counts[key[r]!]!++] = r;
    // Each bucket is now contiguous and in row order; sort the (usually one-element) buckets by the whole hash.
    for (let i = 1; i < n; i++) {
      const r = order[i]!;
      let j = i - 1;
      while (j >= 0 && key[order[j]!] === key[r] && _cmpHash(b, st[order[j]!]! + _HASH_AT, st[r]! + _HASH_AT) > 0) {
        order[j + 1] = order[j]!;
        j--;
      }
      order[j + 1] = r;
    }
    this._sorted = order;
    return order;
  }
}

function _cmpHash(b: Uint8Array, x: number, y: number): number {
  for (let i = 0; i < 32; i++) {
    const d = b[x + i]! - b[y + i]!;
    if (d !== 0) return d;
  }
  return 0;
}

function _range(name: string, a: Uint8Array, off: number, len: number): void {
  if (!(off >= 0 && len >= 0 && off + len <= a.length)) throw new RangeError(`${name}: bytes ${off}..${off + len} outside an array of ${a.length}`);
}
