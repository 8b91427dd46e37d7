import { assertBytes, assertIndex, equalBytes } from '../bytes.ts';
import type { HashSuite } from '../hash/suite.ts';
import { _LevelStore } from './_levels.ts';
import { LOG_TREE_TAGS, _splitPoint, type TreeHashTags } from './tree-hash.ts';

// A plain boolean on purpose: Array.isArray's type guard would widen readonly typed arrays to any[].
function _isArray(x: unknown): boolean {
  return Array.isArray(x);
}

function _assertSuite(suite: unknown): asserts suite is HashSuite {
  if (typeof suite !== 'object' || suite === null || typeof (suite as HashSuite).digestPairs !== 'function') {
    throw new TypeError('suite must be a HashSuite (see getHashSuite)');
  }
}

/** Bound on cached right-edge folds (each ≈ 100 bytes); a full cache is simply cleared. */
const _FOLD_CACHE_MAX = 4096;

/**
 * Append-only Merkle log per RFC 9162 §2.1 (C2SP tlog): leaf H(0x00||d), node H(0x01||l||r), empty root H("").
 *
 * Appends are incremental: the tree keeps, per level k, the floor(size / 2^k) complete-subtree roots, so an
 * append hashes only the nodes it completes, one batch per level. Any past size stays answerable
 * (root, inclusion and consistency proofs), because complete subtrees never change.
 *
 * @example
 * const log = new LogTree(getHashSuite('sha256'));
 * log.appendMany([a, b, c]);
 * const proof = log.inclusionProof(1);
 * verifyInclusion(log.suite, log.leafHash(1), 1, log.size, proof, log.root()); // true
 */
export class LogTree {
  /** The hash suite of every node. */
  readonly suite: HashSuite;
  /** Leaf/node/empty domain tags; RFC 9162's unless a caller reuses the shape for another structure. */
  readonly tags: TreeHashTags;
  private readonly _store = new _LevelStore();
  private _size = 0;
  /** Folded hashes of incomplete ranges (right edges of past and present sizes); cleared on append. */
  private readonly _foldCache = new Map<string, Uint8Array>();

  /**
   * An empty tree. `tags` defaults to RFC 9162's; other RFC 9162-shaped structures pass their own.
   * @throws TypeError when `suite` is not a HashSuite or `tags` not three byte arrays.
   * @example new LogTree(getHashSuite('blake3'))
   */
  constructor(suite: HashSuite, tags: TreeHashTags = LOG_TREE_TAGS) {
    _assertSuite(suite);
    if (typeof tags !== 'object' || tags === null || ![tags.leaf, tags.node, tags.empty].every((t) => t instanceof Uint8Array)) {
      throw new TypeError('tags must be { leaf, node, empty } byte arrays');
    }
    this.suite = suite;
    this.tags = tags;
  }

  /**
   * Rebuilds a tree from stored levels (level k = floor(size / 2^k) packed 32-byte nodes), as written by
   * {@link LogTree.exportLevels}. With `verify`, recomputes every interior node (costs a full build).
   * @throws TypeError on non-bytes; RangeError when the level lengths do not describe one tree, or when
   *   `verify` finds a node that is not the hash of its children.
   * @example LogTree.fromLevels(suite, stored, { verify: true })
   */
  static fromLevels(
    suite: HashSuite,
    levels: readonly Uint8Array[],
    options: { verify?: boolean; tags?: TreeHashTags } = {},
  ): LogTree {
    const tree = new LogTree(suite, options.tags ?? LOG_TREE_TAGS);
    if (!_isArray(levels)) throw new TypeError('levels must be an array of Uint8Array');
    levels.forEach((l, k) => assertBytes(`levels[${k}]`, l));
    const size = levels.length === 0 ? 0 : levels[0]!.length / 32;
    if (!Number.isInteger(size)) throw new RangeError('levels[0] length must be a multiple of 32');
    let expectHeight = 0;
    for (let n = size; n >= 1; n = Math.floor(n / 2)) expectHeight++;
    if (levels.length !== expectHeight) throw new RangeError(`levels must have ${expectHeight} levels for size ${size}, got ${levels.length}`);
    for (let k = 0; k < levels.length; k++) {
      const want = Math.floor(size / 2 ** k) * 32;
      if (levels[k]!.length !== want) throw new RangeError(`levels[${k}] must be ${want} bytes, got ${levels[k]!.length}`);
    }
    const copies = levels.map((l) => l.slice());
    if (options.verify) {
      for (let k = 1; k < copies.length; k++) {
        const n = copies[k]!.length / 32;
        const re = new Uint8Array(n * 32);
        suite.digestPairs(tree.tags.node, copies[k - 1]!, n, re, 0);
        if (!equalBytes(re, copies[k]!)) throw new RangeError(`levels[${k}] does not hash from levels[${k - 1}]`);
      }
    }
    tree._store.load(copies);
    tree._size = size;
    return tree;
  }

