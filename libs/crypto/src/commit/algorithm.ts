/** Keyed hash used for commitments: HMAC-SHA256 (default; RFC 2104) or keyed BLAKE3 (32-byte key, 32-byte output). */
export type CommitmentAlgorithm = 'hmac-sha256' | 'blake3';

/** Every commitment algorithm, default first. */
export const COMMITMENT_ALGORITHMS: readonly CommitmentAlgorithm[] = Object.freeze(['hmac-sha256', 'blake3']);

/** The default commitment algorithm. */
export const DEFAULT_COMMITMENT_ALGORITHM: CommitmentAlgorithm = 'hmac-sha256';

/** Type guard. @example isCommitmentAlgorithm('blake3') // true */
export function isCommitmentAlgorithm(v: unknown): v is CommitmentAlgorithm {
  return v === 'hmac-sha256' || v === 'blake3';
}
