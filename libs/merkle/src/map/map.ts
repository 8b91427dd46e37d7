import { assertBytes, compareBytes, equalBytes } from '../bytes.ts';
import { MerkleError, MerkleErrorCode } from '../errors.ts';
import { getHashSuite } from '../hash/index.ts';
import type { HashSuite, HashSuiteName } from '../hash/suite.ts';
import { _diff } from './diff.ts';
import { _MISSING, MemoryMapStore } from './memory-store.ts';
import { _proveMulti, _uniqueKeys, type MapMultiProofResult } from './multiproof.ts';
import { _emptyRoot, _isList, mapEmptyRoot } from './node.ts';
import { _get, _prove } from './read.ts';
import { _NONE, _runLocal } from './tree.ts';
import type { MapChange, MapEntry, MapKeyProof, MapMembershipProof, MapNonMembershipProof } from './types.ts';
import { _applyBatch } from './update.ts';

/** Options of {@link SparseMerkleMap}. */
export interface SparseMerkleMapOptions {
  /** Hash suite or its name (default 'sha256'). */
  readonly suite?: HashSuite | HashSuiteName;
  /** Node store to use (default: a new MemoryMapStore); several maps may share one store. */
  readonly store?: MemoryMapStore;
}

/**
 * The history-independent sparse Merkle map over an in-memory node store. Every version is a root hash;
 * methods take the root to read, so old roots stay readable until {@link prune}.
 *
 * @example
 * const map = new SparseMerkleMap();
 * const root = map.update(map.emptyRoot, [{ key, value }]);
 * map.get(root, key); // value
 */
export class SparseMerkleMap {
  readonly suite: HashSuite;
  readonly store: MemoryMapStore;
  private readonly _empty: Uint8Array;

  /** @throws MerkleError(UNKNOWN_HASH_SUITE) for an unknown suite name. */
  constructor(options: SparseMerkleMapOptions = {}) {
    const s = options.suite ?? 'sha256';
    this.suite = typeof s === 'string' ? getHashSuite(s) : s;
    this.store = options.store ?? new MemoryMapStore();
    this._empty = _emptyRoot(this.suite);
  }

  /** Root of the empty map, H(0x12) (a fresh copy). @example map.emptyRoot */
  get emptyRoot(): Uint8Array {
    return mapEmptyRoot(this.suite);
  }

  /** Hash handle of the root found by the last {@link _ref}. */
  private _loc = 0;

  /**
   * The store ref of `root` (`_NONE` for the empty root), its hash handle left in `_loc`. Roots made by
   * updates come from the store's root table; any other stored node hash (a subtree is a map too) is
   * found through the store's lazily built index.
   */
  private _ref(root: Uint8Array, name = 'root'): number {
    assertBytes(name, root, 32);
    if (equalBytes(root, this._empty)) return _NONE;
    const loc = this.store._lookupLoc(root);
    if (loc === _MISSING) throw new MerkleError(MerkleErrorCode.NodeNotFound, 'unknown map root');
    this._loc = loc;
    return this.store._refAt(loc);
  }

  /**
   * Applies a batch of upserts (value) and deletes (value null) to the map at `root` and returns the new
   * root. The batch is a set: when a key repeats, its last op wins. Deleting an absent key is a no-op.
   * @throws TypeError/RangeError for a malformed op (key not 32 bytes, value not a Uint8Array or null);
   * MerkleError(NODE_NOT_FOUND) for an unknown root.
   * @example root = map.update(root, [{ key: k1, value: v1 }, { key: k2, value: null }])
   */
  update(root: Uint8Array, ops: readonly MapEntry[]): Uint8Array {
    const rootRef = this._ref(root);
    const rootLoc = this._loc;
    if (!_isList(ops)) throw new TypeError('ops must be an array');
    const n = ops.length;
    for (let i = 0; i < n; i++) {
      const op = ops[i];
      if (typeof op !== 'object' || op === null) throw new TypeError(`ops[${i}] must be an object`);
      assertBytes(`ops[${i}].key`, op.key, 32);
      if (op.value !== null && !(op.value instanceof Uint8Array)) {
        throw new TypeError(`ops[${i}].value must be a Uint8Array or null`);
      }
    }
    const order = _sortOps(ops);
    const keys = new Uint8Array(32 * n);
    const vals: (Uint8Array | null)[] = [];
    for (let i = 0; i < n; i++) {
      const op = ops[order[i]!]!;
      if (i + 1 < n && equalBytes(op.key, ops[order[i + 1]!]!.key)) continue;
      keys.set(op.key, 32 * vals.length);
      vals.push(op.value);
    }
    const res = _applyBatch(this.store, this.suite, rootRef, rootLoc, keys, vals);
    if (res.ref !== _NONE) this.store._addRoot(res.hash, 0, res.ref);
    return res.hash;
  }

