import type { HashSuite, HashSuiteName, MapNode } from '@merklesync/merkle';
import { StoreError, StoreErrorCode } from '../errors.ts';

/** Type byte of an encoded leaf: `0x00 ‖ key[32] ‖ value`. */
export const NODE_LEAF = 0x00;
/** Type byte of an encoded branch: `0x01 ‖ bit[1] ‖ left[32] ‖ right[32] ‖ minKey[32]` (98 bytes); children at locator 0. */
export const NODE_BRANCH = 0x01;
/**
 * Type byte of an encoded branch with its children's locators (README "Node locators"):
 * `0x02 ‖ bit[1] ‖ left[32] ‖ right[32] ‖ minKey[32] ‖ leftAt[8] ‖ rightAt[8]` (114 bytes, locators uint64 big-endian).
 */
export const NODE_BRANCH_AT = 0x02;
const _BRANCH_LEN = 98;
const _BRANCH_AT_LEN = 114;

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
  const leftAt = checkLocator(node.leftAt ?? 0, 'leftAt');
  const rightAt = checkLocator(node.rightAt ?? 0, 'rightAt');
  const located = leftAt !== 0 || rightAt !== 0;
  const out = new Uint8Array(located ? _BRANCH_AT_LEN : _BRANCH_LEN);
  out[0] = located ? NODE_BRANCH_AT : NODE_BRANCH;
  out[1] = node.bit;
  out.set(node.left, 2);
  out.set(node.right, 34);
  out.set(node.minKey, 66);
  if (located) {
    writeLocator(out, 98, leftAt);
    writeLocator(out, 106, rightAt);
  }
  return out;
}

/** Writes locator `at` (a safe integer ≥ 0) as uint64 big-endian at `b[o..o+8]`. */
export function writeLocator(b: Uint8Array, o: number, at: number): void {
  const hi = Math.floor(at / 0x1_0000_0000);
  const lo = at >>> 0;
  b[o] = 0;
  b[o + 1] = (hi >>> 16) & 0xff;
  b[o + 2] = (hi >>> 8) & 0xff;
  b[o + 3] = hi & 0xff;
  b[o + 4] = lo >>> 24;
  b[o + 5] = (lo >>> 16) & 0xff;
  b[o + 6] = (lo >>> 8) & 0xff;
  b[o + 7] = lo & 0xff;
}

