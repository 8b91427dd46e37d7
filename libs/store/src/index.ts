// Public API of @merklesync/store. Schema, node encoding and contracts: libs/store/README.md.
export { StoreError, StoreErrorCode } from './errors.ts';
export { DEFAULT_STORE_SCHEMA, storeConfig, type StoreConfig } from './config.ts';
export { inTransaction, type PgPool, type Queryable } from './db.ts';
export { MIGRATIONS, type Migration } from './migrations/index.ts';
export { migrate, type MigrationResult } from './migrations/runner.ts';
export { NODE_BRANCH, NODE_BRANCH_AT, NODE_LEAF, chunkNode, chunkNodes, decodeMapNode, encodeChunk, encodeMapNode, suiteCode, suiteName } from './map/node-codec.ts';
export { CHUNK_BYTES, MapNodeRows, type MapNodeRowsOptions } from './map/node-rows.ts';
export { ScratchBuffers } from './scratch.ts';
export { PgMapNodeStore, type PgMapNodeStoreOptions } from './map/pg-map-node-store.ts';
export { leafLocators, type LocatingMapSource } from './map/leaf-locator.ts';
export { CachedMapNodeSource, prefetchMapPath, type MapPathSource, type NodeCacheOptions, type NodeCacheStats } from './map/cached-source.ts';
export { loadMapIntoMemory, readTrieBreadthFirst, type LoadMapOptions, type LoadMapResult, type TrieFetcher } from './map/load.ts';
export {
  logConsistencyPlan,
  logInclusionPlan,
  logNodesCompleted,
  logRootPlan,
  resolveLogPlan,
  type LogNodeRef,
  type LogProofPlan,
} from './log/proof-plan.ts';
export { PgLogStore, type StoredLog } from './log/pg-log-store.ts';
export {
  PgCheckpointStore,
  checkpointHash,
  type CheckpointInput,
  type CheckpointTableRoot,
  type StoredCheckpoint,
} from './checkpoint/pg-checkpoint-store.ts';
export { BlockOp, PgBlockStore, type BlockInput, type BlockPage, type BlockScanCursor, type BlockScanOptions, type StoredBlock } from './block/pg-block-store.ts';
export { BLOCK_CHUNK_BYTES, blockChunk, blockChunkFile, chunkBlock, chunkBlocks, decodeBlockEntry, type BlockChunkFile, type BlockGroup } from './block/block-chunks.ts';
export { blockTableKey } from './block/table-key.ts';
export { PgApplyStore, type ApplyResult, type BatchWriter, type StoredTableRoot } from './apply/pg-apply-store.ts';
export { createStore, type MerkleStore } from './store.ts';
