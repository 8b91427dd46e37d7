import type { HashSuite, HashSuiteName } from '@merklesync/merkle';
import { PgApplyStore } from './apply/pg-apply-store.ts';
import { PgBlockStore } from './block/pg-block-store.ts';
import { PgCheckpointStore } from './checkpoint/pg-checkpoint-store.ts';
import type { StoreConfig } from './config.ts';
import type { PgPool } from './db.ts';
import { PgLogStore } from './log/pg-log-store.ts';
import { PgMapNodeStore, type PgMapNodeStoreOptions } from './map/pg-map-node-store.ts';
import { migrate, type MigrationResult } from './migrations/runner.ts';

/** Every part of the store over one pool and schema. */
export interface MerkleStore {
  readonly config: StoreConfig;
  readonly maps: PgMapNodeStore;
  readonly logs: PgLogStore;
  readonly checkpoints: PgCheckpointStore;
  readonly apply: PgApplyStore;
  /** The latest ciphertext block per row key (written in applyBatch, read by the gateway). */
  readonly blocks: PgBlockStore;
  /** Runs the migrations (see {@link migrate}). */
  migrate(): Promise<MigrationResult>;
}

/**
 * Wires the stores over one pool (the injected database port) for one map hash suite.
 * @throws MerkleError(UNKNOWN_HASH_SUITE) for an unknown suite name.
 * @example const store = createStore(pool, storeConfig({ schema: 'merklesync' })); await store.migrate();
 */
export function createStore(pool: PgPool, config: StoreConfig, options: { suite?: HashSuite | HashSuiteName; map?: PgMapNodeStoreOptions } = {}): MerkleStore {
  const maps = new PgMapNodeStore(pool, config, options.suite ?? 'sha256', options.map);
  const logs = new PgLogStore(pool, config);
  const checkpoints = new PgCheckpointStore(pool, config);
  const blocks = new PgBlockStore(pool, config);
  const apply = new PgApplyStore(pool, config, { maps, logs, checkpoints, blocks });
  return { config, maps, logs, checkpoints, apply, blocks, migrate: () => migrate(pool, config) };
}
