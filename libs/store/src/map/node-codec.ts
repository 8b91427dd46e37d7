import type { HashSuite, HashSuiteName, MapNode } from '@merklesync/merkle';
import { StoreError, StoreErrorCode } from '../errors.ts';

/** Type byte of an encoded leaf: `0x00 ‖ key[32] ‖ value`. */
export const NODE_LEAF = 0x00;
/** Type byte of an encoded branch: `0x01 ‖ bit[1] ‖ left[32] ‖ right[32] ‖ minKey[32]` (98 bytes). */
export const NODE_BRANCH = 0x01;
const _BRANCH_LEN = 98;

/**
 * Encodes a map node for storage (README "Node encoding"). `minKey` is stored although it is not hashed:
 * the read algorithms use it to know a subtree's common prefix without descending.
 * @throws TypeError for a node that is not a MapNode.
 * @example encodeMapNode({ type: 'leaf', key, value })
 */
export function encodeMapNode(node: MapNode): Uint8Array {
  if (node.type === 'leaf') {
    const out = new Uint8Array(33 + node.value.length);
    out[0] = NODE_LEAF;
    out.set(node.key, 1);
    out.set(node.value, 33);
    return out;
  }
  if (node.type !== 'branch') throw new TypeError('node must be a MapNode');
  const out = new Uint8Array(_BRANCH_LEN);
  out[0] = NODE_BRANCH;
  out[1] = node.bit;
  out.set(node.left, 2);
  out.set(node.right, 34);
  out.set(node.minKey, 66);
  return out;
}

/**
 * Decodes a stored node; the result views `bytes` (no copy).
 * @throws StoreError(CORRUPT_NODE) for an unknown type byte or a wrong length.
 * @example decodeMapNode(row.node)
 */
export function decodeMapNode(bytes: Uint8Array): MapNode {
  const t = bytes[0];
  if (t === NODE_LEAF && bytes.length >= 33) return { type: 'leaf', key: bytes.subarray(1, 33), value: bytes.subarray(33) };
  if (t === NODE_BRANCH && bytes.length === _BRANCH_LEN) {
    return {
      type: 'branch',
      bit: bytes[1]!,
      left: bytes.subarray(2, 34),
      right: bytes.subarray(34, 66),
      minKey: bytes.subarray(66, 98),
    };
  }
  throw new StoreError(StoreErrorCode.CorruptNode, `stored map node has type ${String(t)} and ${bytes.length} bytes`);
}

/** Column code of a hash suite (same numbering as the proof encodings' suite byte). */
export function suiteCode(suite: HashSuite | HashSuiteName): number {
  const name = typeof suite === 'string' ? suite : suite.name;
  switch (name) {
    case 'sha256':
      return 0;
    case 'blake3':
      return 1;
  }
}

/** Hash suite name of a column code. @throws StoreError(CORRUPT_NODE) for an unknown code. */
export function suiteName(code: number): HashSuiteName {
  if (code === 0) return 'sha256';
  if (code === 1) return 'blake3';
  throw new StoreError(StoreErrorCode.CorruptNode, `unknown suite code ${code}`);
}
