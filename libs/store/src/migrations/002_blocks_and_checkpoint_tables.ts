/**
 * Blocks (the latest ciphertext block per row, for the gateway) and the table roots each checkpoint commits
 * to (for proofs anchored in any checkpoint). Runs with `search_path` set to the store's schema.
 * Never edit an applied migration: add a new one (the runner checks checksums).
 */
export const sql = `
-- The latest change per row key: its ciphertext block and leaf commitment as they arrived, and where.
-- A delete keeps a tombstone (op = 3, block and leaf_commitment NULL), so incremental sync can tell clients
-- that a key went away; the row is overwritten when the key comes back.
CREATE TABLE blocks (
  source          text     COLLATE "C" NOT NULL,
  table_name      text     COLLATE "C" NOT NULL,
  map_key         bytea    NOT NULL CHECK (length(map_key) = 32),
  op              smallint NOT NULL CHECK (op BETWEEN 1 AND 4),
  row_version     bigint   NOT NULL CHECK (row_version >= 0),
  leaf_commitment bytea             CHECK (length(leaf_commitment) = 32),
  block           bytea,
  stream_seq      bigint   NOT NULL CHECK (stream_seq >= 1),
  log_index       bigint   NOT NULL CHECK (log_index >= 0),
  PRIMARY KEY (map_key, source, table_name),
  CHECK ((op = 3) = (block IS NULL) AND (op = 3) = (leaf_commitment IS NULL))
);
-- Sync scans: what changed in a table from a log index on, in log order.
CREATE INDEX blocks_by_log_index ON blocks (source, table_name, log_index);

-- How many tables a checkpoint commits to; NULL for checkpoints written before this migration (their table
-- roots were not recorded).
ALTER TABLE checkpoints ADD COLUMN table_count integer CHECK (table_count >= 0);

-- Every table root a checkpoint's state root commits to (written with the checkpoint, append-only).
CREATE TABLE checkpoint_tables (
  log_id     text   NOT NULL,
  seq        bigint NOT NULL,
  source     text   NOT NULL,
  table_name text   NOT NULL,
  root       bytea  NOT NULL CHECK (length(root) = 32),
  PRIMARY KEY (log_id, seq, source, table_name),
  FOREIGN KEY (log_id, seq) REFERENCES checkpoints (log_id, seq)
);

CREATE FUNCTION checkpoint_tables_guard() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'checkpoint_tables are append-only' USING ERRCODE = 'P0001';
END
$fn$;
CREATE TRIGGER checkpoint_tables_guard BEFORE UPDATE OR DELETE ON checkpoint_tables
  FOR EACH ROW EXECUTE FUNCTION checkpoint_tables_guard();
`;
