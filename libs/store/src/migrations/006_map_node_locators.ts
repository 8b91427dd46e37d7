/**
 * Map nodes are found by locator (README "Node locators"): `map_nodes` gains `at`, the number the writer stored a node
 * under (the merkle service: the stream sequence of the group that made it), and its primary key becomes
 * `(at, hash, suite)`. A group's nodes share one `at` above every earlier group's, so its rows go in at the right
 * edge of the index instead of one random place each in a btree that grows with the trees (measured: README
 * "Measured"). A branch names its children's locators (node type 0x02); readers walk down from a root, and
 * `map_roots` gives a root's locator from its hash. Nodes stored before this migration keep `at` = 0, the locator of
 * every 98-byte (0x01) branch's children; every table root recorded so far is entered in `map_roots` with `at` 0.
 * Rebuilding the primary key takes time in proportion to the table, under an exclusive lock: run it when the
 * merkle service is stopped.
 * Runs with `search_path` set to the store's schema. Never edit an applied migration: add a new one.
 */
export const sql = `
ALTER TABLE map_nodes ADD COLUMN at bigint NOT NULL DEFAULT 0 CHECK (at >= 0);
ALTER TABLE map_nodes DROP CONSTRAINT map_nodes_pkey, ADD CONSTRAINT map_nodes_pkey PRIMARY KEY (at, hash, suite);

-- Where each map root's node is stored: one row per root the writer committed (a few per group).
CREATE TABLE map_roots (
  suite smallint NOT NULL CHECK (suite IN (0, 1)),
  hash  bytea    NOT NULL CHECK (length(hash) = 32),
  at    bigint   NOT NULL CHECK (at >= 0),
  PRIMARY KEY (hash, suite)
);
INSERT INTO map_roots (suite, hash, at)
  SELECT suite, root, 0 FROM table_roots
  UNION
  SELECT l.suite, t.root, 0 FROM checkpoint_tables t JOIN logs l ON l.log_id = t.log_id
  ON CONFLICT DO NOTHING;
`;
