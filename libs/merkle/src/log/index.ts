export { LogTree } from './log-tree.ts';
export { LOG_TREE_TAGS, merkleTreeHash, type TreeHashTags } from './tree-hash.ts';
export { rootFromInclusionProof, verifyConsistency, verifyInclusion } from './verify.ts';
export {
  decodeLogProof,
  encodeLogProof,
  logProofFromJson,
  logProofToJson,
  proveLogConsistency,
  proveLogInclusion,
  verifyLogProof,
  type LogConsistencyProof,
  type LogConsistencyProofJson,
  type LogInclusionProof,
  type LogInclusionProofJson,
  type LogProof,
  type LogProofJson,
} from './codec.ts';
