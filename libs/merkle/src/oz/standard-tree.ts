import { assertBytes, assertIndex, compareBytes, fromHex, toHex } from '../bytes.ts';
import { MerkleError, MerkleErrorCode } from '../errors.ts';
import { hashPairInto, leafHashInto } from './keccak.ts';
import { type OzMultiProof, verifyOzMultiProof, verifyOzProof } from './verify.ts';

/** Options of {@link OzStandardTree.of}, as in OZ's `StandardMerkleTree.of(values, enc, options)`. */
export interface OzStandardTreeOptions {
  /** Sort leaves by hash before building (OZ's default, true): required for on-chain multiproofs. */
  sortLeaves?: boolean;
}

/** OZ's JSON dump (`StandardMerkleTree.dump()`) of a tree with leaf encoding `['bytes32']`. */
export interface OzStandardTreeDump {
  format: 'standard-v1';
  leafEncoding: string[];
  /** Every node as 0x-hex, OZ array order: tree[0] is the root, children of i are 2i+1 and 2i+2. */
  tree: string[];
  /** In insertion order: each value as a one-element tuple of 0x-hex, and the array index of its leaf. */
  values: { value: string[]; treeIndex: number }[];
}

type _Leaf = number | Uint8Array;

// Not a type guard on purpose: narrowing a readonly array with Array.isArray yields any[].
function _isArray(value: unknown): boolean {
  return Array.isArray(value);
}

function _malformed(reason: string): never {
  throw new MerkleError(MerkleErrorCode.MalformedInput, `OZ tree dump: ${reason}`);
}

/**
 * A static Merkle tree byte-compatible with `@openzeppelin/merkle-tree`'s `StandardMerkleTree` for leaf encoding
 * `['bytes32']`: same root, same proofs, same multiproofs, same JSON dump. Keccak-256 only (that is what
 * Solidity's `MerkleProof` verifies), so the library's hash-suite choice does not apply.
 *
 * Storage is one packed Uint8Array of 2n-1 nodes in OZ's array order, so building 1M leaves allocates no
 * per-node objects.
 *
 * @example
 * const tree = OzStandardTree.of(values);
 * const proof = tree.getProof(0);
 * OzStandardTree.verify(tree.root, values[0]!, proof); // true
 */
export class OzStandardTree {
  /** (2n-1) * 32 bytes: node t at [32t, 32t+32). */
  private readonly _nodes: Uint8Array;
  /** n * 32 bytes: the values in insertion order. */
  private readonly _values: Uint8Array;
  private readonly _n: number;
  /** valueIndex -> tree index of its leaf. */
  private readonly _treeIndex: Uint32Array;
  /** (tree index - (n-1)) -> valueIndex. */
  private readonly _valueAt: Uint32Array;
  /** Leaf hashes are non-increasing along the array, so a value can be found by binary search. */
  private readonly _sorted: boolean;
  private _lookup: Map<string, number> | null = null;

  private constructor(nodes: Uint8Array, values: Uint8Array, treeIndex: Uint32Array, sorted: boolean) {
    this._nodes = nodes;
    this._values = values;
    this._n = treeIndex.length;
    this._treeIndex = treeIndex;
    this._sorted = sorted;
    this._valueAt = new Uint32Array(this._n);
    for (let v = 0; v < this._n; v++) this._valueAt[treeIndex[v]! - (this._n - 1)] = v;
  }

