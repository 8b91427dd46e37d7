import { assertBytes, equalBytes, toHex } from '../bytes.ts';
import { MerkleError, MerkleErrorCode } from '../errors.ts';
import { HASH_SUITE_NAMES, getHashSuite } from '../hash/index.ts';
import type { HashSuite } from '../hash/suite.ts';
import { _branchHash, _emptyRoot, _leafHash, type MapNode } from './node.ts';
import type { MapNodeSource } from './source.ts';
import { _NONE, type _Tree } from './tree.ts';

/** Branch record: left hash, right hash (bytes 0..63), then words 16 left ref, 17 right ref, 18 min leaf, 19 bit. */
const _BR_BYTES = 80;
const _BW = 20;
/** Leaf record: key (bytes 0..31), then words 8 value chunk, 9 value offset in it, 10 value length. */
export const _LF_BYTES = 48;
const _LW = 12;
/** Records per arena chunk: ref r lives in chunk r >>> 16 at slot r & 0xffff. */
export const _CH_SHIFT = 16;
const _CH = 1 << _CH_SHIFT;
export const _CH_MASK = _CH - 1;
/** Bytes per value chunk (a larger value gets a chunk of its own). */
const _VCH = 1 << 20;
/** `_lookupLoc` result for an unknown hash. */
export const _MISSING = -(2 ** 52);

/**
 * A position in a store's append order, taken by {@link MemoryMapStore.mark}: every record added later
 * is "new" relative to it. {@link MemoryMapStore.prune} rewrites the arenas, which invalidates marks.
 */
export interface MapStoreMark {
  readonly branches: number;
  readonly leaves: number;
  readonly epoch: number;
}

/** A node with its hash, as {@link MemoryMapStore.newNodesSince} lists them. */
export interface MapNodeWithHash {
  readonly hash: Uint8Array;
  readonly node: MapNode;
}

/**
 * Receives the nodes {@link MemoryMapStore.visitNewNodesSince} lists, one call per node, as positions in the
 * store's own arrays (no object per node): every byte range is valid only during the call (copy what you keep).
 */
export interface MapNodeSink {
  /** A leaf: its hash at `hash[hashOff..+32]`, key at `key[keyOff..+32]`, value at `value[valueOff..+valueLen]`. */
  leaf(hash: Uint8Array, hashOff: number, key: Uint8Array, keyOff: number, value: Uint8Array, valueOff: number, valueLen: number): void;
  /**
   * A branch splitting at `bit`: its hash at `hash[hashOff..+32]`, its left then right child's hash at
   * `children[childrenOff..+64]`, the smallest key below it at `minKey[minKeyOff..+32]`; `leftAt` and `rightAt` are
   * the children's locators (see {@link MemoryMapStore.atOf}: where a persistent store keeps them; 0 when not set).
   */
  branch(hash: Uint8Array, hashOff: number, bit: number, children: Uint8Array, childrenOff: number, minKey: Uint8Array, minKeyOff: number, leftAt: number, rightAt: number): void;
}

/**
 * The in-memory node store. Nodes live in packed records in chunked typed-array arenas (branches 80 bytes,
 * leaves 48 bytes, values in chunks of their own), with no per-node JS objects; chunks of 65,536 records
 * are never copied when the store grows. A node ref is a branch index (≥ 0) or `~leafIndex` (< 0). A
 * branch record holds both children's hashes next to their refs, so walking a path reads one record per
 * step; a node's own hash lives in its parent (roots: in a small root table). A hash handle names where
 * a hash is kept: `2 * branch + side` for a child slot, `~slot` for the root table.
 *
 * Content-addressed access ({@link getNode}, {@link has}, reading a map at a hash that is not a root
 * returned by an update) uses a hash index that is built lazily on the first such lookup and extended on
 * later ones; the map's own operations never need it, so updates pay nothing for it.
 * Members prefixed `_` are internal to the map module.
 *
 * @example const store = new MemoryMapStore(); const map = new SparseMerkleMap({ store });
 */
