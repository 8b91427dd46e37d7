import { createKeccak } from 'hash-wasm';

// Keccak-256 (the Ethereum one: original padding 0x01, not SHA3's 0x06).
// hash-wasm's WebAssembly Keccak is ~5x faster than @noble/hashes' pure-JS keccak_256 on the 32/64-byte
// messages this tree hashes; both are browser-safe, and oz.spec.ts cross-checks the two.
// One hasher is reused: every call runs init/update/digest synchronously, so sharing is safe in single-threaded JS.
const _h = await createKeccak(256);

/**
 * Keccak-256 of `msg` (a fresh 32-byte array).
 * @throws never for a Uint8Array input.
 * @example keccak256(new Uint8Array()) // c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470
 */
export function keccak256(msg: Uint8Array): Uint8Array {
  _h.init();
  _h.update(msg);
  return _h.digest('binary');
}

/**
 * keccak256(keccak256(src[off .. off+32])) written to out[outOff .. outOff+32]: the StandardMerkleTree leaf hash
 * of one bytes32 (abi.encode of a single bytes32 is the 32 bytes themselves).
 * @throws never for in-range offsets.
 * @example leafHashInto(values, 0, out, 0)
 */
export function leafHashInto(src: Uint8Array, off: number, out: Uint8Array, outOff: number): void {
  _h.init();
  _h.update(src.subarray(off, off + 32));
  const inner = _h.digest('binary');
  _h.init();
  _h.update(inner);
  out.set(_h.digest('binary'), outOff);
}

/**
 * keccak256(min(a, b) || max(a, b)) over two 32-byte nodes inside `nodes`, written to out[outOff .. +32].
 * `scratch` must be 64 bytes; it avoids a per-node allocation.
 * @throws never for in-range offsets.
 * @example hashPairInto(nodes, 32, 64, scratch, nodes, 0)
 */
export function hashPairInto(
  nodes: Uint8Array,
  aOff: number,
  bOff: number,
  scratch: Uint8Array,
  out: Uint8Array,
  outOff: number,
): void {
  let c = 0;
  for (let i = 0; i < 32; i++) {
    c = nodes[aOff + i]! - nodes[bOff + i]!;
    if (c !== 0) break;
  }
  if (c <= 0) {
    scratch.set(nodes.subarray(aOff, aOff + 32), 0);
    scratch.set(nodes.subarray(bOff, bOff + 32), 32);
  } else {
    scratch.set(nodes.subarray(bOff, bOff + 32), 0);
    scratch.set(nodes.subarray(aOff, aOff + 32), 32);
  }
  _h.init();
  _h.update(scratch);
  out.set(_h.digest('binary'), outOff);
}
