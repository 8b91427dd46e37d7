/**
 * Log nodes packed into tiles (README "Log tiles"): one row holds up to 256 consecutive node hashes of one
 * tile level (tree levels 0, 8, 16, …), in place of one row per node of every level. The levels in between
 * are recomputed from a tile when read. Existing `log_nodes` rows are converted, then the table is dropped.
 * Runs with `search_path` set to the store's schema. Never edit an applied migration: add a new one.
 */
export const sql = `
CREATE TABLE log_tiles (
  log_id     text     NOT NULL,
  tile_level smallint NOT NULL CHECK (tile_level BETWEEN 0 AND 7),
  tile_index bigint   NOT NULL CHECK (tile_index >= 0),
  width      smallint NOT NULL CHECK (width BETWEEN 1 AND 256),
  hashes     bytea    NOT NULL CHECK (length(hashes) = 32 * width),
  PRIMARY KEY (log_id, tile_level, tile_index)
);
-- Hashes do not compress: store them out of line without trying.
ALTER TABLE log_tiles ALTER COLUMN hashes SET STORAGE EXTERNAL;

INSERT INTO log_tiles (log_id, tile_level, tile_index, width, hashes)
  SELECT log_id, level / 8, idx / 256, count(*), string_agg(hash, ''::bytea ORDER BY idx)
    FROM log_nodes WHERE level % 8 = 0
   GROUP BY log_id, level, idx / 256;

DROP TABLE log_nodes;
`;
