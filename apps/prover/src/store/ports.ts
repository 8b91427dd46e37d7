// The narrow read ports the proof services use; libs/store's classes satisfy them (tests may pass fakes).
import type { PgApplyStore, PgCheckpointStore, PgLogStore } from '@merklesync/store';

/** Current table roots. */
export type TableRootsReader = Pick<PgApplyStore, 'tableRoots'>;
/** The checkpoint chain. */
export type CheckpointReader = Pick<PgCheckpointStore, 'latest' | 'bySeq'>;
/** The table roots each checkpoint commits to. */
export type CheckpointTablesReader = Pick<PgCheckpointStore, 'tableRootsAt'>;
/** Log proofs computed from stored log nodes. */
export type LogProofReader = Pick<PgLogStore, 'proveInclusion' | 'proveConsistency'>;
