// Measures the store's hot paths against the real Postgres: node -- libs/store/test/perf/measure.ts [keys]
// Not a test (no assertions); prints the figures quoted in libs/store/README.md.
import { MemoryMapStore, SparseMerkleMap, mapProve, runMapReadAsync } from '@merklesync/merkle';
import { CachedMapNodeSource, PgMapNodeStore, encodeMapNode, loadMapIntoMemory, migrate, storeConfig } from '../../src/index.ts';
import { createTestDb, rng } from '@merklesync/testkit';

const keys = Number(process.argv[2] ?? 100_000);
const db = await createTestDb();
const config = storeConfig({ schema: 'ms_perf' });
const t = '"ms_perf"."map_nodes"';
const now = (): number => performance.now();
const ms = (a: number): string => `${(now() - a).toFixed(0)} ms`;
try {
  await migrate(db.pool, config);
  const rand = rng(1);
  const map = new SparseMerkleMap();
  const ops = Array.from({ length: keys }, () => ({ key: rand(32), value: rand(32) }));
  let root = map.emptyRoot;
  for (let i = 0; i < ops.length; i += 10_000) root = map.update(root, ops.slice(i, i + 10_000));
  const nodes = map.store.newNodesSince({ branches: 0, leaves: 0, epoch: 0 }, [root]);
  console.log(`map: ${keys} keys, ${nodes.length} nodes reachable from the root`);

  const truncate = (): Promise<unknown> => db.pool.query(`TRUNCATE ${t}`);
  const rate = (n: number, start: number): string => `${Math.round(n / ((now() - start) / 1000)).toLocaleString('en')} rows/s`;

  for (const chunk of [1000, 5000, 20_000]) {
    await truncate();
    const store = new PgMapNodeStore(db.pool, config, 'sha256', { insertChunk: chunk, copyThreshold: Infinity });
    const s = now();
    await store.putNodes(nodes);
    console.log(`putNodes unnest, ${chunk} rows/statement: ${rate(nodes.length, s)}`);
  }
  {
    await truncate();
    const s = now();
    const rows = nodes.map((n) => [Buffer.from(n.hash), Buffer.from(encodeMapNode(n.node))] as const);
    for (let i = 0; i < rows.length; i += 1000) {
      const part = rows.slice(i, i + 1000);
      const vals = part.map((_, j) => `(0, $${2 * j + 1}, $${2 * j + 2})`).join(',');
      await db.pool.query(`INSERT INTO ${t} (suite, hash, node) VALUES ${vals} ON CONFLICT DO NOTHING`, part.flat());
    }
    console.log(`putNodes multi-row VALUES, 1000 rows/statement: ${rate(nodes.length, s)}`);
  }
  for (const chunk of [5000, 20_000, 200_000]) {
    await truncate();
    const store = new PgMapNodeStore(db.pool, config, 'sha256', { copyThreshold: 1 });
    const s = now();
    for (let i = 0; i < nodes.length; i += chunk) await store.putNodes(nodes.slice(i, i + chunk));
    console.log(`putNodes binary COPY + INSERT … SELECT ON CONFLICT, ${chunk} nodes/call: ${rate(nodes.length, s)}`);
  }
  {
    const store = new PgMapNodeStore(db.pool, config, 'sha256');
    const s = now();
    await store.putNodes(nodes);
    console.log(`putNodes again (all conflicts): ${rate(nodes.length, s)}`);
  }
  const store = new PgMapNodeStore(db.pool, config, 'sha256');
  await db.pool.query(`VACUUM ANALYZE ${t}`);
  {
    const lat: number[] = [];
    for (let i = 0; i < 200; i++) {
      const s = now();
      await store.getNodes([nodes[(i * 7919) % nodes.length]!.hash]);
      lat.push(now() - s);
    }
    lat.sort((a, b) => a - b);
    console.log(`getNodes 1 hash: p50 ${lat[100]!.toFixed(2)} ms, p99 ${lat[198]!.toFixed(2)} ms`);
    const s = now();
    await store.getNodes(nodes.slice(0, 1000).map((n) => n.hash));
    console.log(`getNodes 1000 hashes: ${ms(s)}`);
  }
  {
    const s = now();
    for (let i = 0; i < 200; i++) await runMapReadAsync(mapProve(map.suite, root, ops[i]!.key), store);
    console.log(`proof from Postgres (uncached, ~${Math.round(Math.log2(keys)) + 2} round trips): ${((now() - s) / 200).toFixed(2)} ms each`);
    const cache = new CachedMapNodeSource(store, { maxEntries: 1_000_000, maxBytes: 512 << 20 });
    for (let i = 0; i < 200; i++) await runMapReadAsync(mapProve(map.suite, root, ops[i]!.key), cache);
    const c = now();
    for (let i = 0; i < 200; i++) await runMapReadAsync(mapProve(map.suite, root, ops[i]!.key), cache);
    console.log(`proof through a warm cache: ${((now() - c) / 200).toFixed(3)} ms each`);
  }
  {
    const s = now();
    const target = new MemoryMapStore();
    const r = await loadMapIntoMemory(store, map.suite, target, root);
    console.log(`loadMapIntoMemory (recursive CTE, verify): ${ms(s)} for ${r.nodes} nodes in ${r.rounds} round trip`);
    const s2 = now();
    await loadMapIntoMemory(store, map.suite, new MemoryMapStore(), root, { verify: false });
    console.log(`loadMapIntoMemory (recursive CTE, no verify): ${ms(s2)}`);
    const s3 = now();
    const r3 = await loadMapIntoMemory(store, map.suite, new MemoryMapStore(), root, { breadthFirst: true });
    console.log(`loadMapIntoMemory (breadth-first batches, verify): ${ms(s3)} in ${r3.rounds} round trips`);
  }
  {
    const s = now();
    const res = await db.pool.query(
      `WITH RECURSIVE t(hash, node) AS (
         SELECT hash, node FROM ${t} WHERE suite = 0 AND hash = $1
         UNION ALL
         SELECT c.hash, c.node FROM t
           CROSS JOIN LATERAL (VALUES (substring(t.node from 3 for 32)), (substring(t.node from 35 for 32))) AS k(h)
           JOIN ${t} c ON c.suite = 0 AND c.hash = k.h
         WHERE get_byte(t.node, 0) = 1)
       SELECT hash, node FROM t`,
      [Buffer.from(root)],
    );
    console.log(`recursive CTE fetch of the same trie (one round trip, no import): ${ms(s)} for ${res.rowCount} rows`);
  }
} finally {
  await db.drop();
}