function _readLocator(b: Uint8Array, o: number): number {
  const hi = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  const lo = ((b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!) >>> 0;
  if (hi >= 0x20_0000) throw new StoreError(StoreErrorCode.CorruptNode, 'stored map branch has a child locator ≥ 2^53');
  return hi * 0x1_0000_0000 + lo;
}

/**
 * `at` when it is a valid node locator (README "Node locators": a safe integer ≥ 0).
 * @throws RangeError naming `name` otherwise.
 */
export function checkLocator(at: unknown, name: string): number {
  if (!(typeof at === 'number' && Number.isSafeInteger(at) && at >= 0)) throw new RangeError(`${name} must be a non-negative safe integer, got ${String(at)}`);
  return at;
}

/**
 * Decodes a stored node; the result views `bytes` (no copy). A branch carries its children's locators
 * (`leftAt`/`rightAt`; 0 for the 98-byte form).
 * @throws StoreError(CORRUPT_NODE) for an unknown type byte or a wrong length.
 * @example decodeMapNode(row.node)
 */
export function decodeMapNode(bytes: Uint8Array): MapNode {
  const t = bytes[0];
  if (t === NODE_LEAF && bytes.length >= 33) return { type: 'leaf', key: bytes.subarray(1, 33), value: bytes.subarray(33) };
  if ((t === NODE_BRANCH && bytes.length === _BRANCH_LEN) || (t === NODE_BRANCH_AT && bytes.length === _BRANCH_AT_LEN)) {
    const located = t === NODE_BRANCH_AT;
    return {
      type: 'branch',
      bit: bytes[1]!,
      left: bytes.subarray(2, 34),
      right: bytes.subarray(34, 66),
      minKey: bytes.subarray(66, 98),
      leftAt: located ? _readLocator(bytes, 98) : 0,
      rightAt: located ? _readLocator(bytes, 106) : 0,
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

/**
 * A chunk of map nodes: the `nodes` column of `map_node_chunks` (README "Node chunks"). Layout:
 * `count[u16] ‖ hash[32] × count (ascending) ‖ end[u32] × count ‖ node encodings`, where node `i` is the bytes
 * `end[i−1] .. end[i]` (`end[−1]` = 0) of the part after the ends, each in the encoding above.
 */
export const CHUNK_HEAD = 2;
/** Bytes a chunk spends per node besides the node's encoding: its hash and its end offset. */
export const CHUNK_PER_NODE = 36;

/**
 * The encoded node with hash `hash` inside chunk `chunk` (a view, no copy), or undefined when the chunk does not
 * hold it. Binary search over the chunk's sorted hashes.
 * @throws StoreError(CORRUPT_NODE) when the chunk's layout is inconsistent.
 * @example const bytes = chunkNode(row.nodes, hash); if (bytes) decodeMapNode(bytes)
 */
export function chunkNode(chunk: Uint8Array, hash: Uint8Array): Uint8Array | undefined {
  const { n, ends, body } = _chunkLayout(chunk);
  const mid = _chunkFind(chunk, n, hash);
  if (mid < 0) return undefined;
  const s = mid === 0 ? 0 : _u32(chunk, ends + 4 * (mid - 1));
  const e = _u32(chunk, ends + 4 * mid);
  if (!(s <= e && body + e <= chunk.length)) throw new StoreError(StoreErrorCode.CorruptNode, `stored map node chunk has node ${mid} at bytes ${s}..${e} of ${chunk.length - body}`);
  return chunk.subarray(body + s, body + e);
}

/**
 * Index of the 32-byte `key` among the `n` ascending keys of a chunk in this layout (node chunks, and the block chunks
 * of src/block/block-chunks.ts), or −1. Binary search; the caller has checked that the keys are inside `chunk`.
 */
export function _chunkFind(chunk: Uint8Array, n: number, key: Uint8Array): number {
  let lo = 0;
  let hi = n - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const o = CHUNK_HEAD + 32 * mid;
    let d = 0;
    for (let i = 0; i < 32 && d === 0; i++) d = chunk[o + i]! - key[i]!;
    if (d < 0) lo = mid + 1;
    else if (d > 0) hi = mid - 1;
    else return mid;
  }
  return -1;
}

/**
 * Every node of a chunk with its hash (views, no copy), in hash order.
 * @throws StoreError(CORRUPT_NODE) when the chunk's layout is inconsistent.
 */
export function chunkNodes(chunk: Uint8Array): { hash: Uint8Array; node: Uint8Array }[] {
  const { n, ends, body } = _chunkLayout(chunk);
  const out: { hash: Uint8Array; node: Uint8Array }[] = [];
  let s = 0;
  for (let i = 0; i < n; i++) {
    const e = _u32(chunk, ends + 4 * i);
    if (!(s <= e && body + e <= chunk.length)) throw new StoreError(StoreErrorCode.CorruptNode, `stored map node chunk has node ${i} at bytes ${s}..${e} of ${chunk.length - body}`);
    out.push({ hash: chunk.subarray(CHUNK_HEAD + 32 * i, CHUNK_HEAD + 32 * i + 32), node: chunk.subarray(body + s, body + e) });
    s = e;
  }
  return out;
}

/**
 * Encodes nodes as one chunk; they must be in ascending hash order without repeats.
 * @throws RangeError when they are not, when there are none or more than 65,535, or a hash is not 32 bytes.
 * @example encodeChunk([{ hash, node: encodeMapNode(n) }])
 */
export function encodeChunk(nodes: readonly { readonly hash: Uint8Array; readonly node: Uint8Array }[]): Uint8Array {
  const n = nodes.length;
  if (n === 0 || n > 0xffff) throw new RangeError(`a chunk holds 1 to 65,535 nodes, got ${n}`);
  let size = CHUNK_HEAD + CHUNK_PER_NODE * n;
  for (const x of nodes) size += x.node.length;
  const out = new Uint8Array(size);
  out[0] = n >>> 8;
  out[1] = n & 0xff;
  const ends = CHUNK_HEAD + 32 * n;
  let w = ends + 4 * n;
  let end = 0;
  nodes.forEach((x, i) => {
    if (!(x.hash instanceof Uint8Array) || x.hash.length !== 32) throw new RangeError(`nodes[${i}].hash must be 32 bytes`);
    if (i > 0 && Buffer.compare(nodes[i - 1]!.hash, x.hash) >= 0) throw new RangeError('chunk nodes must be in ascending hash order without repeats');
    out.set(x.hash, CHUNK_HEAD + 32 * i);
    end += x.node.length;
    _putU32(out, ends + 4 * i, end);
    out.set(x.node, w);
    w += x.node.length;
  });
  return out;
}

/**
 * A chunk's entry count and where its ends and its entries start (this layout: node chunks, and the block chunks of
 * src/block/block-chunks.ts, which report `CORRUPT_BLOCK`). @throws StoreError(`code`) for a chunk too short for its count.
 */
export function _chunkLayout(chunk: Uint8Array, code: StoreErrorCode = StoreErrorCode.CorruptNode, what = 'map node'): { n: number; ends: number; body: number } {
  const n = chunk.length >= CHUNK_HEAD ? (chunk[0]! << 8) | chunk[1]! : 0;
  const ends = CHUNK_HEAD + 32 * n;
  const body = ends + 4 * n;
  if (n === 0 || chunk.length < body) throw new StoreError(code, `stored ${what} chunk of ${chunk.length} bytes holds ${n} entries`);
  return { n, ends, body };
}

export function _u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Writes `v` as u32 big-endian at `b[o..o+4]`. */
export function _putU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}
