import type { HashSuite } from '../hash/suite.ts';
import { TagBytes } from '../tags.ts';

/** Length of every map key, in bytes (keys are 256-bit; bit 0 is the MSB of byte 0). */
export const MAP_KEY_LENGTH = 32;

/**
 * A stored trie node. Nodes are immutable and addressed by their hash.
 * `minKey` of a branch is the smallest key below it: not hashed, but it gives the subtree's
 * common prefix (bits 0..bit-1) without descending, which update and diff need.
 */
export type MapNode =
  | { readonly type: 'leaf'; readonly key: Uint8Array; readonly value: Uint8Array }
  | {
      readonly type: 'branch';
      readonly bit: number;
      readonly left: Uint8Array;
      readonly right: Uint8Array;
      readonly minKey: Uint8Array;
      /**
       * Where a persistent store keeps each child (its locator, e.g. libs/store's `at`): not hashed and opaque to
       * the map; a store that has them puts them on the branches it returns, and {@link runMapReadAsync} hands them
       * back with the children's hashes ({@link AsyncMapNodeSource.getNodesAt}).
       */
      readonly leftAt?: number;
      readonly rightAt?: number;
    };

/** Bit `b` (0 = MSB of byte 0) of the 32-byte key stored at `buf[off..off+32]`. */
export function _bitAt(buf: Uint8Array, off: number, b: number): number {
  return (buf[off + (b >>> 3)]! >>> (7 - (b & 7))) & 1;
}

/** Index of the first bit where two 32-byte keys differ, or 256 when they are equal. */
export function _firstDiff(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): number {
  for (let i = 0; i < 32; i++) {
    const x = a[aOff + i]! ^ b[bOff + i]!;
    if (x !== 0) return (i << 3) + Math.clz32(x) - 24;
  }
  return 256;
}

/** Per-bit branch prefixes [0x11, b]: digestPairs takes one prefix per batch, so branches are batched by bit. */
export const _BRANCH_PREFIX: readonly Uint8Array[] = Array.from({ length: 256 }, (_, b) =>
  Uint8Array.of(TagBytes.MapBranch[0]!, b),
);

/** H(0x10 || key || value). */
export function _leafHash(suite: HashSuite, key: Uint8Array, value: Uint8Array): Uint8Array {
  return suite.digestPair(TagBytes.MapLeaf, key, value);
}

/** H(0x11 || bit || left || right). */
export function _branchHash(suite: HashSuite, bit: number, left: Uint8Array, right: Uint8Array): Uint8Array {
  return suite.digestPair(_BRANCH_PREFIX[bit]!, left, right);
}

const _emptyRoots = new WeakMap<HashSuite, Uint8Array>();

/**
 * Root of the empty map under `suite`: H(0x12).
 * @throws nothing for a valid suite.
 * @example mapEmptyRoot(getHashSuite('sha256'))
 */
export function mapEmptyRoot(suite: HashSuite): Uint8Array {
  let r = _emptyRoots.get(suite);
  if (r === undefined) {
    r = suite.digest(TagBytes.MapEmpty);
    _emptyRoots.set(suite, r);
  }
  return r.slice();
}

/** Cached empty root for internal comparisons (never handed out). */
export function _emptyRoot(suite: HashSuite): Uint8Array {
  let r = _emptyRoots.get(suite);
  if (r === undefined) {
    r = suite.digest(TagBytes.MapEmpty);
    _emptyRoots.set(suite, r);
  }
  return r;
}

/** Array test that does not narrow its argument to any[] (inputs are typed but may be anything at runtime). */
export function _isList(v: unknown): boolean {
  return Array.isArray(v);
}