  /** Number of leaves. */
  get size(): number {
    return this._size;
  }

  /**
   * Appends one leaf with data `data`; returns its index.
   * @throws TypeError when `data` is not a Uint8Array.
   * @example const i = log.append(new TextEncoder().encode('hello'))
   */
  append(data: Uint8Array): number {
    assertBytes('data', data);
    return this.appendMany([data]);
  }

  /**
   * Appends many leaves in one batch (leaf hashes in one `digestPrefixedMany`, each level in one
   * `digestPairs`); returns the index of the first.
   * @throws TypeError when `data` is not an array of Uint8Array.
   * @example log.appendMany(rows)
   */
  appendMany(data: readonly Uint8Array[]): number {
    if (!_isArray(data)) throw new TypeError('data must be an array of Uint8Array');
    for (let i = 0; i < data.length; i++) assertBytes(`data[${i}]`, data[i]);
    const first = this._size;
    if (data.length === 0) return first;
    const buf = this._store.grow(0, first + data.length);
    this.suite.digestPrefixedMany(this.tags.leaf, data, buf.subarray(first * 32, (first + data.length) * 32));
    this._complete(first, first + data.length);
    return first;
  }

  /**
   * Appends one already-computed leaf hash (e.g. H(0x00||d) computed elsewhere); returns its index.
   * @throws TypeError when not a Uint8Array; RangeError when not 32 bytes.
   * @example log.appendLeafHash(h)
   */
  appendLeafHash(leafHash: Uint8Array): number {
    assertBytes('leafHash', leafHash, 32);
    return this.appendLeafHashes(leafHash);
  }

  /**
   * Appends leaf hashes, given packed (n * 32 bytes) or as an array of 32-byte hashes; returns the first index.
   * @throws TypeError on non-bytes; RangeError when a hash is not 32 bytes or the packed length not a multiple of 32.
   * @example log.appendLeafHashes(packedHashes)
   */
  appendLeafHashes(leafHashes: Uint8Array | readonly Uint8Array[]): number {
    const first = this._size;
    if (leafHashes instanceof Uint8Array) {
      if (leafHashes.length % 32 !== 0) throw new RangeError(`leafHashes must be a multiple of 32 bytes, got ${leafHashes.length}`);
      const n = leafHashes.length / 32;
      if (n === 0) return first;
      this._store.grow(0, first + n).set(leafHashes, first * 32);
      this._complete(first, first + n);
      return first;
    }
    if (!_isArray(leafHashes)) throw new TypeError('leafHashes must be a Uint8Array or an array of Uint8Array');
    for (let i = 0; i < leafHashes.length; i++) assertBytes(`leafHashes[${i}]`, leafHashes[i], 32);
    if (leafHashes.length === 0) return first;
    const buf = this._store.grow(0, first + leafHashes.length);
    for (let i = 0; i < leafHashes.length; i++) buf.set(leafHashes[i]!, (first + i) * 32);
    this._complete(first, first + leafHashes.length);
    return first;
  }

  /** Hashes the interior nodes completed by leaves [from, to): one batch per level. */
  private _complete(from: number, to: number): void {
    let lo = from;
    let hi = to;
    for (let level = 0; ; level++) {
      const pFrom = Math.floor(lo / 2);
      const pTo = Math.floor(hi / 2);
      if (pTo === pFrom) break;
      const out = this._store.grow(level + 1, pTo);
      const src = this._store.buffer(level).subarray(pFrom * 64, pTo * 64);
      this.suite.digestPairs(this.tags.node, src, pTo - pFrom, out, pFrom * 32);
      lo = pFrom;
      hi = pTo;
    }
    this._size = to;
    this._foldCache.clear();
  }

  /**
   * Root of the tree at `size` (default: now). RFC 9162 MTH of the first `size` leaves.
   * @throws TypeError when not an integer; RangeError when above the current size.
   * @example log.root(); log.root(10)
   */
  root(size: number = this._size): Uint8Array {
    assertIndex('size', size, this._size);
    if (size === 0) return this.suite.digest(this.tags.empty);
    return this._rangeHash(0, size);
  }

  /**
   * Leaf hash at `index` (a copy).
   * @throws TypeError when not an integer; RangeError when `index >= size`.
   * @example log.leafHash(0)
   */
  leafHash(index: number): Uint8Array {
    return this.node(0, index);
  }