  /**
   * Builds the tree of bytes32 `values` exactly as `StandardMerkleTree.of(values.map(v => [hex(v)]), ['bytes32'])`.
   * Value indices (for getProof/getMultiProof/at) are positions in `values`.
   * @throws TypeError when `values` is not an array of Uint8Array; RangeError when it is empty or a value is not 32 bytes.
   * @example const tree = OzStandardTree.of([a, b, c]); toHex(tree.root)
   */
  static of(values: readonly Uint8Array[], options: OzStandardTreeOptions = {}): OzStandardTree {
    if (!_isArray(values)) throw new TypeError('values must be an array of Uint8Array');
    const n = values.length;
    if (n === 0) throw new RangeError('values must not be empty');
    if (2 * n - 1 > 0xffffffff) throw new RangeError(`values: too many (${n})`);
    const packed = new Uint8Array(32 * n);
    const hashes = new Uint8Array(32 * n);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      assertBytes(`values[${i}]`, v, 32);
      packed.set(v, 32 * i);
      leafHashInto(packed, 32 * i, hashes, 32 * i);
    }
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const sortLeaves = options.sortLeaves ?? true;
    if (sortLeaves) _sortByHash(order, hashes);
    const total = 2 * n - 1;
    const nodes = new Uint8Array(32 * total);
    const treeIndex = new Uint32Array(n);
    // OZ puts leaf k (after sorting) at array index total-1-k: the leaves fill the tail in reverse.
    for (let k = 0; k < n; k++) {
      const v = order[k]!;
      const t = total - 1 - k;
      nodes.set(hashes.subarray(32 * v, 32 * v + 32), 32 * t);
      treeIndex[v] = t;
    }
    _fillInterior(nodes, n);
    return new OzStandardTree(nodes, packed, treeIndex, sortLeaves || _isSorted(nodes, n));
  }

  /**
   * Loads OZ's JSON dump (`StandardMerkleTree.dump()` with leaf encoding `['bytes32']`) and checks every hash.
   * @throws MerkleError(MALFORMED_INPUT) when the dump is not of that form or any node does not match.
   * @example OzStandardTree.load(JSON.parse(text))
   */
  static load(dump: OzStandardTreeDump): OzStandardTree {
    if (typeof dump !== 'object' || dump === null) _malformed('not an object');
    if (dump.format !== 'standard-v1') _malformed(`unknown format ${JSON.stringify(dump.format)}`);
    const enc = dump.leafEncoding;
    if (!Array.isArray(enc) || enc.length !== 1 || enc[0] !== 'bytes32') _malformed('leafEncoding must be ["bytes32"]');
    const { tree, values } = dump;
    if (!Array.isArray(tree) || !Array.isArray(values)) _malformed('tree and values must be arrays');
    const n = values.length;
    if (n === 0 || tree.length !== 2 * n - 1) _malformed(`${tree.length} nodes do not fit ${n} values`);
    const total = tree.length;
    const nodes = new Uint8Array(32 * total);
    for (let t = 0; t < total; t++) {
      const h = typeof tree[t] === 'string' ? fromHex(tree[t]!, `tree[${t}]`, true) : _malformed(`tree[${t}] not a string`);
      if (h.length !== 32) _malformed(`tree[${t}] is not 32 bytes`);
      nodes.set(h, 32 * t);
    }
    const packed = new Uint8Array(32 * n);
    const treeIndex = new Uint32Array(n);
    const seen = new Uint8Array(n);
    const leaf = new Uint8Array(32);
    for (let v = 0; v < n; v++) {
      const e = values[v];
      if (typeof e !== 'object' || e === null) _malformed(`values[${v}] not an object`);
      const { value, treeIndex: t } = e;
      if (!Array.isArray(value) || value.length !== 1 || typeof value[0] !== 'string') {
        _malformed(`values[${v}].value must be a one-element array of hex`);
      }
      const b = fromHex(value[0], `values[${v}].value`, true);
      if (b.length !== 32) _malformed(`values[${v}].value is not 32 bytes`);
      if (typeof t !== 'number' || !Number.isInteger(t) || t < n - 1 || t >= total || seen[t - (n - 1)]) {
        _malformed(`values[${v}].treeIndex is not a distinct leaf index`);
      }
      seen[t - (n - 1)] = 1;
      packed.set(b, 32 * v);
      treeIndex[v] = t;
      leafHashInto(packed, 32 * v, leaf, 0);
      if (compareBytes(leaf, nodes.subarray(32 * t, 32 * t + 32)) !== 0) _malformed(`values[${v}] does not hash to its leaf`);
    }
    const check = nodes.slice();
    _fillInterior(check, n);
    if (compareBytes(check, nodes) !== 0) _malformed('an interior node does not match its children');
    return new OzStandardTree(nodes, packed, treeIndex, _isSorted(nodes, n));
  }

  /**
   * Verifies a single proof (see {@link verifyOzProof}).
   * @throws never: malformed input returns false.
   * @example OzStandardTree.verify(root, value, proof)
   */
  static verify(root: Uint8Array, value: Uint8Array, proof: readonly Uint8Array[]): boolean {
    return verifyOzProof(root, value, proof);
  }

  /**
   * Verifies a multiproof (see {@link verifyOzMultiProof}).
   * @throws never: malformed input returns false.
   * @example OzStandardTree.verifyMultiProof(root, tree.getMultiProof([1, 2]))
   */
  static verifyMultiProof(root: Uint8Array, multiproof: OzMultiProof): boolean {
    return verifyOzMultiProof(root, multiproof);
  }

  /** The 32-byte root (a copy). @example toHex(tree.root) */
  get root(): Uint8Array {
    return this._nodes.slice(0, 32);
  }

  /** Number of values. @example tree.length */
  get length(): number {
    return this._n;
  }

  /**
   * The value at insertion index `index` (a copy).
   * @throws TypeError / RangeError when `index` is not an integer in [0, length).
   * @example tree.at(0)
   */
  at(index: number): Uint8Array {
    assertIndex('index', index, this._n - 1);
    return this._values.slice(32 * index, 32 * index + 32);
  }

  /** Yields [insertion index, value] pairs. @example for (const [i, v] of tree.entries()) ... */
  *entries(): IterableIterator<[number, Uint8Array]> {
    for (let i = 0; i < this._n; i++) yield [i, this.at(i)];
  }

  /**
   * Proof for the value at insertion index `leaf`, or for the value `leaf` itself: OZ's `getProof`.
   * Siblings from the leaf up; a packed buffer backs the returned views.
   * @throws RangeError for an index out of range; TypeError/RangeError for a value that is not 32 bytes;
   *   MerkleError(OUT_OF_RANGE) for a value not in the tree.
   * @example tree.getProof(3); tree.getProof(value)
   */
  getProof(leaf: number | Uint8Array): Uint8Array[] {
    let t = this._treeIndex[this._valueIndex('leaf', leaf)]!;
    let depth = 0;
    for (let u = t; u > 0; u = (u - 1) >>> 1) depth++;
    const buf = new Uint8Array(32 * depth);
    const proof = new Array<Uint8Array>(depth);
    for (let d = 0; t > 0; d++) {
      const s = t & 1 ? t + 1 : t - 1;
      buf.set(this._nodes.subarray(32 * s, 32 * s + 32), 32 * d);
      proof[d] = buf.subarray(32 * d, 32 * d + 32);
      t = (t - 1) >>> 1;
    }
    return proof;
  }

  /**
   * Multiproof for several values (by insertion index or by value): OZ's `getMultiProof`, same leaves order,
   * proof and flags. An empty list proves nothing and yields `proof = [root]`, as OZ does.
   * @throws RangeError when an index repeats or is out of range; MerkleError(OUT_OF_RANGE) for a value not in the tree.
   * @example const mp = tree.getMultiProof([0, 5, 9]); OzStandardTree.verifyMultiProof(tree.root, mp)
   */
  getMultiProof(leaves: readonly _Leaf[]): OzMultiProof {
    if (!_isArray(leaves)) throw new TypeError('leaves must be an array');
    const idx = leaves.map((l, i) => this._treeIndex[this._valueIndex(`leaves[${i}]`, l)]!);
    idx.sort((a, b) => b - a);
    for (let i = 1; i < idx.length; i++) if (idx[i] === idx[i - 1]) throw new RangeError('leaves: cannot prove a duplicated index');
    const queue = idx.slice();
    let head = 0;
    const proof: Uint8Array[] = [];
    const proofFlags: boolean[] = [];
    while (head < queue.length && queue[head]! > 0) {
      const j = queue[head++]!;
      const s = j & 1 ? j + 1 : j - 1;
      if (head < queue.length && queue[head] === s) {
        proofFlags.push(true);
        head++;
      } else {
        proofFlags.push(false);
        proof.push(this._nodes.slice(32 * s, 32 * s + 32));
      }
      queue.push((j - 1) >>> 1);
    }
    if (idx.length === 0) proof.push(this.root);
    return {
      leaves: idx.map((t) => this.at(this._valueAt[t - (this._n - 1)]!)),
      proof,
      proofFlags,
    };
  }

  /**
   * Verifies `proof` for `leaf` (an insertion index or a value) against this tree's root.
   * @throws never for a well-typed leaf that is out of range: returns false.
   * @example tree.verify(0, tree.getProof(0))
   */
  verify(leaf: number | Uint8Array, proof: readonly Uint8Array[]): boolean {
    if (typeof leaf === 'number') {
      if (!Number.isInteger(leaf) || leaf < 0 || leaf >= this._n) return false;
      return verifyOzProof(this.root, this.at(leaf), proof);
    }
    return verifyOzProof(this.root, leaf, proof);
  }

  /**
   * OZ's JSON dump; `StandardMerkleTree.load(tree.dump())` loads it, and {@link OzStandardTree.load} reads OZ's.
   * @throws never.
   * @example JSON.stringify(tree.dump())
   */
  dump(): OzStandardTreeDump {
    const total = 2 * this._n - 1;
    const tree = new Array<string>(total);
    for (let t = 0; t < total; t++) tree[t] = '0x' + toHex(this._nodes.subarray(32 * t, 32 * t + 32));
    const values: OzStandardTreeDump["values"] = new Array<OzStandardTreeDump["values"][number]>(this._n);
    for (let v = 0; v < this._n; v++) {
      values[v] = { value: ['0x' + toHex(this._values.subarray(32 * v, 32 * v + 32))], treeIndex: this._treeIndex[v]! };
    }
    return { format: 'standard-v1', leafEncoding: ['bytes32'], tree, values };
  }

  /** Insertion index of a leaf argument; for a value, the last insertion of it (as OZ's lookup table keeps). */
  private _valueIndex(name: string, leaf: _Leaf): number {
    if (typeof leaf === 'number') {
      assertIndex(name, leaf, this._n - 1);
      return leaf;
    }
    assertBytes(name, leaf, 32);
    const h = new Uint8Array(32);
    leafHashInto(leaf, 0, h, 0);
    const found = this._sorted ? this._search(h) : this._mapLookup(h);
    if (found < 0) throw new MerkleError(MerkleErrorCode.OutOfRange, `${name}: value is not in the tree`);
    return found;
  }

  private _cmpLeaf(h: Uint8Array, t: number): number {
    const o = 32 * t;
    for (let i = 0; i < 32; i++) {
      const d = h[i]! - this._nodes[o + i]!;
      if (d !== 0) return d;
    }
    return 0;
  }

  private _search(h: Uint8Array): number {
    const first = this._n - 1;
    // Leaf hashes are non-increasing from `first` to the end of the array.
    let lo = first;
    let hi = 2 * this._n - 2;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = this._cmpLeaf(h, mid);
      if (c === 0) {
        let best = this._valueAt[mid - first]!;
        for (let t = mid - 1; t >= first && this._cmpLeaf(h, t) === 0; t--) best = Math.max(best, this._valueAt[t - first]!);
        for (let t = mid + 1; t <= 2 * this._n - 2 && this._cmpLeaf(h, t) === 0; t++) best = Math.max(best, this._valueAt[t - first]!);
        return best;
      }
      if (c > 0) hi = mid - 1;
      else lo = mid + 1;
    }
    return -1;
  }

  private _mapLookup(h: Uint8Array): number {
    if (this._lookup === null) {
      const m = new Map<string, number>();
      for (let v = 0; v < this._n; v++) {
        const t = this._treeIndex[v]!;
        m.set(toHex(this._nodes.subarray(32 * t, 32 * t + 32)), v);
      }
      this._lookup = m;
    }
    return this._lookup.get(toHex(h)) ?? -1;
  }
}