export class MemoryMapStore implements MapNodeSource, _Tree {
  _bcount = 0;
  _bc8: Uint8Array[] = [];
  _bc32: Int32Array[] = [];
  _lcount = 0;
  _lc8: Uint8Array[] = [];
  _lc32: Int32Array[] = [];
  _vc: Uint8Array[] = [];
  _vUsed = 0;
  /** Root table: hashes of roots made by updates (and looked up), their refs, and a map from hash to slot. */
  _rootHashes = new Uint8Array(32 * 64);
  _rootHashes32 = new Int32Array(this._rootHashes.buffer);
  _rootRefs = new Int32Array(64);
  _rootCount = 0;
  private _rootMap = new Map<string, number>();
  private _lastRoot = -1;
  /** Lazy hash index over child-slot handles, covering branches below `_indexedTo`. */
  private _index: Int32Array | null = null;
  private _indexedTo = 0;
  private readonly _initial: number;
  /** Slab that full-size chunks are carved from (see {@link _chunk}). */
  private _slab: ArrayBuffer | null = null;
  private _slabUsed = 0;
  private _slabTotal = 0;
  /** Bumped by {@link prune} (which renumbers every record), so stale marks are detected. */
  private _epoch = 0;
  /**
   * Locators of branch and leaf records (see {@link atOf}), one Float64Array per record chunk, allocated when a
   * chunk's first non-zero locator is set (stores that never set one pay nothing).
   */
  private _bat: (Float64Array | undefined)[] = [];
  private _lat: (Float64Array | undefined)[] = [];

  /**
   * @param initialCapacity node records to reserve up front (grows as needed).
   * @throws TypeError/RangeError for a non-positive or non-integer capacity.
   */
  constructor(initialCapacity = 1024) {
    if (!Number.isSafeInteger(initialCapacity)) throw new TypeError('initialCapacity must be a safe integer');
    if (initialCapacity < 1) throw new RangeError('initialCapacity must be positive');
    this._initial = Math.min(Math.max(initialCapacity, 16), _CH);
  }

  /** Number of stored node records (including ones no root reaches until {@link prune}). */
  get size(): number {
    return this._bcount + this._lcount;
  }

  /**
   * The locator of the node with this hash: a number a persistent store chose for where it keeps the node (the
   * merkle service stores each group's new nodes under the group's stream sequence, so its table grows at one end),
   * set by {@link visitNewNodesSince} and {@link importTree}; opaque to the map. 0 when never set; undefined when
   * no node has this hash.
   * @throws TypeError/RangeError when `hash` is not 32 bytes.
   * @example rows.root(root, store.atOf(root)!)
   */
  atOf(hash: Uint8Array): number | undefined {
    const r = this._refOfHash(hash);
    return r === undefined ? undefined : this._atOf(r);
  }

  /** The ref of the node with this hash, or undefined. @throws TypeError/RangeError when `hash` is not 32 bytes. */
  private _refOfHash(hash: Uint8Array): number | undefined {
    assertBytes('hash', hash, 32);
    const loc = this._lookupLoc(hash);
    return loc === _MISSING ? undefined : this._refAt(loc);
  }

  _atOf(r: number): number {
    if (r < 0) {
      const id = ~r;
      return this._lat[id >>> _CH_SHIFT]?.[id & _CH_MASK] ?? 0;
    }
    return this._bat[r >>> _CH_SHIFT]?.[r & _CH_MASK] ?? 0;
  }

  private _setAt(r: number, at: number): void {
    const arr = r < 0 ? this._lat : this._bat;
    const id = r < 0 ? ~r : r;
    let c = arr[id >>> _CH_SHIFT];
    if (c === undefined) {
      if (at === 0) return;
      c = arr[id >>> _CH_SHIFT] = new Float64Array(_CH);
    }
    c[id & _CH_MASK] = at;
  }

  /** True when a node with this hash is stored. @example store.has(root) */
  has(hash: Uint8Array): boolean {
    assertBytes('hash', hash, 32);
    return this._lookupLoc(hash) !== _MISSING;
  }

  /**
   * The node for `hash` as an object (views into the arenas: treat as read-only).
   * @throws TypeError/RangeError when `hash` is not 32 bytes.
   * @example store.getNode(root)?.type
   */
  getNode(hash: Uint8Array): MapNode | undefined {
    const r = this._refOfHash(hash);
    return r === undefined ? undefined : this._node(r);
  }

