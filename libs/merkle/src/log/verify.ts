import { equalBytes } from '../bytes.ts';
import type { HashSuite } from '../hash/suite.ts';
import { LOG_TREE_TAGS } from './tree-hash.ts';

// Sizes can exceed 2^32, where JS bit operators truncate: halve with Math.floor instead of `>>`.
const _half = (x: number): number => Math.floor(x / 2);
const _odd = (x: number): boolean => x % 2 === 1;

function _isSize(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function _isHash(x: unknown): x is Uint8Array {
  return x instanceof Uint8Array && x.length === 32;
}

function _isHashList(x: unknown): x is readonly Uint8Array[] {
  return Array.isArray(x) && x.every(_isHash);
}

function _isSuite(x: unknown): x is HashSuite {
  return typeof x === 'object' && x !== null && typeof (x as HashSuite).digestPair === 'function';
}

/**
 * RFC 9162 §2.1.3.2 steps 1-4 under an arbitrary node prefix; null when the path cannot be for (index, size).
 * Shared with other RFC 9162-shaped trees (table, database) so the algorithm exists once.
 */
export function _rootFromPath(
  suite: HashSuite,
  nodePrefix: Uint8Array,
  leafHash: Uint8Array,
  leafIndex: number,
  treeSize: number,
  proof: readonly Uint8Array[],
): Uint8Array | null {
  if (leafIndex >= treeSize) return null;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) return null;
    if (_odd(fn) || fn === sn) {
      r = suite.digestPair(nodePrefix, p, r);
      if (!_odd(fn)) {
        while (!_odd(fn) && fn !== 0) {
          fn = _half(fn);
          sn = _half(sn);
        }
      }
    } else {
      r = suite.digestPair(nodePrefix, r, p);
    }
    fn = _half(fn);
    sn = _half(sn);
  }
  return sn === 0 ? r : null;
}

/**
 * Recomputes the root that an RFC 9162 inclusion proof commits to; null (never an exception) when the inputs
 * are malformed or the path has the wrong shape for (leafIndex, treeSize).
 * @throws never
 * @example const root = rootFromInclusionProof(suite, leafHash, 3, 8, proof)
 */
export function rootFromInclusionProof(
  suite: HashSuite,
  leafHash: Uint8Array,
  leafIndex: number,
  treeSize: number,
  proof: readonly Uint8Array[],
): Uint8Array | null {
  if (!_isSuite(suite) || !_isHash(leafHash) || !_isSize(leafIndex) || !_isSize(treeSize) || !_isHashList(proof)) return null;
  return _rootFromPath(suite, LOG_TREE_TAGS.node, leafHash, leafIndex, treeSize, proof);
}

/**
 * RFC 9162 §2.1.3.2: does `proof` show that `leafHash` is leaf `leafIndex` of the tree of `treeSize` leaves
 * with root `root`? False for every malformed input (index >= size, non-32-byte hashes, wrong path length...).
 * @throws never
 * @example verifyInclusion(suite, log.leafHash(3), 3, 8, log.inclusionProof(3, 8), log.root(8))
 */
export function verifyInclusion(
  suite: HashSuite,
  leafHash: Uint8Array,
  leafIndex: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!_isHash(root)) return false;
  const r = rootFromInclusionProof(suite, leafHash, leafIndex, treeSize, proof);
  return r !== null && equalBytes(r, root);
}

/** RFC 9162 §2.1.4.2 under an arbitrary node prefix; inputs already shape-checked. */
export function _verifyConsistencyPath(
  suite: HashSuite,
  nodePrefix: Uint8Array,
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): boolean {
  // A proof from the empty tree proves nothing (every tree extends it); RFC 9162 defines proofs for 0 < first.
  if (size1 === 0 || size1 > size2) return false;
  if (size1 === size2) return proof.length === 0 && equalBytes(root1, root2);
  if (proof.length === 0) return false;
  // Step 1: when size1 is a power of two the old root is itself a node of the new tree, so the proof omits it.
  const path = _isPow2(size1) ? [root1, ...proof] : proof;
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (_odd(fn)) {
    fn = _half(fn);
    sn = _half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return false;
    if (_odd(fn) || fn === sn) {
      fr = suite.digestPair(nodePrefix, c, fr);
      sr = suite.digestPair(nodePrefix, c, sr);
      if (!_odd(fn)) {
        while (!_odd(fn) && fn !== 0) {
          fn = _half(fn);
          sn = _half(sn);
        }
      }
    } else {
      sr = suite.digestPair(nodePrefix, sr, c);
    }
    fn = _half(fn);
    sn = _half(sn);
  }
  return sn === 0 && equalBytes(fr, root1) && equalBytes(sr, root2);
}

function _isPow2(x: number): boolean {
  while (x > 1 && x % 2 === 0) x /= 2;
  return x === 1;
}

/**
 * RFC 9162 §2.1.4.2: does `proof` show that the tree of `size2` leaves with root `root2` extends the tree of
 * `size1` leaves with root `root1`? Requires 0 < size1 <= size2 (equal sizes: empty proof and equal roots).
 * False for every malformed input.
 * @throws never
 * @example verifyConsistency(suite, 3, 7, log.consistencyProof(3, 7), log.root(3), log.root(7))
 */
export function verifyConsistency(
  suite: HashSuite,
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): boolean {
  if (!_isSuite(suite) || !_isSize(size1) || !_isSize(size2) || !_isHashList(proof)) return false;
  // Equal sizes: the claim is only "these two roots are one root", so the roots are compared as given
  // (RFC 9162 §2.1.4.2 step 1; transparency-dev accepts equal non-32-byte roots here, and so must we).
  if (size1 === size2 && size1 > 0) {
    return proof.length === 0 && root1 instanceof Uint8Array && root2 instanceof Uint8Array && equalBytes(root1, root2);
  }
  if (!_isHash(root1) || !_isHash(root2)) return false;
  return _verifyConsistencyPath(suite, LOG_TREE_TAGS.node, size1, size2, proof, root1, root2);
}
