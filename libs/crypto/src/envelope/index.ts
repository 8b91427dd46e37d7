// Envelope encryption: AES-256-GCM blocks bound to their row, key id and version in the header.
export { encodeRowBinding, type RowBinding } from './binding.ts';
export {
  BLOCK_FORMAT_VERSION,
  BLOCK_MAGIC,
  BLOCK_NONCE_BYTES,
  BLOCK_TAG_BYTES,
  BlockAlgorithm,
  MAX_BLOCK_BYTES,
  MAX_BLOCK_PLAINTEXT_BYTES,
  encodeBlockHeader,
  parseBlockHeader,
  type BlockHeader,
} from './header.ts';
export { BlockArena, openBlock, sealBlock, type DataKeyRef, type DataKeyResolver } from './seal.ts';
export { Envelope, type ReencryptManyResult, type ReencryptResult } from './envelope.ts';