  _node(r: number): MapNode {
    if (r < 0) {
      const id = ~r;
      const o = _LF_BYTES * (id & _CH_MASK);
      const w = _LW * (id & _CH_MASK);
      const l32 = this._lc32[id >>> _CH_SHIFT]!;
      const off = l32[w + 9]!;
      return {
        type: 'leaf',
        key: this._lc8[id >>> _CH_SHIFT]!.subarray(o, o + 32),
        value: this._vc[l32[w + 8]!]!.subarray(off, off + l32[w + 10]!),
      };
    }
    const c8 = this._bc8[r >>> _CH_SHIFT]!;
    const o = _BR_BYTES * (r & _CH_MASK);
    const w = _BW * (r & _CH_MASK);
    const b32 = this._bc32[r >>> _CH_SHIFT]!;
    const m = b32[w + 18]!;
    const mo = _LF_BYTES * (m & _CH_MASK);
    return {
      type: 'branch',
      bit: b32[w + 19]!,
      left: c8.subarray(o, o + 32),
      right: c8.subarray(o + 32, o + 64),
      minKey: this._lc8[m >>> _CH_SHIFT]!.subarray(mo, mo + 32),
    };
  }

  // ---- hash handles, root table and the lazy index ----

  /** The ref whose hash is at handle `loc`. */
  _refAt(loc: number): number {
    if (loc < 0) return this._rootRefs[~loc]!;
    const p = loc >>> 1;
    return this._bc32[p >>> _CH_SHIFT]![_BW * (p & _CH_MASK) + 16 + (loc & 1)]!;
  }

  /** Hash handle for `hash` (a root slot or a child slot), or `_MISSING`. */
  _lookupLoc(hash: Uint8Array): number {
    const last = this._lastRoot;
    if (last >= 0 && _eq32(this._rootHashes, 32 * last, hash, 0)) return ~last;
    const slot = this._rootMap.get(_hashKey(hash, 0));
    if (slot !== undefined) {
      this._lastRoot = slot;
      return ~slot;
    }
    return this._indexLookup(hash);
  }

  /** Records `ref` as a root with the hash at buf[off..off+32] and returns its hash handle. */
  _addRoot(buf: Uint8Array, off: number, ref: number): number {
    const key = _hashKey(buf, off);
    const had = this._rootMap.get(key);
    if (had !== undefined) return ~had;
    const slot = this._rootCount++;
    if (slot === this._rootRefs.length) {
      const h = new Uint8Array(2 * this._rootHashes.length);
      h.set(this._rootHashes);
      this._rootHashes = h;
      this._rootHashes32 = new Int32Array(h.buffer);
      const r = new Int32Array(2 * this._rootRefs.length);
      r.set(this._rootRefs);
      this._rootRefs = r;
    }
    this._rootHashes.set(buf.subarray(off, off + 32), 32 * slot);
    this._rootRefs[slot] = ref;
    this._rootMap.set(key, slot);
    this._lastRoot = slot;
    return ~slot;
  }

  private _indexLookup(hash: Uint8Array): number {
    this._extendIndex();
    const idx = this._index!;
    const mask = idx.length - 1;
    let slot = _probe(hash, 0) & mask;
    for (;;) {
      const v = idx[slot]!;
      if (v < 0) return _MISSING;
      if (_eq32(this.hbuf(v), this.hoff(v), hash, 0)) return v;
      slot = (slot + 1) & mask;
    }
  }

  /** Indexes the child slots of branches added since the last lookup. */
  private _extendIndex(): void {
    const end = this._bcount;
    if (this._index !== null && this._indexedTo === end) return;
    let size = this._index === null ? 16 : this._index.length;
    while (size < 4 * (end + 1)) size *= 2;
    if (this._index === null || size !== this._index.length) {
      this._index = new Int32Array(size).fill(-1);
      this._indexedTo = 0;
    }
    const idx = this._index;
    const mask = size - 1;
    for (let loc = 2 * this._indexedTo; loc < 2 * end; loc++) {
      const b = this.hbuf(loc);
      const o = this.hoff(loc);
      let slot = _probe(b, o) & mask;
      for (;;) {
        const v = idx[slot]!;
        if (v < 0) {
          idx[slot] = loc;
          break;
        }
        if (_eq32(this.hbuf(v), this.hoff(v), b, o)) break;
        slot = (slot + 1) & mask;
      }
    }
    this._indexedTo = end;
  }

  // ---- allocation ----

  /** New branch record (child hashes are filled in by the caller). */
  _newBranch(bit: number, left: number, right: number): number {
    const id = this._bcount;
    const ci = id >>> _CH_SHIFT;
    if (ci === this._bc32.length || _BR_BYTES * ((id & _CH_MASK) + 1) > this._bc8[ci]!.length) this._growBranches(ci);
    this._bcount = id + 1;
    const b = this._bc32[ci]!;
    const w = _BW * (id & _CH_MASK);
    b[w + 16] = left;
    b[w + 17] = right;
    b[w + 18] = left < 0 ? ~left : this._bc32[left >>> _CH_SHIFT]![_BW * (left & _CH_MASK) + 18]!;
    b[w + 19] = bit;
    return id;
  }

