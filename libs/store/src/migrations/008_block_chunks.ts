/**
 * Blocks are stored in chunks under their group's locator (README "Block chunks"): `block_chunks (table_key, at, lo,
 * log_end, source, table_name, blocks)`. A chunk holds the latest change of consecutive map keys (in key order) of one
 * table written by one merkle group — the group whose last stream sequence `at` is also the locator of the map leaves
 * it created — under its smallest key `lo`; `log_end` is the log size after the group. Rows are only ever appended
 * (a repeated write finds its rows stored), both indexes grow at their ends, and one row holds ≈ 20 blocks: the
 * `blocks` table's random-key primary key and its row per change were the store's largest cost per change.
 * A row's latest block is found through the map: its leaf's locator names the group, the chunk of that group with the
 * greatest `lo` ≤ the key holds it. Rows of `blocks` stay where they are and are read for leaves stored before this
 * migration (no chunk at their locator); nothing new is written there by the merkle service.
 * `toast_tuple_target` lets a chunk (≤ 7,600 bytes of blocks) stay inline in its page; STORAGE EXTERNAL keeps a rare
 * larger one (a single very long row) from being compressed: ciphertext does not compress.
 * Runs with `search_path` set to the store's schema. Never edit an applied migration: add a new one.
 */
export const sql = `
CREATE TABLE block_chunks (
  table_key  bigint NOT NULL,
  at         bigint NOT NULL CHECK (at >= 1),
  lo         bytea  NOT NULL CHECK (length(lo) = 32),
  log_end    bigint NOT NULL CHECK (log_end >= 1),
  source     text   COLLATE "C" NOT NULL,
  table_name text   COLLATE "C" NOT NULL,
  blocks     bytea  NOT NULL,
  PRIMARY KEY (table_key, at, lo)
) WITH (toast_tuple_target = 8160);
ALTER TABLE block_chunks ALTER COLUMN blocks SET STORAGE EXTERNAL;
-- Sync scans: a table's chunks of the groups after a log size, in log order.
CREATE INDEX block_chunks_by_log_end ON block_chunks (table_key, log_end, lo);
`;
