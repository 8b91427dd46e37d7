/**
 * Codes of the domain errors raised by `@merklesync/merkle`.
 * A const object rather than a TS `enum` so the source stays erasable (runs under Node's type stripping).
 */
export const MerkleErrorCode = {
  /** A proof, encoding or document is truncated, oversized or not of the documented form. */
  MalformedInput: 'MALFORMED_INPUT',
  /** A hash suite name that this library does not implement. */
  UnknownHashSuite: 'UNKNOWN_HASH_SUITE',
  /** A node-store lookup found no node for a hash (pruned, or never stored). */
  NodeNotFound: 'NODE_NOT_FOUND',
  /** A request outside what the structure holds (index past size, size past the tree, ...). */
  OutOfRange: 'OUT_OF_RANGE',
} as const;
export type MerkleErrorCode = (typeof MerkleErrorCode)[keyof typeof MerkleErrorCode];

/**
 * The one error class of this library. Callers switch on `code`, never on the message.
 *
 * @example
 * try { decodeProof(bytes) } catch (e) { if (e instanceof MerkleError && e.code === MerkleErrorCode.MalformedInput) ... }
 */
export class MerkleError extends Error {
  readonly code: MerkleErrorCode;
  constructor(code: MerkleErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MerkleError';
    this.code = code;
  }
}
