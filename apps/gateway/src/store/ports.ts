// What the gateway reads from the store, as small ports (libs/store implements them; tests may fake them).
import type { BlockPage, BlockScanOptions, StoredBlock, StoredCheckpoint, StoredTableRoot } from '@merklesync/store';

/** One table root a checkpoint commits to. */
export interface CheckpointTable {
  readonly source: string;
  readonly table: string;
  readonly root: Uint8Array;
}

/** The checkpoint chain of the configured log. */
export interface CheckpointReader {
  latest(): Promise<StoredCheckpoint | undefined>;
  bySeq(seq: number): Promise<StoredCheckpoint | undefined>;
  /** Checkpoints with seq ≥ fromSeq, ascending, at most `limit`. */
  list(fromSeq: number, limit: number): Promise<StoredCheckpoint[]>;
  /** The table roots checkpoint `seq` commits to; undefined when unknown or not recorded. */
  tableRootsAt(seq: number): Promise<CheckpointTable[] | undefined>;
}

/** The current root of every table. */
export interface TableRootsReader {
  tableRoots(): Promise<StoredTableRoot[]>;
}

/** Ciphertext blocks: by a key's leaf locator (libs/store `leafLocators`), and what changed after a log size. */
export interface BlockReader {
  /** The block as of the leaf at locator `at` (PgBlockStore.getAt). */
  getAt(source: string, table: string, mapKey: Uint8Array, at: number): Promise<StoredBlock | undefined>;
  getManyAt(source: string, table: string, mapKeys: readonly Uint8Array[], ats: readonly number[]): Promise<(StoredBlock | undefined)[]>;
  scan(source: string, table: string, options: BlockScanOptions): Promise<BlockPage>;
}