  /** New leaf record with key src[srcOff..+32] and value v[vOff..vOff+len]. Returns its ref (~index). */
  _newLeaf(src: Uint8Array, srcOff: number, v: Uint8Array, vOff: number, len: number): number {
    const id = this._lcount;
    const ci = id >>> _CH_SHIFT;
    if (ci === this._lc32.length || _LF_BYTES * ((id & _CH_MASK) + 1) > this._lc8[ci]!.length) this._growLeaves(ci);
    this._lcount = id + 1;
    const l = this._lc8[ci]!;
    const o = _LF_BYTES * (id & _CH_MASK);
    for (let i = 0; i < 32; i++) l[o + i] = src[srcOff + i]!;
    let vc = this._vc.length - 1;
    if (vc < 0 || this._vUsed + len > this._vc[vc]!.length) {
      this._vc.push(this._lcount > _CH ? this._chunk(Math.max(_VCH, (len + 7) & ~7)) : new Uint8Array(Math.max(_VCH, len)));
      this._vUsed = 0;
      vc++;
    }
    const off = this._vUsed;
    const vs = this._vc[vc]!;
    if (len <= 64) for (let i = 0; i < len; i++) vs[off + i] = v[vOff + i]!;
    else vs.set(v.subarray(vOff, vOff + len), off);
    this._vUsed = off + len;
    const w = _LW * (id & _CH_MASK);
    const l32 = this._lc32[ci]!;
    l32[w + 8] = vc;
    l32[w + 9] = off;
    l32[w + 10] = len;
    return ~id;
  }

  /**
   * A zeroed chunk of `bytes` (a multiple of 8). Large stores take chunks from slabs of up to 256 MB:
   * the engine schedules a full garbage collection for about every 64 MB of new array-buffer memory,
   * so one big allocation instead of dozens of chunk-sized ones avoids most of those collections.
   * Untouched slab pages are never written, so they cost address space, not resident memory.
   */
  private _chunk(bytes: number): Uint8Array {
    if (this._slab === null || this._slabUsed + bytes > this._slab.byteLength) {
      const size = Math.max(bytes, Math.min(256 << 20, Math.max(16 << 20, this._slabTotal)));
      this._slab = new ArrayBuffer(size);
      this._slabUsed = 0;
      this._slabTotal += size;
    }
    const c = new Uint8Array(this._slab, this._slabUsed, bytes);
    this._slabUsed += bytes;
    return c;
  }

  private _growBranches(ci: number): void {
    const cur = ci < this._bc8.length ? this._bc8[ci]! : null;
    const b = ci === 0 ? _grownChunk(cur, this._initial, _BR_BYTES) : this._chunk(_BR_BYTES * _CH);
    this._bc8[ci] = b;
    this._bc32[ci] = new Int32Array(b.buffer, b.byteOffset, b.length >> 2);
  }

  private _growLeaves(ci: number): void {
    const cur = ci < this._lc8.length ? this._lc8[ci]! : null;
    const b = ci === 0 ? _grownChunk(cur, this._initial, _LF_BYTES) : this._chunk(_LF_BYTES * _CH);
    this._lc8[ci] = b;
    this._lc32[ci] = new Int32Array(b.buffer, b.byteOffset, b.length >> 2);
  }

  // ---- _Tree (the read algorithms run directly on the arenas) ----

  need(): Uint8Array | null {
    return null;
  }

  load(): void {}

  isLeaf(r: number): boolean {
    return r < 0;
  }

  bit(r: number): number {
    return r < 0 ? 256 : this._bc32[r >>> _CH_SHIFT]![_BW * (r & _CH_MASK) + 19]!;
  }

  child(r: number, side: number): number {
    return this._bc32[r >>> _CH_SHIFT]![_BW * (r & _CH_MASK) + 16 + side]!;
  }

  childLoc(r: number, side: number): number {
    return 2 * r + side;
  }

  hbuf(loc: number): Uint8Array {
    return loc >= 0 ? this._bc8[loc >>> (_CH_SHIFT + 1)]! : this._rootHashes;
  }

