/**
 * Map nodes are stored in chunks (README "Node chunks"): `map_node_chunks (suite, at, lo, nodes)` replaces
 * `map_nodes (suite, at, hash, node)`. A chunk holds up to ≈ 1,900 bytes of nodes of one locator, consecutive in hash
 * order, under its smallest hash `lo`; a node is found as the one chunk of its locator with the greatest `lo` ≤ its
 * hash. Every row Postgres stores costs a tuple, an index entry and WAL record overhead whatever its size: the
 * merkle service writes 4–8 map nodes per change, 13–18 fit in a chunk (README "Measured").
 * Every stored node becomes a chunk of its own (so nodes stored before keep their locators and are found as before),
 * then `map_nodes` is dropped: the copy takes time in proportion to the table; run it when the merkle service is
 * stopped. `ms_chunk_node(chunk, hash)` gives the node with that hash inside a chunk (NULL when it has none), for the
 * recursive path walk that runs inside Postgres.
 * Runs with `search_path` set to the store's schema. Never edit an applied migration: add a new one.
 */
export const sql = `
CREATE TABLE map_node_chunks (
  suite smallint NOT NULL CHECK (suite IN (0, 1)),
  at    bigint   NOT NULL CHECK (at >= 0),
  lo    bytea    NOT NULL,
  nodes bytea    NOT NULL,
  PRIMARY KEY (at, lo, suite)
);
INSERT INTO map_node_chunks (suite, at, lo, nodes)
  SELECT suite, at, hash, decode('0001', 'hex') || hash || int4send(length(node)) || node FROM map_nodes ORDER BY at, hash;
DROP TABLE map_nodes;

-- count[u16] ‖ hash[32] × count (ascending) ‖ end[u32] × count ‖ nodes: binary search over the hashes.
CREATE FUNCTION ms_chunk_node(c bytea, h bytea) RETURNS bytea LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
  n    int := get_byte(c, 0) << 8 | get_byte(c, 1);
  ends int := 2 + 32 * n;
  lo   int := 0;
  hi   int := n - 1;
  mid  int;
  s    int;
  e    int;
  x    bytea;
BEGIN
  WHILE lo <= hi LOOP
    mid := (lo + hi) / 2;
    x := substring(c FROM 3 + 32 * mid FOR 32);
    IF x = h THEN
      e := get_byte(c, ends + 4 * mid) << 24 | get_byte(c, ends + 4 * mid + 1) << 16 | get_byte(c, ends + 4 * mid + 2) << 8 | get_byte(c, ends + 4 * mid + 3);
      IF mid = 0 THEN
        s := 0;
      ELSE
        s := get_byte(c, ends + 4 * mid - 4) << 24 | get_byte(c, ends + 4 * mid - 3) << 16 | get_byte(c, ends + 4 * mid - 2) << 8 | get_byte(c, ends + 4 * mid - 1);
      END IF;
      RETURN substring(c FROM ends + 4 * n + s + 1 FOR e - s);
    ELSIF x < h THEN
      lo := mid + 1;
    ELSE
      hi := mid - 1;
    END IF;
  END LOOP;
  RETURN NULL;
END
$fn$;
`;
