/**
 * Deterministic pseudo-random bytes (xorshift32), so failures reproduce.
 * @example const bytes = rng(42); bytes(32)
 */
export function rng(seed: number): (n: number) => Uint8Array {
  let x = seed >>> 0 || 1;
  return (n) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x & 0xff;
    }
    return b;
  };
}