  hoff(loc: number): number {
    return loc >= 0 ? _BR_BYTES * ((loc >>> 1) & _CH_MASK) + 32 * (loc & 1) : 32 * ~loc;
  }

  /** Word views of {@link hbuf}/{@link hoff} (every hash sits 4-byte aligned), for copying 32-bit words. */
  _hbuf32(loc: number): Int32Array {
    return loc >= 0 ? this._bc32[loc >>> (_CH_SHIFT + 1)]! : this._rootHashes32;
  }

  _hoff32(loc: number): number {
    return loc >= 0 ? _BW * ((loc >>> 1) & _CH_MASK) + 8 * (loc & 1) : 8 * ~loc;
  }

  /** Leaf index holding the key of `r` (a leaf's own, or a branch's smallest). */
  _keyLeaf(r: number): number {
    return r < 0 ? ~r : this._bc32[r >>> _CH_SHIFT]![_BW * (r & _CH_MASK) + 18]!;
  }

  kbuf(r: number): Uint8Array {
    return this._lc8[this._keyLeaf(r) >>> _CH_SHIFT]!;
  }

  koff(r: number): number {
    return _LF_BYTES * (this._keyLeaf(r) & _CH_MASK);
  }

  keyCopy(r: number): Uint8Array {
    return _copy32(this.kbuf(r), this.koff(r));
  }

  valueCopy(r: number): Uint8Array {
    const id = ~r;
    const l32 = this._lc32[id >>> _CH_SHIFT]!;
    const w = _LW * (id & _CH_MASK);
    const off = l32[w + 9]!;
    return this._vc[l32[w + 8]!]!.slice(off, off + l32[w + 10]!);
  }

  hashCopy(loc: number): Uint8Array {
    return _copy32(this.hbuf(loc), this.hoff(loc));
  }

  // ---- persistence support ----

  /**
   * The current end of the append order. Persist with {@link newNodesSince}(mark, roots) later: nodes are
   * immutable and only ever appended, so "created after the mark" is a comparison of record numbers.
   * @example const m = store.mark(); root = map.update(root, ops); save(store.newNodesSince(m, [root]))
   */
  mark(): MapStoreMark {
    return { branches: this._bcount, leaves: this._lcount, epoch: this._epoch };
  }

  /**
   * The nodes reachable from `roots` that were created after `mark` (each once; copies, in no particular
   * order): what a persistent store must write so that every node of those roots is stored, given that
   * everything reachable from the roots that existed at `mark` was stored already. Older subtrees are
   * not entered (a node created before the mark never points at a newer one). The empty root and roots
   * older than the mark contribute nothing.
   * @throws TypeError/RangeError when a root is not 32 bytes or `mark` is not a mark of this store's
   *   current epoch (a {@link prune} happened since); MerkleError(NODE_NOT_FOUND) for an unknown root.
   * With `options.views`, hashes and node fields are views into the store instead of copies (no allocation
   * per byte array): read them before the store is next updated or pruned, which may overwrite them.
   * @example const nodes = store.newNodesSince(mark, [newRoot]); await pg.putNodes(suite, nodes)
   */
  newNodesSince(mark: MapStoreMark, roots: readonly Uint8Array[], options: { readonly views?: boolean } = {}): MapNodeWithHash[] {
    const views = options.views === true;
    const out: MapNodeWithHash[] = [];
    const view = (b: Uint8Array, o: number, n: number): Uint8Array => (views ? b.subarray(o, o + n) : b.slice(o, o + n));
    this.visitNewNodesSince(mark, roots, {
      leaf: (h, ho, k, ko, v, vo, vn) => out.push({ hash: view(h, ho, 32), node: { type: 'leaf', key: view(k, ko, 32), value: view(v, vo, vn) } }),
      branch: (h, ho, bit, c, co, m, mo) =>
        out.push({ hash: view(h, ho, 32), node: { type: 'branch', bit, left: view(c, co, 32), right: view(c, co + 32, 32), minKey: view(m, mo, 32) } }),
    });
    return out;
  }

