import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogTree, SparseMerkleMap, getHashSuite, mapProve, proveLogInclusion, runMapReadAsync } from '@merklesync/merkle';
import { MIGRATIONS, MapNodeRows, PgBlockStore, PgLogStore, PgMapNodeStore, StoreError, StoreErrorCode, blockTableKey, encodeMapNode, loadMapIntoMemory, logNodesCompleted, migrate, storeConfig } from '../src/index.ts';
import { MemoryMapStore } from '@merklesync/merkle';
import { createTestDb, type TestDb } from '@merklesync/testkit';

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => {
  await db?.drop();
});

describe('migrate', () => {
  it('creates the schema once and is idempotent', async () => {
    const config = storeConfig({ schema: 'ms_a' });
    expect(await migrate(db.pool, config)).toEqual({ applied: [1, 2, 3, 4, 5, 6, 7, 8], version: 8 });
    expect(await migrate(db.pool, config)).toEqual({ applied: [], version: 8 });
    const { rows } = await db.pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'ms_a' ORDER BY 1`);
    expect(rows.map((r) => r.table_name)).toEqual(['applied_sequences', 'block_chunks', 'blocks', 'checkpoint_tables', 'checkpoints', 'log_tiles', 'logs', 'map_node_chunks', 'map_roots', 'schema_migrations', 'table_roots']);
  });

  it('two runners starting together apply each migration exactly once', async () => {
    const config = storeConfig({ schema: 'ms_race' });
    const [p1, p2, p3] = [db.newPool(), db.newPool(), db.newPool()];
    const results = await Promise.all([migrate(p1, config), migrate(p2, config), migrate(p3, config)]);
    expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, MIGRATIONS.length]);
    const { rows } = await db.pool.query('SELECT version FROM ms_race.schema_migrations ORDER BY version');
    expect(rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }, { version: 6 }, { version: 7 }, { version: 8 }]);
  });

  it('refuses a database with a migration newer than the code, and an edited migration', async () => {
    const config = storeConfig({ schema: 'ms_new' });
    await migrate(db.pool, config);
    await db.pool.query(`INSERT INTO ms_new.schema_migrations (version, name, checksum) VALUES (99, 'future', 'x')`);
    const e = await migrate(db.pool, config).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).code).toBe(StoreErrorCode.SchemaTooNew);

    const config2 = storeConfig({ schema: 'ms_edit' });
    await migrate(db.pool, config2);
    const edited = [{ ...MIGRATIONS[0]!, sql: MIGRATIONS[0]!.sql + '\n-- edited' }];
    await expect(migrate(db.pool, config2, edited)).rejects.toMatchObject({ code: StoreErrorCode.MigrationChanged });
  });

  it('a failing migration leaves nothing behind', async () => {
    const config = storeConfig({ schema: 'ms_fail' });
    const bad = [...MIGRATIONS, { version: 99, name: 'broken', sql: 'CREATE TABLE x (a int); SELECT 1/0;' }];
    await expect(migrate(db.pool, config, bad)).rejects.toMatchObject({ code: StoreErrorCode.Database });
    const { rows } = await db.pool.query(`SELECT 1 FROM information_schema.schemata WHERE schema_name = 'ms_fail'`);
    expect(rows).toEqual([]);
  });

  it('002 upgrades a schema at version 1 with checkpoints already stored (their table roots unrecorded)', async () => {
    const config = storeConfig({ schema: 'ms_up' });
    await migrate(db.pool, config, MIGRATIONS.slice(0, 1));
    await db.pool.query(
      `INSERT INTO ms_up.checkpoints (log_id, seq, log_size, log_root, state_root, note, note_hash) VALUES ('global', 1, 1, $1, $1, 'n', $1)`,
      [Buffer.alloc(32)],
    );
    expect(await migrate(db.pool, config, MIGRATIONS.slice(0, 2))).toEqual({ applied: [2], version: 2 });
    const { rows } = await db.pool.query('SELECT table_count FROM ms_up.checkpoints');
    expect(rows).toEqual([{ table_count: null }]);
  });

  it('003 converts the log nodes of a schema at version 2 into tiles that load and prove the same tree', async () => {
    const config = storeConfig({ schema: 'ms_tiles' });
    await migrate(db.pool, config, MIGRATIONS.slice(0, 2));
    const tree = new LogTree(getHashSuite('sha256'));
    tree.appendMany(Array.from({ length: 700 }, (_, i) => Uint8Array.of(i & 255, i >> 8)));
    // Version 2's layout: one row per complete node of every level.
    const refs = logNodesCompleted(0, 700);
    await db.pool.query(`INSERT INTO ms_tiles.logs (log_id, suite, size) VALUES ('global', 0, 700)`);
    await db.pool.query(
      `INSERT INTO ms_tiles.log_nodes (log_id, level, idx, hash) SELECT 'global', l, i, h FROM unnest($1::smallint[], $2::bigint[], $3::bytea[]) AS u(l, i, h)`,
      [refs.map((r) => r.level), refs.map((r) => r.index), refs.map((r) => Buffer.from(tree.node(r.level, r.index)))],
    );
    expect(await migrate(db.pool, config, MIGRATIONS.slice(0, 3))).toEqual({ applied: [3], version: 3 });
    const logs = new PgLogStore(db.pool, config);
    expect((await logs.loadLogTree('global', 'sha256', { verify: true })).root()).toEqual(tree.root());
    expect(await logs.proveInclusion('global', 511, 700)).toEqual(proveLogInclusion(tree, 511, 700));
    const { rows } = await db.pool.query(`SELECT to_regclass('ms_tiles.log_nodes') AS t`);
    expect(rows).toEqual([{ t: null }]);
  });

  it('004 gives the blocks of a schema at version 3 the scan key the library writes, and swaps the scan index', async () => {
    const config = storeConfig({ schema: 'ms_tkey' });
    await migrate(db.pool, config, MIGRATIONS.slice(0, 3));
    // Version 3's blocks: no table_key. Names with multi-byte UTF-8 characters, three tables.
    const tables = [
      ['pg', 'public.users'],
      ['pg', 'public.orders'],
      ['mongo-ñ', 'shop.größe'],
    ] as const;
    let logIndex = 0;
    for (const [source, table] of tables) {
      for (let i = 0; i < 3; i++, logIndex++) {
        await db.pool.query(
          `INSERT INTO ms_tkey.blocks (source, table_name, map_key, op, row_version, leaf_commitment, block, stream_seq, log_index)
           VALUES ($1, $2, $3, 1, 1, $4, $5, 1, $6)`,
          [source, table, Buffer.alloc(32, logIndex), Buffer.alloc(32, 7), Buffer.of(1, 2, 3), logIndex],
        );
      }
    }
    expect(await migrate(db.pool, config, MIGRATIONS.slice(0, 4))).toEqual({ applied: [4], version: 4 });
    const { rows } = await db.pool.query<{ source: string; table_name: string; table_key: string }>('SELECT DISTINCT source, table_name, table_key FROM ms_tkey.blocks');
    expect(rows).toHaveLength(3);
    for (const r of rows) expect(r.table_key).toBe(blockTableKey(r.source, r.table_name).toString());
    const blocks = new PgBlockStore(db.pool, config);
    expect((await blocks.scan('mongo-ñ', 'shop.größe')).blocks.map((b) => b.logIndex)).toEqual([6, 7, 8]);
    const idx = await db.pool.query<{ indexname: string; indexdef: string }>(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'ms_tkey' AND tablename = 'blocks' ORDER BY indexname`);
    expect(idx.rows.map((r) => r.indexname)).toEqual(['blocks_by_table_key', 'blocks_pkey']);
    expect(idx.rows[0]!.indexdef).toContain('(table_key, log_index)');
  });

  it('005, 006 and 007 carry the map nodes of a schema at version 4 over: stored trees read, prove and load the same; new groups are located and chunked', async () => {
    const config = storeConfig({ schema: 'ms_hfirst' });
    await migrate(db.pool, config, MIGRATIONS.slice(0, 4));
    const suite = getHashSuite('sha256');
    const map = new SparseMerkleMap({ suite: 'sha256' });
    const keys = Array.from({ length: 300 }, (_, i) => suite.digest(Uint8Array.of(i, i >> 8)));
    const mark = map.store.mark();
    const root = map.update(map.emptyRoot, keys.map((key, i) => ({ key, value: Uint8Array.of(i & 255) })));
    // Rows as version 4 stored them: (suite, hash, node), and the table's root.
    const written = map.store.newNodesSince(mark, [root]);
    await db.pool.query(`INSERT INTO ms_hfirst.map_nodes (suite, hash, node) SELECT 0, h, n FROM unnest($1::bytea[], $2::bytea[]) AS u(h, n)`, [
      written.map((w) => Buffer.from(w.hash)),
      written.map((w) => Buffer.from(encodeMapNode(w.node))),
    ]);
    await db.pool.query(`INSERT INTO ms_hfirst.table_roots (source, table_name, suite, root, stream_seq) VALUES ('pg', 'public.t', 0, $1, 3)`, [Buffer.from(root)]);
    expect(await migrate(db.pool, config, MIGRATIONS.slice(0, 6))).toEqual({ applied: [5, 6], version: 6 });
    const idx = await db.pool.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'ms_hfirst' AND indexname = 'map_nodes_pkey'`);
    expect(idx.rows[0]!.indexdef).toContain('(at, hash, suite)');

    // A group stored by version 6 under locator 77 on top of the old trie: one row per node, its branches naming old
    // children at 0 and new ones at 77.
    // A group: `value` for `groupKeys` on top of `from`, its new nodes collected under locator `at`.
    const group = (from: Uint8Array, groupKeys: readonly Uint8Array[], value: number, at: number): { root: Uint8Array; rows: MapNodeRows; count: number } => {
      const m = map.store.mark();
      const r = map.update(
        from,
        groupKeys.map((key) => ({ key, value: Uint8Array.of(value) })),
      );
      const out = new MapNodeRows('sha256', 64, at);
      return { root: r, rows: out, count: map.store.visitNewNodesSince(m, [r], out, at) };
    };
    const { root: root2, rows, count: n2 } = group(root, keys.slice(0, 40), 200, 77);
    const pairs = rows.sortedPairs();
    await db.pool.query(`INSERT INTO ms_hfirst.map_nodes (suite, at, hash, node) SELECT 0, 77, h, n FROM unnest($1::bytea[], $2::bytea[]) AS u(h, n)`, [pairs.map((p) => p.hash), pairs.map((p) => p.node)]);
    await db.pool.query(`INSERT INTO ms_hfirst.map_roots (suite, hash, at) VALUES (0, $1, 77)`, [Buffer.from(root2)]);

    expect(await migrate(db.pool, config, MIGRATIONS.slice(0, 7))).toEqual({ applied: [7], version: 7 });
    const tables = await db.pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'ms_hfirst' AND table_name LIKE 'map_%' ORDER BY 1`);
    expect(tables.rows.map((r) => r.table_name)).toEqual(['map_node_chunks', 'map_roots']);
    // Every node of version 6 is a chunk of its own, under its locator.
    const at = await db.pool.query<{ at: string; n: string }>(`SELECT at::text, count(*)::text AS n FROM ms_hfirst.map_node_chunks GROUP BY at ORDER BY at`);
    expect(at.rows).toEqual([{ at: '0', n: String(written.length) }, { at: '77', n: String(n2) }]);
    const nodes = new PgMapNodeStore(db.pool, config, 'sha256');
    expect(await nodes.rootAt(root)).toBe(0);
    for (const k of [keys[0]!, keys[299]!, suite.digest(Uint8Array.of(9, 9, 9))]) {
      expect(await runMapReadAsync(mapProve(nodes.suite, root, k), nodes)).toEqual(map.prove(root, k));
    }
    expect((await nodes.fetchTrie(root)).size).toBe(written.length);
    // Nodes written again without a locator are still deduplicated by the key.
    expect(await nodes.putNodes(written)).toBe(0);
    expect(await nodes.rootAt(root2)).toBe(77);
    for (const k of [keys[0]!, keys[39]!, keys[299]!]) {
      expect(await runMapReadAsync(mapProve(nodes.suite, root2, k), nodes)).toEqual(map.prove(root2, k));
      const path = await nodes.fetchPath(root2, k);
      expect(path.at(-1)!.node).toMatchObject({ type: 'leaf', key: k });
    }

    // The next group, written now: chunks of many nodes under locator 88.
    const { root: root3, rows: rows3, count: n3 } = group(root2, keys.slice(100, 200), 201, 88);
    rows3.root(root3, map.store.atOf(root3)!);
    expect(await nodes.putNodes(rows3)).toBe(n3);
    const chunks3 = Number((await db.pool.query(`SELECT count(*) FROM ms_hfirst.map_node_chunks WHERE at = 88`)).rows[0].count);
    expect(chunks3).toBeGreaterThan(0);
    expect(chunks3).toBeLessThan(n3 / 8);
    for (const k of [keys[0]!, keys[150]!, keys[299]!, suite.digest(Uint8Array.of(7))]) {
      expect(await runMapReadAsync(mapProve(nodes.suite, root3, k), nodes)).toEqual(map.prove(root3, k));
    }
    for (const k of [keys[150]!, keys[39]!]) {
      const path = await nodes.fetchPath(root3, k);
      // Root first, then each node the child its parent names at the key's bit, down to the key's leaf.
      expect(Buffer.from(path[0]!.hash).equals(Buffer.from(root3))).toBe(true);
      for (let i = 1; i < path.length; i++) {
        const parent = path[i - 1]!.node;
        if (parent.type !== 'branch') throw new Error('a leaf above the end of a path');
        const side = (k[parent.bit >>> 3]! >>> (7 - (parent.bit & 7))) & 1;
        expect(Buffer.from(path[i]!.hash).equals(Buffer.from(side === 0 ? parent.left : parent.right))).toBe(true);
      }
      expect(path.at(-1)!.node).toMatchObject({ type: 'leaf', key: k });
    }
    // Without its locator a located inner node is not found; with it, it is.
    const inner = map.store.getNode(root3);
    if (inner?.type !== 'branch') throw new Error('root3 must be a branch');
    const child = await nodes.getNodesAt([inner.left, inner.right], [undefined, undefined]);
    const childAt = await nodes.getNodesAt([inner.left, inner.right], [map.store.atOf(inner.left)!, map.store.atOf(inner.right)!]);
    expect(childAt.every((c) => c !== undefined)).toBe(true);
    expect(child.filter((c) => c !== undefined).length).toBe([inner.left, inner.right].filter((h) => map.store.atOf(h) === 0).length);
    // A reload keeps every node's locator.
    const mem = new MemoryMapStore();
    const trie = await nodes.fetchTrie(root3);
    expect((await loadMapIntoMemory(nodes, suite, mem, root3)).nodes).toBe(trie.size);
    for (const [h] of trie) {
      const hash = Uint8Array.from(Buffer.from(h, 'latin1'));
      expect(mem.atOf(hash)).toBe(map.store.atOf(hash));
    }
  });

  it('008 leaves the blocks of a schema at version 7 where they are: read by getAt and scan before the chunks written after it', async () => {
    const config = storeConfig({ schema: 'ms_m8' });
    expect(await migrate(db.pool, config, MIGRATIONS.slice(0, 7))).toEqual({ applied: [1, 2, 3, 4, 5, 6, 7], version: 7 });
    const blocks = new PgBlockStore(db.pool, config);
    const k = (i: number): Uint8Array => Uint8Array.from({ length: 32 }, (_, j) => (i * 31 + j * 7) & 0xff);
    const b = (i: number, logIndex: number) => ({ source: 'pg', table: 'public.t', mapKey: k(i), op: 1 as const, rowVersion: 5n, leafCommitment: new Uint8Array(32).fill(i), block: Uint8Array.of(i, i), logIndex });
    await blocks.put([b(1, 0), b(2, 1)], 3);
    expect(await migrate(db.pool, config)).toEqual({ applied: [8], version: 8 });
    await blocks.put([b(2, 2), b(3, 3)], 9, db.pool, { at: 9, logEnd: 4 });
    expect((await blocks.getAt('pg', 'public.t', k(1), 3))?.logIndex).toBe(0); // a leaf from before: its row
    expect((await blocks.getAt('pg', 'public.t', k(2), 3))?.logIndex).toBe(1); // the row; the version at leaf 3
    expect((await blocks.getAt('pg', 'public.t', k(2), 9))?.logIndex).toBe(2); // the chunk of group 9
    const first = await blocks.scan('pg', 'public.t', { fromLogIndex: 1 });
    const second = await blocks.scan('pg', 'public.t', { fromLogIndex: 1, after: first.next });
    expect([...first.blocks, ...second.blocks].map((x) => x.logIndex)).toEqual([1, 2, 3]);
    expect(second.next).toBeUndefined();
  });

  it('validates the schema name', () => {
    expect(() => storeConfig({ schema: 'Bad"; DROP' })).toThrow(StoreError);
    expect(storeConfig().schema).toBe('merklesync');
  });
});
