import { assertBytes, compareBytes, equalBytes } from '../bytes.ts';
import type { HashSuite } from '../hash/suite.ts';
import { _bitAt, _isList } from './node.ts';
import { _cacheFor } from './read.ts';
import type { MapRead } from './source.ts';
import { _NONE, type _Tree } from './tree.ts';
import type { MapEntry, MapMultiNode, MapMultiProof } from './types.ts';

/** A multiproof with the entries it proves (sorted by key, duplicates removed; value null = absent). */
export interface MapMultiProofResult {
  readonly entries: MapEntry[];
  readonly proof: MapMultiProof;
}

/** Sorted, duplicate-free copies of `keys` (checked). */
export function _uniqueKeys(keys: readonly Uint8Array[]): Uint8Array[] {
  if (!_isList(keys)) throw new TypeError('keys must be an array');
  keys.forEach((k, i) => assertBytes(`keys[${i}]`, k, 32));
  const sorted = keys.map((k) => k.slice()).sort(compareBytes);
  return sorted.filter((k, i) => i === 0 || !equalBytes(k, sorted[i - 1]!));
}

/**
 * Proves several keys (present and absent mixed) under `root` in one compact proof: the union of their
 * paths as a pre-order node list, so each shared node appears once.
 * @throws TypeError/RangeError when root or a key is not 32 bytes; the driver throws NODE_NOT_FOUND for an unknown root.
 * @example const { entries, proof } = runMapRead(mapProveMulti(suite, root, [k1, k2]), store)
 */
export function mapProveMulti(suite: HashSuite, root: Uint8Array, keys: readonly Uint8Array[]): MapRead<MapMultiProofResult> {
  assertBytes('root', root, 32);
  const uniq = _uniqueKeys(keys);
  const { tree, ref } = _cacheFor(suite, root);
  return _proveMulti(tree, ref, ref, uniq);
}

/** The walk of {@link mapProveMulti} over any tree (`rootLoc` = the root's hash handle). */
export function* _proveMulti(t: _Tree, root: number, rootLoc: number, keys: Uint8Array[]): MapRead<MapMultiProofResult> {
  const values: (Uint8Array | null)[] = keys.map(() => null);
  const nodes: MapMultiNode[] = [];
  if (root === _NONE) {
    nodes.push({ type: 'empty' });
  } else {
    // Explicit stack of (ref, hash handle, key indices) in pre-order: one generator frame for the whole walk.
    const stack: { r: number; loc: number; idx: number[] }[] = [{ r: root, loc: rootLoc, idx: keys.map((_, i) => i) }];
    while (stack.length > 0) {
      const { r, loc, idx } = stack.pop()!;
      if (idx.length === 0) {
        nodes.push({ type: 'hash', hash: t.hashCopy(loc) });
        continue;
      }
      const h = t.need(r);
      if (h !== null) t.load(r, (yield [h])[0]!);
      if (t.isLeaf(r)) {
        const kb = t.kbuf(r);
        const ko = t.koff(r);
        const hit = idx.find((i) => equalBytes(keys[i]!, kb.subarray(ko, ko + 32)));
        if (hit !== undefined) {
          values[hit] = t.valueCopy(r);
          nodes.push({ type: 'entry' });
        } else {
          nodes.push({ type: 'leaf', key: t.keyCopy(r), value: t.valueCopy(r) });
        }
        continue;
      }
      const b = t.bit(r);
      nodes.push({ type: 'branch', bit: b });
      const l: number[] = [];
      const rr: number[] = [];
      for (const i of idx) (_bitAt(keys[i]!, 0, b) === 1 ? rr : l).push(i);
      stack.push({ r: t.child(r, 1), loc: t.childLoc(r, 1), idx: rr }, { r: t.child(r, 0), loc: t.childLoc(r, 0), idx: l });
    }
  }
  return { entries: keys.map((key, i) => ({ key, value: values[i]! })), proof: { nodes } };
}