/** Interior nodes from the leaves up: node i = hashPair(node 2i+1, node 2i+2), i from n-2 down to 0. */
function _fillInterior(nodes: Uint8Array, n: number): void {
  const scratch = new Uint8Array(64);
  for (let i = n - 2; i >= 0; i--) hashPairInto(nodes, 32 * (2 * i + 1), 32 * (2 * i + 2), scratch, nodes, 32 * i);
}

function _isSorted(nodes: Uint8Array, n: number): boolean {
  const total = 2 * n - 1;
  for (let t = n; t < total; t++) {
    if (compareBytes(nodes.subarray(32 * (t - 1), 32 * t), nodes.subarray(32 * t, 32 * t + 32)) < 0) return false;
  }
  return true;
}

/** Stable sort of value indices by leaf hash (unsigned bytes), ties by index as OZ's stable Array.sort keeps them. */
function _sortByHash(order: Uint32Array, hashes: Uint8Array): void {
  const n = order.length;
  const key = new Float64Array(n);
  // The first 6 bytes fit a double exactly and decide almost every comparison without touching the hashes.
  for (let i = 0; i < n; i++) {
    const o = 32 * i;
    key[i] =
      hashes[o]! * 2 ** 40 + hashes[o + 1]! * 2 ** 32 + hashes[o + 2]! * 2 ** 24 + hashes[o + 3]! * 2 ** 16 + hashes[o + 4]! * 256 + hashes[o + 5]!;
  }
  order.sort((a, b) => {
    const d = key[a]! - key[b]!;
    if (d !== 0) return d;
    for (let i = 6; i < 32; i++) {
      const e = hashes[32 * a + i]! - hashes[32 * b + i]!;
      if (e !== 0) return e;
    }
    return a - b;
  });
}
