export { SparseMerkleMap, type SparseMerkleMapOptions } from './map.ts';
export { MemoryMapStore, type MapNodeSink, type MapNodeWithHash, type MapStoreMark } from './memory-store.ts';
export { MAP_KEY_LENGTH, mapEmptyRoot, type MapNode } from './node.ts';
export { runMapRead, runMapReadAsync, type AsyncMapNodeSource, type MapNodeSource, type MapRead } from './source.ts';
export { mapGet, mapProve } from './read.ts';
export { mapProveMulti, type MapMultiProofResult } from './multiproof.ts';
export { mapDiff } from './diff.ts';
export { verifyMembership, verifyMultiProof, verifyNonMembership } from './verify.ts';
export {
  decodeMapProofBinary,
  decodeMapProofJson,
  encodeMapProofBinary,
  encodeMapProofJson,
  verifyMapProof,
  type MapProofDocument,
} from './codec.ts';
export type {
  MapChange,
  MapEntry,
  MapKeyProof,
  MapMembershipProof,
  MapMultiNode,
  MapMultiProof,
  MapNonMembershipProof,
  MapPath,
} from './types.ts';
