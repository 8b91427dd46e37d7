import { assertBytes, assertIndex } from '../bytes.ts';
import type { HashSuite } from '../hash/suite.ts';
import { TagBytes } from '../tags.ts';

/**
 * The three byte strings that fix an RFC 9162-shaped Merkle tree hash: the leaf prefix, the interior-node
 * prefix and the message whose digest is the empty tree's root. Each structure (log, table, database) has
 * its own triple so that no two of them can ever produce the same hash for different content.
 */
export interface TreeHashTags {
  /** Prefix of every leaf hash: leafHash = H(leaf || data). */
  readonly leaf: Uint8Array;
  /** Prefix of every interior node: node = H(node || left || right). */
  readonly node: Uint8Array;
  /** The empty tree's root is H(empty). RFC 9162 uses the empty string. */
  readonly empty: Uint8Array;
}

/** RFC 9162 §2.1.1 (and C2SP tlog): leaf H(0x00||d), node H(0x01||l||r), empty root H(""). */
export const LOG_TREE_TAGS: TreeHashTags = Object.freeze({
  leaf: TagBytes.LogLeaf,
  node: TagBytes.LogNode,
  empty: new Uint8Array(0),
});

/**
 * Largest power of two strictly below `n` (n >= 2): the RFC 9162 split point `k`.
 * Works above 2^32, where bit operators would truncate.
 */
export function _splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * RFC 9162 §2.1.1 Merkle Tree Hash of `count` leaf hashes packed 32 bytes apiece, under `tags`.
 *
 * Computed bottom-up, one `digestPairs` batch per level: pairing adjacent nodes and promoting an odd last
 * node unchanged gives exactly the RFC's recursive split at the largest power of two below n, because every
 * complete subtree of that recursion starts at a multiple of its own size.
 *
 * @param packed `count * 32` bytes of leaf hashes, in leaf order; not modified.
 * @throws TypeError when `packed` is not a Uint8Array or `count` not an integer; RangeError when
 *   `packed.length !== count * 32`.
 * @example merkleTreeHash(getHashSuite('sha256'), LOG_TREE_TAGS, leafHashes, 3)
 */
export function merkleTreeHash(suite: HashSuite, tags: TreeHashTags, packed: Uint8Array, count: number): Uint8Array {
  assertBytes('packed', packed);
  assertIndex('count', count);
  if (packed.length !== count * 32) throw new RangeError(`packed must be count * 32 = ${count * 32} bytes, got ${packed.length}`);
  if (count === 0) return suite.digest(tags.empty);
  if (count === 1) return packed.slice(0, 32);
  return _reduceInPlace(suite, tags.node, packed.slice(), count);
}

/** Reduces `count` packed nodes in `buf` (which it overwrites) to their RFC 9162 root. */
export function _reduceInPlace(suite: HashSuite, nodePrefix: Uint8Array, buf: Uint8Array, count: number): Uint8Array {
  let n = count;
  while (n > 1) {
    const pairs = Math.floor(n / 2);
    // In-place is allowed by the HashSuite contract: output slot i (32i) never overtakes input pair i (64i).
    suite.digestPairs(nodePrefix, buf, pairs, buf, 0);
    if (n % 2 === 1) buf.copyWithin(pairs * 32, (n - 1) * 32, n * 32);
    n = pairs + (n % 2);
  }
  return buf.slice(0, 32);
}
