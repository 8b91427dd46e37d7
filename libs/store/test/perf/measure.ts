// Measures the store's hot paths against the real Postgres: node -- libs/store/test/perf/measure.ts [keys]
// Not a test (no assertions); prints the figures quoted in libs/store/README.md.
import { MemoryMapStore, SparseMerkleMap, mapProve, runMapReadAsync } from '@merklesync/merkle';
import { CachedMapNodeSource, MapNodeRows, PgMapNodeStore, loadMapIntoMemory, migrate, storeConfig } from '../../src/index.ts';
import { createTestDb, rng } from '@merklesync/testkit';

const keys = Number(process.argv[2] ?? 100_000);
const db = await createTestDb();
const config = storeConfig({ schema: 'ms_perf' });
const t = '"ms_perf"."map_node_chunks"';
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
    // Nodes written without a locator (above) are a chunk each; a group written under a locator is chunked.
    for (const [what, located] of [
      ['a chunk per node (locator 0)', false],
      ['chunked (locator 1)', true],
    ] as const) {
      if (located) {
        await truncate();
        const rows = new MapNodeRows('sha256', nodes.length, 1);
        map.store.visitNewNodesSince({ branches: 0, leaves: 0, epoch: 0 }, [root], rows, 1);
        rows.root(root, 1);
        const p = now();
        await store.putNodes(rows);
        console.log(`putNodes of one group's rows, chunked under locator 1: ${rate(nodes.length, p)} (${(await db.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${t}`)).rows[0]!.n} chunk rows)`);
        await db.pool.query(`VACUUM ANALYZE ${t}`);
      }
      const s = now();
      const r = await loadMapIntoMemory(store, map.suite, new MemoryMapStore(), root);
      console.log(`loadMapIntoMemory, ${what} (fetchTrie, verify): ${ms(s)} for ${r.nodes} nodes`);
      const s2 = now();
      await loadMapIntoMemory(store, map.suite, new MemoryMapStore(), root, { verify: false });
      console.log(`loadMapIntoMemory, ${what} (fetchTrie, no verify): ${ms(s2)}`);
    }
  }
} finally {
  await db.drop();
}

