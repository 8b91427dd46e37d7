import { assertBytes, equalBytes } from '../bytes.ts';
import { MAX_PROOF_ITEMS } from '../proof-format.ts';
import { hashPairInto, leafHashInto } from './keccak.ts';

/**
 * A multiproof in OpenZeppelin's shape (`StandardMerkleTree.getMultiProof` / `MerkleProof.multiProofVerify`):
 * `leaves` are the proven bytes32 values in tree order, `proof` the sibling hashes consumed in order,
 * `proofFlags[i]` true when step i takes its second operand from the queue of computed hashes rather than `proof`.
 */
export interface OzMultiProof {
  leaves: Uint8Array[];
  proof: Uint8Array[];
  proofFlags: boolean[];
}

/**
 * The StandardMerkleTree leaf hash of one bytes32 value: keccak256(keccak256(value)).
 * @throws TypeError / RangeError when `value` is not a 32-byte Uint8Array.
 * @example ozLeafHash(new Uint8Array(32))
 */
export function ozLeafHash(value: Uint8Array): Uint8Array {
  assertBytes('value', value, 32);
  const out = new Uint8Array(32);
  leafHashInto(value, 0, out, 0);
  return out;
}

/**
 * The StandardMerkleTree node hash: keccak256 of the two 32-byte children concatenated in ascending byte order.
 * @throws TypeError / RangeError when either input is not a 32-byte Uint8Array.
 * @example ozHashPair(a, b) // equals ozHashPair(b, a)
 */
export function ozHashPair(a: Uint8Array, b: Uint8Array): Uint8Array {
  assertBytes('a', a, 32);
  assertBytes('b', b, 32);
  const w = new Uint8Array(64);
  w.set(a, 0);
  w.set(b, 32);
  const out = new Uint8Array(32);
  hashPairInto(w, 0, 32, new Uint8Array(64), out, 0);
  return out;
}

function _isNode(x: unknown): x is Uint8Array {
  return x instanceof Uint8Array && x.length === 32;
}

function _isNodeArray(xs: unknown): xs is Uint8Array[] {
  if (!Array.isArray(xs) || xs.length > MAX_PROOF_ITEMS) return false;
  for (const x of xs) if (!_isNode(x)) return false;
  return true;
}

/** Folds a single proof from a leaf hash; null when the proof is malformed. */
function _processProof(leafHash: Uint8Array, proof: unknown): Uint8Array | null {
  if (!_isNodeArray(proof)) return null;
  const work = new Uint8Array(64);
  const scratch = new Uint8Array(64);
  work.set(leafHash, 0);
  for (const sibling of proof) {
    work.set(sibling, 32);
    hashPairInto(work, 0, 32, scratch, work, 0);
  }
  return work.slice(0, 32);
}

/** OZ's processMultiProof over leaf hashes; null (instead of OZ's exceptions) for every malformed shape. */
function _processMultiProof(leafHashes: Uint8Array[], proof: unknown, flags: unknown): Uint8Array | null {
  if (!_isNodeArray(proof) || !Array.isArray(flags) || flags.length > MAX_PROOF_ITEMS) return null;
  let falses = 0;
  for (const f of flags) {
    if (typeof f !== 'boolean') return null;
    if (!f) falses++;
  }
  if (proof.length < falses) return null;
  if (leafHashes.length + proof.length !== flags.length + 1) return null;
  // OZ calls it a stack but uses it as a FIFO queue: computed hashes are appended and consumed after the leaves.
  const queue = new Uint8Array(32 * (leafHashes.length + flags.length));
  for (let i = 0; i < leafHashes.length; i++) queue.set(leafHashes[i]!, 32 * i);
  let head = 0;
  let tail = leafHashes.length;
  let pi = 0;
  const work = new Uint8Array(64);
  const scratch = new Uint8Array(64);
  for (const f of flags) {
    if (head >= tail) return null;
    work.set(queue.subarray(32 * head, 32 * head + 32), 0);
    head++;
    if (f) {
      if (head >= tail) return null;
      work.set(queue.subarray(32 * head, 32 * head + 32), 32);
      head++;
    } else {
      if (pi >= proof.length) return null;
      work.set(proof[pi++]!, 32);
    }
    hashPairInto(work, 0, 32, scratch, queue, 32 * tail);
    tail++;
  }
  const left = tail - head + (proof.length - pi);
  if (left !== 1) return null;
  return head < tail ? queue.slice(32 * head, 32 * head + 32) : proof[pi]!.slice();
}

/**
 * Verifies a single StandardMerkleTree proof of a bytes32 `value` against `root`.
 * Same result as OZ's `StandardMerkleTree.verify(root, ['bytes32'], [value], proof)` and Solidity's
 * `MerkleProof.verify(proof, root, keccak256(bytes.concat(keccak256(abi.encode(value)))))`.
 * @throws never: malformed input of any type returns false.
 * @example verifyOzProof(tree.root, value, tree.getProof(value)) // true
 */
export function verifyOzProof(root: Uint8Array, value: Uint8Array, proof: readonly Uint8Array[]): boolean {
  try {
    if (!_isNode(root) || !_isNode(value)) return false;
    const leaf = new Uint8Array(32);
    leafHashInto(value, 0, leaf, 0);
    const got = _processProof(leaf, proof);
    return got !== null && equalBytes(got, root);
  } catch {
    return false;
  }
}

/**
 * Verifies an OZ multiproof of bytes32 values against `root` (OZ's `StandardMerkleTree.verifyMultiProof`,
 * Solidity's `MerkleProof.multiProofVerify`), with the same shape checks; malformed shapes return false.
 * @throws never: malformed input of any type returns false.
 * @example verifyOzMultiProof(tree.root, tree.getMultiProof([0, 3])) // true
 */
export function verifyOzMultiProof(root: Uint8Array, multiproof: OzMultiProof): boolean {
  try {
    if (!_isNode(root) || typeof multiproof !== 'object' || multiproof === null) return false;
    const { leaves, proof, proofFlags } = multiproof;
    if (!_isNodeArray(leaves)) return false;
    const hashes = leaves.map((v) => {
      const h = new Uint8Array(32);
      leafHashInto(v, 0, h, 0);
      return h;
    });
    const got = _processMultiProof(hashes, proof, proofFlags);
    return got !== null && equalBytes(got, root);
  } catch {
    return false;
  }
}
