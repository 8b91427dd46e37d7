// Nest injection tokens of the gateway's ports.

/** The validated {@link GatewayConfig}. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
/** The pg pool on the store's database. */
export const PG_POOL = Symbol('PG_POOL');
/** Map nodes through a read-through cache (libs/merkle `AsyncMapNodeSource`). */
export const MAP_NODES = Symbol('MAP_NODES');
/** Current table roots (`TableRootsReader`). */
export const TABLE_ROOTS = Symbol('TABLE_ROOTS');
/** The checkpoint chain and the table roots each checkpoint commits to (`CheckpointReader`). */
export const CHECKPOINTS = Symbol('CHECKPOINTS');
/** Latest ciphertext blocks per row (`BlockReader`). */
export const BLOCKS = Symbol('BLOCKS');
/** The prover client (`@merklesync/prover-client` `ProverClient`). */
export const PROVER = Symbol('PROVER');
/** The clock port (ms since the epoch), for stream polling. */
export const CLOCK = Symbol('CLOCK');
