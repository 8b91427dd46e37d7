import { compareBytes, equalBytes } from '../bytes.ts';
import type { HashSuite } from '../hash/suite.ts';
import { _bitAt, _branchHash, _emptyRoot, _isList, _leafHash } from './node.ts';
import type { MapEntry, MapMembershipProof, MapMultiNode, MapMultiProof, MapNonMembershipProof, MapPath } from './types.ts';

const _isBytes = (v: unknown, len?: number): v is Uint8Array =>
  v instanceof Uint8Array && (len === undefined || v.length === len);

const _isSuite = (s: unknown): s is HashSuite =>
  typeof s === 'object' && s !== null && typeof (s as HashSuite).digestPair === 'function';

/**
 * Folds a path bottom-up from `start` (the hash found at the end of the path), taking sides from `key`'s bits.
 * Null when the path is malformed: mismatched lengths, bits outside 0..255 or not strictly increasing.
 */
function _fold(suite: HashSuite, key: Uint8Array, start: Uint8Array, path: MapPath): Uint8Array | null {
  const { bits, siblings } = path;
  if (!_isList(bits) || !_isList(siblings) || bits.length !== siblings.length || bits.length > 256) return null;
  let prev = -1;
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i];
    if (typeof b !== 'number' || !Number.isInteger(b) || b <= prev || b > 255) return null;
    if (!_isBytes(siblings[i], 32)) return null;
    prev = b;
  }
  let h = start;
  for (let i = bits.length - 1; i >= 0; i--) {
    const b = bits[i]!;
    h = _bitAt(key, 0, b) === 1 ? _branchHash(suite, b, siblings[i]!, h) : _branchHash(suite, b, h, siblings[i]!);
  }
  return h;
}

/**
 * Checks that `key` maps to `value` in the map with root `root`. Never throws: any malformed input is false.
 * @throws nothing.
 * @example verifyMembership(getHashSuite('sha256'), root, key, value, proof) // true
 */
export function verifyMembership(
  suite: HashSuite,
  root: Uint8Array,
  key: Uint8Array,
  value: Uint8Array,
  proof: MapMembershipProof,
): boolean {
  try {
    if (!_isSuite(suite) || !_isBytes(root, 32) || !_isBytes(key, 32) || !_isBytes(value)) return false;
    if (typeof proof !== 'object' || proof === null) return false;
    const h = _fold(suite, key, _leafHash(suite, key, value), proof);
    return h !== null && equalBytes(h, root);
  } catch {
    return false;
  }
}

/**
 * Checks that `key` is absent from the map with root `root`. The path must follow `key`'s bits at strictly
 * increasing split bits and end at a leaf whose key differs from `key` but agrees with it on every split bit
 * of the path (or, with no leaf and no path, the root must be the empty root). Never throws.
 * @throws nothing.
 * @example verifyNonMembership(getHashSuite('sha256'), root, key, proof) // true
 */
export function verifyNonMembership(
  suite: HashSuite,
  root: Uint8Array,
  key: Uint8Array,
  proof: MapNonMembershipProof,
): boolean {
  try {
    if (!_isSuite(suite) || !_isBytes(root, 32) || !_isBytes(key, 32)) return false;
    if (typeof proof !== 'object' || proof === null) return false;
    const leaf = proof.leaf;
    if (leaf === null) {
      return (
        _isList(proof.bits) &&
        _isList(proof.siblings) &&
        proof.bits.length === 0 &&
        proof.siblings.length === 0 &&
        equalBytes(root, _emptyRoot(suite))
      );
    }
    if (typeof leaf !== 'object' || !_isBytes(leaf.key, 32) || !_isBytes(leaf.value)) return false;
    if (equalBytes(leaf.key, key)) return false;
    if (!_isList(proof.bits)) return false;
    for (const b of proof.bits) {
      if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255) return false;
      if (_bitAt(leaf.key, 0, b) !== _bitAt(key, 0, b)) return false;
    }
    const h = _fold(suite, key, _leafHash(suite, leaf.key, leaf.value), proof);
    return h !== null && equalBytes(h, root);
  } catch {
    return false;
  }
}

class _Reject extends Error {}
const _reject = (): never => {
  throw new _Reject();
};

/**
 * Checks a multiproof: every entry with a value is present with exactly that value, every entry with
 * value null is absent, all under `root`. Entries may come in any order but keys must be distinct.
 * The proof must be canonical (no subtree expanded that no entry enters). Never throws.
 * @throws nothing.
 * @example verifyMultiProof(getHashSuite('sha256'), root, [{ key, value }, { key: k2, value: null }], proof)
 */
export function verifyMultiProof(
  suite: HashSuite,
  root: Uint8Array,
  entries: readonly MapEntry[],
  proof: MapMultiProof,
): boolean {
  try {
    if (!_isSuite(suite) || !_isBytes(root, 32) || !_isList(entries)) return false;
    if (typeof proof !== 'object' || proof === null || !_isList(proof.nodes)) return false;
    for (const e of entries) {
      if (typeof e !== 'object' || e === null || !_isBytes(e.key, 32)) return false;
      if (e.value !== null && !_isBytes(e.value)) return false;
    }
    const sorted = [...entries].sort((a, b) => compareBytes(a.key, b.key));
    for (let i = 1; i < sorted.length; i++) if (equalBytes(sorted[i - 1]!.key, sorted[i]!.key)) return false;
    const nodes: readonly MapMultiNode[] = proof.nodes;
    if (nodes.length === 0) return false;
    const first = nodes[0]!;
    if (typeof first === 'object' && first !== null && first.type === 'empty') {
      return nodes.length === 1 && sorted.every((e) => e.value === null) && equalBytes(root, _emptyRoot(suite));
    }
    let cur = 0;
    const pathBits: number[] = [];
    const rec = (group: readonly MapEntry[], parentBit: number): Uint8Array => {
      if (cur >= nodes.length) _reject();
      const n = nodes[cur++]!;
      if (typeof n !== 'object' || n === null) return _reject();
      switch (n.type) {
        case 'hash':
          if (group.length !== 0 || !_isBytes(n.hash, 32)) _reject();
          return n.hash;
        case 'branch': {
          const b = n.bit;
          if (typeof b !== 'number' || !Number.isInteger(b) || b <= parentBit || b > 255 || group.length === 0) _reject();
          const l: MapEntry[] = [];
          const r: MapEntry[] = [];
          for (const e of group) (_bitAt(e.key, 0, b) === 1 ? r : l).push(e);
          pathBits.push(b);
          const lh = rec(l, b);
          const rh = rec(r, b);
          pathBits.pop();
          return _branchHash(suite, b, lh, rh);
        }
        case 'entry': {
          const present = group.filter((e) => e.value !== null);
          if (present.length !== 1) _reject();
          const p = present[0]!;
          for (const e of group) if (e !== p && equalBytes(e.key, p.key)) _reject();
          return _leafHash(suite, p.key, p.value!);
        }
        case 'leaf': {
          if (group.length === 0 || !_isBytes(n.key, 32) || !_isBytes(n.value)) _reject();
          const ref = group[0]!.key;
          for (const b of pathBits) if (_bitAt(n.key, 0, b) !== _bitAt(ref, 0, b)) _reject();
          for (const e of group) if (e.value !== null || equalBytes(e.key, n.key)) _reject();
          return _leafHash(suite, n.key, n.value);
        }
        default:
          return _reject();
      }
    };
    const h = rec(sorted, -1);
    return cur === nodes.length && equalBytes(h, root);
  } catch {
    return false;
  }
}
