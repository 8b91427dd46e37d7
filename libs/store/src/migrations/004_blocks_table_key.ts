/**
 * The blocks' scan index leads with one int8 per (source, table) instead of the two names: `(table_key, log_index)`
 * in place of `(source, table_name, log_index)`. Every stored change writes one entry into that index; with the
 * names in front each insert compared two text columns (found by offset, not cached) at every level of the btree.
 * `bench:floor` measured the old index at about a third of the store's Postgres CPU for blocks (README).
 * `table_key` is written by libs/store (`blockTableKey`); existing rows get the same value here.
 * Runs with `search_path` set to the store's schema. Never edit an applied migration: add a new one.
 */
export const sql = `
ALTER TABLE blocks ADD COLUMN table_key bigint;
UPDATE blocks SET table_key =
  ('x' || encode(substring(sha256(convert_to(source, 'UTF8') || '\\x00'::bytea || convert_to(table_name, 'UTF8')) FROM 1 FOR 8), 'hex'))::bit(64)::bigint;
ALTER TABLE blocks ALTER COLUMN table_key SET NOT NULL;
CREATE INDEX blocks_by_table_key ON blocks (table_key, log_index);
DROP INDEX blocks_by_log_index;
`;
