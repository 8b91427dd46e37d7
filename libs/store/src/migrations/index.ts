import { sql as initial } from './001_initial.ts';
import { sql as blocksAndCheckpointTables } from './002_blocks_and_checkpoint_tables.ts';
import { sql as logTiles } from './003_log_tiles.ts';
import { sql as blocksTableKey } from './004_blocks_table_key.ts';
import { sql as mapNodesHashFirst } from './005_map_nodes_hash_first.ts';
import { sql as mapNodeLocators } from './006_map_node_locators.ts';
import { sql as mapNodeChunks } from './007_map_node_chunks.ts';
import { sql as blockChunks } from './008_block_chunks.ts';

/** One schema migration: applied once, in `version` order, inside the migration transaction. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Every migration this code knows, ascending by version (append only). */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  { version: 1, name: 'initial', sql: initial },
  { version: 2, name: 'blocks_and_checkpoint_tables', sql: blocksAndCheckpointTables },
  { version: 3, name: 'log_tiles', sql: logTiles },
  { version: 4, name: 'blocks_table_key', sql: blocksTableKey },
  { version: 5, name: 'map_nodes_hash_first', sql: mapNodesHashFirst },
  { version: 6, name: 'map_node_locators', sql: mapNodeLocators },
  { version: 7, name: 'map_node_chunks', sql: mapNodeChunks },
  { version: 8, name: 'block_chunks', sql: blockChunks },
]);
