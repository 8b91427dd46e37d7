// OpenZeppelin-compatible tree (bytes32 leaves, Keccak-256). Specified in libs/merkle/README.md, "OpenZeppelin-compatible tree".
export { OzStandardTree, type OzStandardTreeDump, type OzStandardTreeOptions } from './standard-tree.ts';
export { ozHashPair, ozLeafHash, verifyOzMultiProof, verifyOzProof, type OzMultiProof } from './verify.ts';
export { keccak256 } from './keccak.ts';
