// Public API of @merklesync/merkle. Byte formats: libs/merkle/README.md.
export { MerkleError, MerkleErrorCode } from './errors.ts';
export {
  ByteReader,
  ByteWriter,
  assertBytes,
  assertIndex,
  compareBytes,
  concatBytes,
  equalBytes,
  fromBase64,
  fromHex,
  toBase64,
  toHex,
} from './bytes.ts';
export { HASH_SUITE_NAMES, getHashSuite, getPortableHashSuite, isHashSuiteName, type HashSuite, type HashSuiteName } from './hash/index.ts';
export { Tag } from './tags.ts';
export { PROOF_FORMAT_VERSION, ProofKind } from './proof-format.ts';
export * from './log/index.ts';
export * from './compose/index.ts';
export * from './oz/index.ts';
export * from './map/index.ts';
export { decodeProof, encodeProof, proofFromJson, proofToJson, verifyProof, type Proof } from './proof.ts';
