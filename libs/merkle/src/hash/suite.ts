/** Names of the hash suites. SHA-256 is the default and the one the transparency-log ecosystem speaks. */
export type HashSuiteName = 'sha256' | 'blake3';

/** Every suite name, in a stable order. */
export const HASH_SUITE_NAMES: readonly HashSuiteName[] = ['sha256', 'blake3'];

/**
 * A 32-byte hash function with the few shapes the trees need. Domain separation is the caller's:
 * every structure passes its own prefix (tag) bytes, so no two structures hash the same bytes.
 *
 * Implementations must be pure functions of their inputs: outputs are fresh arrays the caller owns.
 */
export interface HashSuite {
  readonly name: HashSuiteName;
  /** Digest length in bytes (32 for both suites). */
  readonly outputLength: 32;
  /** H(msg). */
  digest(msg: Uint8Array): Uint8Array;
  /** H(prefix || msg). */
  digestPrefixed(prefix: Uint8Array, msg: Uint8Array): Uint8Array;
  /** H(prefix || a || b); the hot path of every interior node. */
  digestPair(prefix: Uint8Array, a: Uint8Array, b: Uint8Array): Uint8Array;
  /**
   * Batch form of digestPair over packed children:
   * for i < count, out[outOffset+32i .. +32] = H(prefix || pairs[64i .. 64i+64]).
   * `out` may be the same buffer as `pairs` when outOffset+32i never overtakes 64i (in-place level reduction).
   */
  digestPairs(prefix: Uint8Array, pairs: Uint8Array, count: number, out: Uint8Array, outOffset?: number): void;
  /** Batch form of digestPrefixed: out[32i .. 32i+32] = H(prefix || msgs[i]). */
  digestPrefixedMany(prefix: Uint8Array, msgs: readonly Uint8Array[], out: Uint8Array): void;
}