  /**
   * What {@link newNodesSince} lists, handed to `sink` one node at a time as positions in the store's arrays: no
   * object or array per node (the persistence path writes them straight into a database file). Same order, same
   * checks.
   * @returns the number of nodes visited.
   * @throws as {@link newNodesSince}; whatever `sink` throws (the visit stops there).
   * @example store.visitNewNodesSince(mark, [root], copyFileBuilder)
   */
  visitNewNodesSince(mark: MapStoreMark, roots: readonly Uint8Array[], sink: MapNodeSink, at = 0): number {
    if (typeof mark !== 'object' || mark === null) throw new TypeError('mark must be a MapStoreMark');
    if (mark.epoch !== this._epoch) throw new RangeError('mark is stale: the store was pruned since it was taken');
    if (!(mark.branches >= 0 && mark.branches <= this._bcount && mark.leaves >= 0 && mark.leaves <= this._lcount)) {
      throw new RangeError('mark does not belong to this store');
    }
    if (!Array.isArray(roots)) throw new TypeError('roots must be an array');
    if (typeof sink !== 'object' || sink === null || typeof sink.leaf !== 'function' || typeof sink.branch !== 'function') {
      throw new TypeError('sink must be a MapNodeSink');
    }
    _locator(at, 'at');
    const seenB = new Uint8Array(this._bcount - mark.branches);
    const seenL = new Uint8Array(this._lcount - mark.leaves);
    // Stack of (ref, hash handle) pairs; a handle is where the node's hash is kept (parent slot or root table).
    const stack: number[] = [];
    const visit = (ref: number, loc: number): void => {
      if (ref < 0) {
        const i = ~ref - mark.leaves;
        if (i < 0 || seenL[i] === 1) return;
        seenL[i] = 1;
      } else {
        const i = ref - mark.branches;
        if (i < 0 || seenB[i] === 1) return;
        seenB[i] = 1;
      }
      stack.push(ref, loc);
    };
    for (const [i, root] of roots.entries()) {
      assertBytes(`roots[${i}]`, root, 32);
      const loc = this._lookupLoc(root);
      if (loc === _MISSING) {
        // The empty map's root is no stored node; anything else unknown is an error.
        if (_isEmptyRoot(root)) continue;
        throw new MerkleError(MerkleErrorCode.NodeNotFound, `map root ${toHex(root)} not in the store`);
      }
      visit(this._refAt(loc), loc);
    }
    let n = 0;
    while (stack.length > 0) {
      const loc = stack.pop()!;
      const ref = stack.pop()!;
      n++;
      if (ref < 0) {
        const id = ~ref;
        const l32 = this._lc32[id >>> _CH_SHIFT]!;
        const w = _LW * (id & _CH_MASK);
        sink.leaf(this.hbuf(loc), this.hoff(loc), this._lc8[id >>> _CH_SHIFT]!, _LF_BYTES * (id & _CH_MASK), this._vc[l32[w + 8]!]!, l32[w + 9]!, l32[w + 10]!);
        if (at !== 0) this._setAt(ref, at);
        continue;
      }
      const b32 = this._bc32[ref >>> _CH_SHIFT]!;
      const w = _BW * (ref & _CH_MASK);
      const m = b32[w + 18]!;
      const c0 = b32[w + 16]!;
      const c1 = b32[w + 17]!;
      // A child made after the mark is new, so it is stored with this visit's locator (visited below or already).
      const at0 = (c0 < 0 ? ~c0 >= mark.leaves : c0 >= mark.branches) ? at : this._atOf(c0);
      const at1 = (c1 < 0 ? ~c1 >= mark.leaves : c1 >= mark.branches) ? at : this._atOf(c1);
      sink.branch(this.hbuf(loc), this.hoff(loc), b32[w + 19]!, this._bc8[ref >>> _CH_SHIFT]!, _BR_BYTES * (ref & _CH_MASK), this._lc8[m >>> _CH_SHIFT]!, _LF_BYTES * (m & _CH_MASK), at0, at1);
      if (at !== 0) this._setAt(ref, at);
      visit(c0, 2 * ref);
      visit(c1, 2 * ref + 1);
    }
    return n;
  }