  /**
   * The value of `key` at `root`, or undefined.
   * @throws TypeError/RangeError for a root/key not 32 bytes; MerkleError(NODE_NOT_FOUND) for an unknown root.
   * @example map.get(root, key)
   */
  get(root: Uint8Array, key: Uint8Array): Uint8Array | undefined {
    const r = this._ref(root);
    assertBytes('key', key, 32);
    return _runLocal(_get(this.store, r, key));
  }

  /**
   * Membership proof when `key` is present, non-membership proof otherwise.
   * @throws as {@link get}.
   * @example const p = map.prove(root, key); if (p.kind === 'map-membership') p.value
   */
  prove(root: Uint8Array, key: Uint8Array): MapKeyProof {
    const r = this._ref(root);
    assertBytes('key', key, 32);
    return _runLocal(_prove(this.store, r, key));
  }

  /**
   * Proof that `key` is present (its value is `get(root, key)`).
   * @throws MerkleError(OUT_OF_RANGE) when the key is absent; otherwise as {@link get}.
   * @example verifyMembership(map.suite, root, key, value, map.proveMembership(root, key))
   */
  proveMembership(root: Uint8Array, key: Uint8Array): MapMembershipProof {
    const p = this.prove(root, key);
    if (p.kind !== 'map-membership') throw new MerkleError(MerkleErrorCode.OutOfRange, 'key is not in the map');
    return p.proof;
  }

  /**
   * Proof that `key` is absent.
   * @throws MerkleError(OUT_OF_RANGE) when the key is present; otherwise as {@link get}.
   * @example verifyNonMembership(map.suite, root, key, map.proveNonMembership(root, key))
   */
  proveNonMembership(root: Uint8Array, key: Uint8Array): MapNonMembershipProof {
    const p = this.prove(root, key);
    if (p.kind !== 'map-non-membership') throw new MerkleError(MerkleErrorCode.OutOfRange, 'key is in the map');
    return p.proof;
  }

  /**
   * One compact proof for several keys (present and absent mixed).
   * @throws TypeError/RangeError for a malformed key; MerkleError(NODE_NOT_FOUND) for an unknown root.
   * @example const { entries, proof } = map.proveMulti(root, keys); verifyMultiProof(map.suite, root, entries, proof)
   */
  proveMulti(root: Uint8Array, keys: readonly Uint8Array[]): MapMultiProofResult {
    const r = this._ref(root);
    return _runLocal(_proveMulti(this.store, r, this._loc, _uniqueKeys(keys)));
  }

  /**
   * Changed keys between two versions, in key order.
   * @throws TypeError/RangeError for a root not 32 bytes; MerkleError(NODE_NOT_FOUND) for an unknown root.
   * @example for (const c of map.diff(oldRoot, newRoot)) ...
   */
  diff(a: Uint8Array, b: Uint8Array): MapChange[] {
    const ra = this._ref(a, 'a');
    const la = this._loc;
    const rb = this._ref(b, 'b');
    return _runLocal(_diff(this.store, ra, la, rb, this._loc));
  }

  /**
   * Drops every stored node not reachable from `roots` (the roots that must stay readable).
   * @returns the number of nodes removed.
   * @throws TypeError/RangeError when a root is not 32 bytes.
   * @example map.prune([latestRoot])
   */
  prune(roots: readonly Uint8Array[]): number {
    // The empty root is no stored node; passing it on would only make the store build its hash index.
    return this.store.prune(_isList(roots) ? roots.filter((r) => !(r instanceof Uint8Array && equalBytes(r, this._empty))) : roots);
  }
}

/**
 * Op indices ordered by key, equal keys in op order (so the last op of a key comes last).
 * A native numeric sort on (first 32 key bits, index) does nearly all the work; only runs that share
 * those bits (structured keys) are finished with a byte comparison.
 */
function _sortOps(ops: readonly MapEntry[]): number[] {
  const n = ops.length;
  const cmp = (x: number, y: number): number => compareBytes(ops[x]!.key, ops[y]!.key) || x - y;
  if (n >= 1 << 21) return Array.from({ length: n }, (_, i) => i).sort(cmp);
  const packed = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k = ops[i]!.key;
    packed[i] = (((k[0]! << 24) | (k[1]! << 16) | (k[2]! << 8) | k[3]!) >>> 0) * 2097152 + i;
  }
  packed.sort();
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) order[i] = packed[i]! % 2097152;
  for (let i = 0; i < n; ) {
    const p = Math.floor(packed[i]! / 2097152);
    let j = i + 1;
    while (j < n && Math.floor(packed[j]! / 2097152) === p) j++;
    if (j - i > 1) {
      const run = order.slice(i, j).sort(cmp);
      for (let t = 0; t < run.length; t++) order[i + t] = run[t]!;
    }
    i = j;
  }
  return order;
}
