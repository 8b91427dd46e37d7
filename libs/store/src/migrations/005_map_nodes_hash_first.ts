/**
 * `map_nodes`' primary key leads with the hash: `(hash, suite)` in place of `(suite, hash)`. Every stored map node
 * is one insert into this btree at a random place; with the (constant) suite in front, each comparison on the way
 * down called the int2 comparator first and found the hash by walking the tuple (its offset is not cached when a
 * column precedes it). Measured with `npm run bench:floor` (README "Measured"). Every query gives both columns by
 * equality, so all of them use the new key as they used the old one. Rebuilding the index takes time in proportion
 * to the table, under an exclusive lock: run it when the merkle service is stopped.
 * Runs with `search_path` set to the store's schema. Never edit an applied migration: add a new one.
 */
export const sql = `
ALTER TABLE map_nodes DROP CONSTRAINT map_nodes_pkey, ADD CONSTRAINT map_nodes_pkey PRIMARY KEY (hash, suite);
`;
