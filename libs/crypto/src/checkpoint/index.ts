// Checkpoints (c2sp.org/tlog-checkpoint + MerkleSync extension lines), witness cosignatures
// (c2sp.org/tlog-cosignature, Ed25519) and the weighted verifier policy. Formats: libs/crypto/README.md part C.
export { EXTENSION_PREFIX, formatCheckpoint, parseCheckpoint, type Checkpoint } from './body.ts';
export { systemClock, type Clock } from './clock.ts';
export {
  COSIGNATURE_BYTES,
  cosignCheckpoint,
  cosignatureMessage,
  cosignatureSigner,
  cosignatureTimestamp,
  cosignatureVerifier,
} from './cosignature.ts';
export {
  MAX_WITNESSES,
  MAX_WITNESS_WEIGHT,
  createPolicy,
  defaultThreshold,
  parsePolicy,
  type CheckpointPolicy,
  type PolicyInput,
  type PolicyWitness,
  type WitnessInput,
} from './policy.ts';
export { signCheckpoint } from './sign.ts';
export { verifyCheckpoint, type CheckpointVerification, type VerifiedCosignature, type VerifyCheckpointOptions } from './verify.ts';
