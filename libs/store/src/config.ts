import { StoreError, StoreErrorCode } from './errors.ts';

/** Validated store configuration (the service builds it once from its own config). */
export interface StoreConfig {
  /** Postgres schema holding every table of the store (created by the migrations). */
  readonly schema: string;
}

/** Default schema name. */
export const DEFAULT_STORE_SCHEMA = 'merklesync';

const _IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Validates a store config: the schema must be a lower-case Postgres identifier (it is interpolated into SQL,
 * quoted, so anything else is refused rather than escaped).
 * @throws StoreError(INVALID_CONFIG) naming the bad field.
 * @example const config = storeConfig({ schema: 'merklesync' })
 */
export function storeConfig(input: { schema?: string } = {}): StoreConfig {
  const schema = input.schema ?? DEFAULT_STORE_SCHEMA;
  if (typeof schema !== 'string' || !_IDENT.test(schema)) {
    throw new StoreError(StoreErrorCode.InvalidConfig, `schema must match ${String(_IDENT)}, got ${JSON.stringify(schema)}`);
  }
  return Object.freeze({ schema });
}

/** Fully qualified, quoted table names of one store schema. */
export interface StoreTables {
  readonly schema: string;
  readonly migrations: string;
  /** `map_node_chunks` (migration 007; `map_nodes` before it). */
  readonly mapNodeChunks: string;
  /** The function `ms_chunk_node(chunk, hash)` (migration 007). */
  readonly chunkNodeFn: string;
  readonly mapRoots: string;
  readonly logTiles: string;
  readonly logs: string;
  readonly tableRoots: string;
  readonly appliedSequences: string;
  readonly checkpoints: string;
  readonly checkpointTables: string;
  readonly blocks: string;
  readonly blockChunks: string;
}

/** Qualified table names for `config` (the schema was validated, so quoting is enough). */
export function _tables(config: StoreConfig): StoreTables {
  const q = (t: string): string => `"${config.schema}"."${t}"`;
  return {
    schema: `"${config.schema}"`,
    migrations: q('schema_migrations'),
    mapNodeChunks: q('map_node_chunks'),
    chunkNodeFn: q('ms_chunk_node'),
    mapRoots: q('map_roots'),
    logTiles: q('log_tiles'),
    logs: q('logs'),
    tableRoots: q('table_roots'),
    appliedSequences: q('applied_sequences'),
    checkpoints: q('checkpoints'),
    checkpointTables: q('checkpoint_tables'),
    blocks: q('blocks'),
    blockChunks: q('block_chunks'),
  };
}