  /**
   * Copies the trie below `root` from `source` into this store and registers `root` as a root (readable
   * and updatable through a {@link SparseMerkleMap} on this store). `source` must hold every node of the
   * trie (e.g. a map filled by one bulk read from a database). With `options.suite`, every node's hash is
   * recomputed and compared with the hash it was found under, so a corrupt source cannot plant a trie that
   * does not match `root`. The empty root is accepted and imports nothing.
   * @throws TypeError/RangeError for a root not 32 bytes; MerkleError(NODE_NOT_FOUND) when the source
   *   lacks a node; MerkleError(MALFORMED_INPUT) when verification finds a node whose hash differs, or a
   *   branch whose children do not split below its bit.
   * @example store.importTree(root, { getNode: (h) => fetched.get(hex(h)) }, { suite })
   */
  importTree(root: Uint8Array, source: MapNodeSource, options: { suite?: HashSuite; rootAt?: number } = {}): void {
    assertBytes('root', root, 32);
    if (typeof source !== 'object' || source === null || typeof source.getNode !== 'function') {
      throw new TypeError('source must be a MapNodeSource');
    }
    const suite = options.suite;
    const get = (h: Uint8Array): MapNode => {
      const n = source.getNode(h);
      if (n === undefined) throw new MerkleError(MerkleErrorCode.NodeNotFound, `map node ${toHex(h)} not found`);
      if (suite !== undefined) {
        const re = n.type === 'leaf' ? _leafHash(suite, n.key, n.value) : _branchHash(suite, n.bit, n.left, n.right);
        if (!equalBytes(re, h)) throw new MerkleError(MerkleErrorCode.MalformedInput, `map node ${toHex(h)} does not hash to its address`);
      }
      return n;
    };
    if (_isEmptyRoot(root)) return;
    // Post-order without recursion (tries can be 256 deep): a frame is a branch waiting for its children.
    interface Frame {
      readonly node: MapNode & { type: 'branch' };
      readonly refs: number[];
      /** The branch's own locator (from its parent, or `rootAt`). */
      readonly at: number;
    }
    const frames: Frame[] = [];
    let pending: MapNode | null = get(root);
    let pendingAt = _locator(options.rootAt, 'rootAt');
    let done = 0;
    for (;;) {
      let ref: number;
      if (pending !== null) {
        const n: MapNode = pending;
        pending = null;
        if (n.type === 'branch') {
          frames.push({ node: n, refs: [], at: pendingAt });
          pending = get(n.left);
          pendingAt = _locator(n.leftAt, 'leftAt');
          continue;
        }
        ref = this._newLeaf(n.key, 0, n.value, 0, n.value.length);
        this._setAt(ref, pendingAt);
      } else {
        ref = done;
      }
      const top = frames.at(-1);
      if (top === undefined) {
        this._addRoot(root, 0, ref);
        return;
      }
      top.refs.push(ref);
      if (top.refs.length === 1) {
        pending = get(top.node.right);
        pendingAt = _locator(top.node.rightAt, 'rightAt');
        continue;
      }
      frames.pop();
      const { node } = top;
      if (suite !== undefined && (this.bit(top.refs[0]!) <= node.bit || this.bit(top.refs[1]!) <= node.bit)) {
        throw new MerkleError(MerkleErrorCode.MalformedInput, `map branch at bit ${node.bit} has a child splitting at or above it`);
      }
      const b = this._newBranch(node.bit, top.refs[0]!, top.refs[1]!);
      const c8 = this._bc8[b >>> _CH_SHIFT]!;
      const o = _BR_BYTES * (b & _CH_MASK);
      c8.set(node.left, o);
      c8.set(node.right, o + 32);
      this._setAt(b, top.at);
      done = b;
    }
  }

  // ---- pruning ----

