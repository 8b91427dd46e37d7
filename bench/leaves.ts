// Deterministic pseudo-random 32-byte leaves: every child process regenerates the same set from the seed,
// so all implementations hash exactly the same bytes without passing megabytes over IPC.

/** `count` leaves of 32 bytes as views over one packed buffer (mulberry32 stream from `seed`). */
export function makeLeaves(count: number, seed = 0x5eed): Uint8Array[] {
  const words = new Uint32Array(8 * count);
  let s = seed >>> 0;
  for (let i = 0; i < words.length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    words[i] = (t ^ (t >>> 14)) >>> 0;
  }
  const bytes = new Uint8Array(words.buffer);
  const out: Uint8Array[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = bytes.subarray(32 * i, 32 * i + 32);
  return out;
}

/** Spread, deterministic leaf indices to prove (a stride coprime with most sizes). */
export function proofIndices(count: number, size: number): number[] {
  const out: number[] = new Array(count);
  for (let k = 0; k < count; k++) out[k] = (k * 7919 + 13) % size;
  return out;
}