  /**
   * The stored complete-subtree root at (`level`, `index`): the hash of leaves [index * 2^level, (index + 1) * 2^level).
   * @throws TypeError when not integers; RangeError when no such node exists yet.
   * @example log.node(1, 0) // H(0x01 || leaf0 || leaf1)
   */
  node(level: number, index: number): Uint8Array {
    assertIndex('level', level);
    assertIndex('index', index);
    const n = this._store.count(level);
    if (index >= n) throw new RangeError(`index must be below ${n} at level ${level}, got ${index}`);
    return this._store.view(level, index).slice();
  }

  /** Number of stored nodes at `level` (floor(size / 2^level)). @example log.levelSize(0) === log.size */
  levelSize(level: number): number {
    assertIndex('level', level);
    return this._store.count(level);
  }

  /** Number of levels holding nodes (0 for an empty tree). @example log.height */
  get height(): number {
    return this._store.height;
  }

  /**
   * Copies of the packed levels, the input of {@link LogTree.fromLevels} (what a persistent store saves).
   * @example const saved = log.exportLevels()
   */
  exportLevels(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let k = 0; k < this._store.height; k++) out.push(this._store.buffer(k).slice(0, this._store.count(k) * 32));
    return out;
  }

  /**
   * RFC 9162 §2.1.3.1 inclusion proof (audit path) of leaf `index` in the tree of `size` leaves, bottom-up.
   * @throws TypeError when not integers; RangeError unless index < size <= this.size.
   * @example log.inclusionProof(3, 8)
   */
  inclusionProof(index: number, size: number = this._size): Uint8Array[] {
    assertIndex('size', size, this._size);
    assertIndex('index', index);
    if (index >= size) throw new RangeError(`index must be below size ${size}, got ${index}`);
    const path: Uint8Array[] = [];
    let lo = 0;
    let hi = size;
    while (hi - lo > 1) {
      const k = _splitPoint(hi - lo);
      if (index < lo + k) {
        path.push(this._rangeHash(lo + k, hi));
        hi = lo + k;
      } else {
        path.push(this._rangeHash(lo, lo + k));
        lo += k;
      }
    }
    return path.reverse();
  }

  /**
   * RFC 9162 §2.1.4.1 consistency proof between sizes `size1` and `size2`, 0 < size1 <= size2 <= this.size
   * (empty when equal).
   * @throws TypeError when not integers; RangeError outside that range (a proof from size 0 proves nothing).
   * @example log.consistencyProof(3, 7)
   */
  consistencyProof(size1: number, size2: number = this._size): Uint8Array[] {
    assertIndex('size2', size2, this._size);
    assertIndex('size1', size1, size2);
    if (size1 === 0) throw new RangeError('size1 must be at least 1');
    const path: Uint8Array[] = [];
    let lo = 0;
    let hi = size2;
    let m = size1;
    let whole = true; // RFC's `b`: the old tree is exactly this subtree, so its root is known to the verifier
    while (m !== hi - lo) {
      const k = _splitPoint(hi - lo);
      if (m <= k) {
        path.push(this._rangeHash(lo + k, hi));
        hi = lo + k;
      } else {
        path.push(this._rangeHash(lo, lo + k));
        lo += k;
        m -= k;
        whole = false;
      }
    }
    if (!whole) path.push(this._rangeHash(lo, hi));
    return path.reverse();
  }

  /**
   * MTH of leaves [start, end) for the ranges RFC 9162's recursion produces (start a multiple of a power of two
   * at least end - start): the greedy split into aligned complete subtrees, folded right to left.
   * A complete subtree is one stored node (a copy is returned, no hashing); only ranges ending at a size that is
   * not a power-of-two boundary need folding, and those folds are cached until the next append.
   */
  private _rangeHash(start: number, end: number): Uint8Array {
    const s = this._store;
    let level = 0;
    let w = 1;
    while (start % (w * 2) === 0 && start + w * 2 <= end) {
      w *= 2;
      level++;
    }
    if (start + w === end) {
      const off = (start / w) * 32;
      return s.buffer(level).slice(off, off + 32);
    }
    const key = `${start}:${end}`;
    const cached = this._foldCache.get(key);
    if (cached) return cached.slice();
    const right = this._rangeHash(start + w, end);
    const folded = this.suite.digestPair(this.tags.node, s.view(level, start / w), right);
    if (this._foldCache.size >= _FOLD_CACHE_MAX) this._foldCache.clear();
    this._foldCache.set(key, folded);
    return folded.slice();
  }
}
