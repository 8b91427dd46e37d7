// Nest injection tokens of the prover's ports.

/** The validated {@link ProverConfig}. */
export const PROVER_CONFIG = Symbol('PROVER_CONFIG');
/** The pg pool (libs/store `PgPool`) on the store's database. */
export const PG_POOL = Symbol('PG_POOL');
/** The libs/store `MerkleStore` over that pool. */
export const MERKLE_STORE = Symbol('MERKLE_STORE');
/** Map nodes through the read-through cache (libs/merkle `AsyncMapNodeSource`). */
export const MAP_NODES = Symbol('MAP_NODES');
/** Current table roots (`TableRootsReader`). */
export const TABLE_ROOTS = Symbol('TABLE_ROOTS');
/** The table roots per checkpoint (`CheckpointTablesReader`), cached for good. */
export const CHECKPOINT_TABLES = Symbol('CHECKPOINT_TABLES');
/** The checkpoint chain (`CheckpointReader`). */
export const CHECKPOINTS = Symbol('CHECKPOINTS');
/** Log proofs from stored nodes (`LogProofReader`). */
export const LOG_PROOFS = Symbol('LOG_PROOFS');
