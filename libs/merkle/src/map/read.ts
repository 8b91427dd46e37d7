import { assertBytes, equalBytes } from '../bytes.ts';
import type { HashSuite } from '../hash/suite.ts';
import { _emptyRoot } from './node.ts';
import type { MapRead } from './source.ts';
import { _NodeCache, _NONE, type _Tree } from './tree.ts';
import type { MapKeyProof } from './types.ts';

/** A fresh hash-addressed tree whose root ref is 0 (or `_NONE` for the empty root). */
export function _cacheFor(suite: HashSuite, root: Uint8Array): { tree: _NodeCache; ref: number } {
  const tree = new _NodeCache();
  return { tree, ref: equalBytes(root, _emptyRoot(suite)) ? _NONE : tree.add(root) };
}

/**
 * Reads the value of `key` under `root` (undefined when absent). Drive with runMapRead / runMapReadAsync.
 * @throws TypeError/RangeError when root or key is not 32 bytes (at call time); the driver throws
 * MerkleError(NODE_NOT_FOUND) for an unknown root.
 * @example runMapRead(mapGet(suite, root, key), store)
 */
export function mapGet(suite: HashSuite, root: Uint8Array, key: Uint8Array): MapRead<Uint8Array | undefined> {
  assertBytes('root', root, 32);
  assertBytes('key', key, 32);
  const { tree, ref } = _cacheFor(suite, root);
  return _get(tree, ref, key);
}

/** The walk of {@link mapGet} over any tree (`r` = root ref, `_NONE` for the empty map). */
export function* _get(t: _Tree, r: number, key: Uint8Array): MapRead<Uint8Array | undefined> {
  if (r === _NONE) return undefined;
  for (;;) {
    const h = t.need(r);
    if (h !== null) t.load(r, (yield [h])[0]!);
    if (t.isLeaf(r)) return _keyIs(t, r, key) ? t.valueCopy(r) : undefined;
    const b = t.bit(r);
    r = t.child(r, (key[b >>> 3]! >>> (7 - (b & 7))) & 1);
  }
}

function _keyIs(t: _Tree, r: number, key: Uint8Array): boolean {
  const kb = t.kbuf(r);
  const ko = t.koff(r);
  for (let i = 0; i < 32; i++) if (kb[ko + i] !== key[i]) return false;
  return true;
}

/**
 * Proves `key` under `root`: a membership proof when present, a non-membership proof otherwise.
 * @throws TypeError/RangeError when root or key is not 32 bytes; the driver throws NODE_NOT_FOUND for an unknown root.
 * @example const p = runMapRead(mapProve(suite, root, key), store); p.kind
 */
export function mapProve(suite: HashSuite, root: Uint8Array, key: Uint8Array): MapRead<MapKeyProof> {
  assertBytes('root', root, 32);
  assertBytes('key', key, 32);
  const { tree, ref } = _cacheFor(suite, root);
  return _prove(tree, ref, key);
}

/** The walk of {@link mapProve} over any tree. */
export function* _prove(t: _Tree, r: number, key: Uint8Array): MapRead<MapKeyProof> {
  const bits: number[] = [];
  const siblings: Uint8Array[] = [];
  if (r === _NONE) return { kind: 'map-non-membership', proof: { bits, siblings, leaf: null } };
  for (;;) {
    const h = t.need(r);
    if (h !== null) t.load(r, (yield [h])[0]!);
    if (t.isLeaf(r)) {
      if (_keyIs(t, r, key)) return { kind: 'map-membership', value: t.valueCopy(r), proof: { bits, siblings } };
      return {
        kind: 'map-non-membership',
        proof: { bits, siblings, leaf: { key: t.keyCopy(r), value: t.valueCopy(r) } },
      };
    }
    const b = t.bit(r);
    const side = (key[b >>> 3]! >>> (7 - (b & 7))) & 1;
    bits.push(b);
    siblings.push(t.hashCopy(t.childLoc(r, side ^ 1)));
    r = t.child(r, side);
  }
}