  /**
   * Mark-and-sweep: keeps only the nodes reachable from `roots` (unknown roots, e.g. the empty root,
   * are ignored) and compacts the arenas. Roots not listed stop being readable.
   * @returns the number of node records removed.
   * @throws TypeError/RangeError when a root is not a 32-byte Uint8Array.
   * @example store.prune([currentRoot, previousRoot])
   */
  prune(roots: readonly Uint8Array[]): number {
    if (!Array.isArray(roots)) throw new TypeError('roots must be an array');
    const keep: { hash: Uint8Array; ref: number }[] = [];
    for (const r of roots) {
      assertBytes('root', r, 32);
      const loc = this._lookupLoc(r);
      if (loc !== _MISSING) keep.push({ hash: r.slice(), ref: this._refAt(loc) });
    }
    const bc = this._bcount;
    const lc = this._lcount;
    const liveB = new Uint8Array(bc);
    const liveL = new Uint8Array(lc);
    const stack: number[] = [];
    for (const k of keep) stack.push(k.ref);
    while (stack.length > 0) {
      const r = stack.pop()!;
      if (r < 0) {
        liveL[~r] = 1;
        continue;
      }
      if (liveB[r] === 1) continue;
      liveB[r] = 1;
      stack.push(this.child(r, 0), this.child(r, 1));
    }
    // Re-append the live records into fresh chunks (node objects handed out earlier keep viewing the old
    // ones intact): leaves first, then branches in order, since children always precede their parents.
    const ob32 = this._bc32;
    const ol8 = this._lc8;
    const ol32 = this._lc32;
    const ovc = this._vc;
    const obat = this._bat;
    const olat = this._lat;
    this._bat = [];
    this._lat = [];
    this._bc8 = [];
    this._bc32 = [];
    this._lc8 = [];
    this._lc32 = [];
    this._vc = [];
    this._slab = null;
    this._slabTotal = 0;
    this._bcount = 0;
    this._lcount = 0;
    this._vUsed = 0;
    const remapL = new Int32Array(lc);
    for (let id = 0; id < lc; id++) {
      if (liveL[id] !== 1) continue;
      const l32 = ol32[id >>> _CH_SHIFT]!;
      const w = _LW * (id & _CH_MASK);
      remapL[id] = ~this._newLeaf(ol8[id >>> _CH_SHIFT]!, _LF_BYTES * (id & _CH_MASK), ovc[l32[w + 8]!]!, l32[w + 9]!, l32[w + 10]!);
      const at = olat[id >>> _CH_SHIFT]?.[id & _CH_MASK] ?? 0;
      if (at !== 0) this._setAt(~remapL[id]!, at);
    }
    const remapB = new Int32Array(bc);
    const mapRef = (r: number): number => (r < 0 ? ~remapL[~r]! : remapB[r]!);
    for (let id = 0; id < bc; id++) {
      if (liveB[id] !== 1) continue;
      const b32 = ob32[id >>> _CH_SHIFT]!;
      const w = _BW * (id & _CH_MASK);
      const n = this._newBranch(b32[w + 19]!, mapRef(b32[w + 16]!), mapRef(b32[w + 17]!));
      remapB[id] = n;
      const d32 = this._bc32[n >>> _CH_SHIFT]!;
      const dw = _BW * (n & _CH_MASK);
      for (let i = 0; i < 16; i++) d32[dw + i] = b32[w + i]!;
      const at = obat[id >>> _CH_SHIFT]?.[id & _CH_MASK] ?? 0;
      if (at !== 0) this._setAt(n, at);
    }
    const removed = bc + lc - this._bcount - this._lcount;
    this._epoch++;
    this._index = null;
    this._indexedTo = 0;
    this._rootHashes = new Uint8Array(32 * 64);
    this._rootHashes32 = new Int32Array(this._rootHashes.buffer);
    this._rootRefs = new Int32Array(64);
    this._rootCount = 0;
    this._rootMap = new Map();
    this._lastRoot = -1;
    for (const k of keep) this._addRoot(k.hash, 0, mapRef(k.ref));
    return removed;
  }
}

/** A node's locator as given (absent: 0). @throws RangeError for one that is not a non-negative safe integer. */
function _locator(at: number | undefined, name: string): number {
  if (at === undefined) return 0;
  if (!(Number.isSafeInteger(at) && at >= 0)) throw new RangeError(`${name} must be a non-negative safe integer, got ${String(at)}`);
  return at;
}

/** First chunk `cur` (or a new one of `start` records) with room for more records: doubling up to full size. */
function _grownChunk(cur: Uint8Array | null, start: number, recBytes: number): Uint8Array {
  if (cur === null) return new Uint8Array(recBytes * start);
  const b = new Uint8Array(Math.min(2 * cur.length, recBytes * _CH));
  b.set(cur);
  return b;
}

/** True for the empty map's root under any suite (the store itself is suite-agnostic; it is no stored node). */
function _isEmptyRoot(root: Uint8Array): boolean {
  return HASH_SUITE_NAMES.some((n) => equalBytes(root, _emptyRoot(getHashSuite(n))));
}

function _copy32(src: Uint8Array, o: number): Uint8Array {
  const d = new Uint8Array(32);
  for (let i = 0; i < 32; i++) d[i] = src[o + i]!;
  return d;
}

function _eq32(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  for (let i = 0; i < 32; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}

function _probe(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** A Map key for 32 hash bytes (16 UTF-16 code units). */
export function _hashKey(b: Uint8Array, o: number): string {
  const c = (i: number): number => (b[o + 2 * i]! << 8) | b[o + 2 * i + 1]!;
  return String.fromCharCode(c(0), c(1), c(2), c(3), c(4), c(5), c(6), c(7), c(8), c(9), c(10), c(11), c(12), c(13), c(14), c(15));
}
