// Keyed commitments: leaf values and map keys that reveal nothing to holders of ciphertext and leaves.
export { COMMITMENT_ALGORITHMS, DEFAULT_COMMITMENT_ALGORITHM, isCommitmentAlgorithm, type CommitmentAlgorithm } from './algorithm.ts';
export { deriveCommitmentKeys, type CommitmentKeys } from './keys.ts';
export { commitMapKey, commitRow, mapKeyInput, verifyRowCommitment } from './commit.ts';
