import {
  MemoryMapStore,
  SparseMerkleMap,
  mapDiff,
  mapProve,
  mapProveMulti,
  runMapReadAsync,
  toHex,
  verifyMembership,
  verifyNonMembership,
  type MapEntry,
  type MapNode,
  type MapStoreMark,
} from '@merklesync/merkle';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CachedMapNodeSource, MapNodeRows, chunkNodes, PgMapNodeStore, StoreErrorCode, inTransaction, loadMapIntoMemory, migrate, storeConfig } from '../src/index.ts';
import { createTestDb, rng, type TestDb } from '@merklesync/testkit';

let db: TestDb;
const config = storeConfig({ schema: 'ms_map' });
let nodes: PgMapNodeStore;
const rand = rng(42);
const map = new SparseMerkleMap();
const entries: MapEntry[] = Array.from({ length: 2000 }, (_, i) => ({ key: rand(32), value: rand(i % 7 === 0 ? 0 : 8 + (i % 50)) }));
let root1: Uint8Array;
let root2: Uint8Array;

beforeAll(async () => {
  db = await createTestDb();
  await migrate(db.pool, config);
  nodes = new PgMapNodeStore(db.pool, config, 'sha256', { insertChunk: 700 });
  // Two versions persisted incrementally, exactly as the merkle service does: each group's new nodes under its
  // locator (by COPY, then by unnest: 2,000+ and fewer rows), branches naming their children's, the roots recorded.
  let mark = map.store.mark();
  root1 = map.update(map.emptyRoot, entries.slice(0, 1500));
  await nodes.putNodes(_group(mark, root1, 5));
  mark = map.store.mark();
  root2 = map.update(root1, [...entries.slice(1500), { key: entries[0]!.key, value: null }, { key: entries[1]!.key, value: Uint8Array.of(9) }]);
  await nodes.putNodes(_group(mark, root2, 8));
});

function _group(mark: MapStoreMark, root: Uint8Array, at: number): MapNodeRows {
  const rows = new MapNodeRows('sha256', 256, at);
  map.store.visitNewNodesSince(mark, [root], rows, at);
  rows.root(root, map.store.atOf(root)!);
  return rows;
}
afterAll(async () => {
  await db?.drop();
});

describe('PgMapNodeStore', () => {
  it('round-trips nodes and skips already-stored ones', async () => {
    const fresh = new SparseMerkleMap();
    const r = fresh.update(fresh.emptyRoot, entries.slice(0, 10));
    const all = fresh.store.newNodesSince({ branches: 0, leaves: 0, epoch: 0 }, [r]);
    const got = await nodes.getNodes([...all.map((n) => n.hash), rand(32)]);
    expect(got.at(-1)).toBeUndefined();
    // Only the path nodes new to this small map are absent from the store; re-putting inserts nothing twice.
    const first = await nodes.putNodes(all);
    expect(await nodes.putNodes(all)).toBe(0);
    expect(first).toBeLessThanOrEqual(all.length);
    const back = await nodes.getNodes(all.map((n) => n.hash));
    back.forEach((n, i) => expect(n).toEqual(_located(all[i]!.node)));
  });

  it('writes the same rows by COPY and by unnest, inside and outside a transaction', async () => {
    const fresh = new SparseMerkleMap();
    const r = fresh.update(fresh.emptyRoot, Array.from({ length: 300 }, () => ({ key: rand(32), value: rand(5) })));
    const all = fresh.store.newNodesSince({ branches: 0, leaves: 0, epoch: 0 }, [r]);
    const byCopy = new PgMapNodeStore(db.pool, config, 'sha256', { copyThreshold: 1 });
    const byUnnest = new PgMapNodeStore(db.pool, config, 'sha256', { copyThreshold: Infinity });
    expect(await byCopy.putNodes(all.slice(0, 200))).toBe(200);
    expect(await byUnnest.putNodes(all.slice(0, 300))).toBe(100);
    await inTransaction(db.pool, async (tx) => {
      expect(await byCopy.putNodes(all, tx)).toBe(all.length - 300);
      expect(await byCopy.putNodes(all, tx)).toBe(0);
    });
    const back = await byCopy.getNodes(all.map((n) => n.hash));
    back.forEach((n, i) => expect(n).toEqual(_located(all[i]!.node)));
    // Outside a transaction too, a direct COPY that meets stored nodes falls back to the deduplicating path.
    expect(await new PgMapNodeStore(db.pool, config, 'sha256', { copyThreshold: 1 }).putNodes(all)).toBe(0);
    // A failed transaction keeps none of its COPY.
    const more = fresh.update(r, [{ key: rand(32), value: rand(5) }]);
    const extra = fresh.store.newNodesSince({ branches: 0, leaves: 0, epoch: 0 }, [more]);
    await expect(
      inTransaction(db.pool, async (tx) => {
        await byCopy.putNodes(extra, tx);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await byCopy.getNodes([more]))[0]).toBeUndefined();
  });

  it('proves from Postgres exactly as in memory, for both versions, and the proofs verify', async () => {
    for (const root of [root1, root2]) {
      for (const e of [...entries.slice(0, 40), { key: rand(32), value: null }]) {
        const fromPg = await runMapReadAsync(mapProve(map.suite, root, e.key), nodes);
        expect(fromPg).toEqual(map.prove(root, e.key));
        if (fromPg.kind === 'map-membership') expect(verifyMembership(map.suite, root, e.key, fromPg.value, fromPg.proof)).toBe(true);
        else expect(verifyNonMembership(map.suite, root, e.key, fromPg.proof)).toBe(true);
      }
    }
    const keys = entries.slice(100, 130).map((e) => e.key);
    expect(await runMapReadAsync(mapProveMulti(map.suite, root2, keys), nodes)).toEqual(map.proveMulti(root2, keys));
    expect(await runMapReadAsync(mapDiff(map.suite, root1, root2), nodes)).toEqual(map.diff(root1, root2));
  });

  it('serves proofs through the LRU cache with hits, bounded size and shared in-flight fetches', async () => {
    const cache = new CachedMapNodeSource(nodes, { maxEntries: 50 });
    const k = entries[5]!.key;
    const a = await runMapReadAsync(mapProve(map.suite, root2, k), cache);
    const misses = cache.stats.misses;
    const b = await runMapReadAsync(mapProve(map.suite, root2, k), cache);
    expect(b).toEqual(a);
    expect(cache.stats.misses).toBe(misses);
    await Promise.all(entries.slice(0, 30).map((e) => runMapReadAsync(mapProve(map.suite, root2, e.key), cache)));
    expect(cache.stats.entries).toBeLessThanOrEqual(50);
    const byBytes = new CachedMapNodeSource(nodes, { maxBytes: 2000 });
    await runMapReadAsync(mapProve(map.suite, root2, k), byBytes);
    expect(byBytes.stats.bytes).toBeLessThanOrEqual(2000);
  });

  it('fetchPath reads exactly the nodes a single-key proof walks, in one query; a prefetched cache then proves without the database', async () => {
    const present = entries.slice(2, 12).map((e) => e.key);
    const absent = [entries[0]!.key, rand(32), rand(32)]; // deleted in root2, never present
    for (const [root, key] of [...present, ...absent].map((k) => [root2, k] as const).concat([[root1, entries[0]!.key]])) {
      // The walk's own reads, counted on a plain source.
      const asked: string[] = [];
      const counting = {
        getNodes: () => Promise.reject(new Error('unlocated read')),
        getNodesAt: async (hs: readonly Uint8Array[], ats: readonly (number | undefined)[]) => (asked.push(...hs.map(toHex)), nodes.getNodesAt(hs, ats)),
      };
      const want = await runMapReadAsync(mapProve(map.suite, root, key), counting);
      const path = await nodes.fetchPath(root, key);
      expect(path.map((x) => toHex(x.hash))).toEqual(asked);
      expect(path.at(-1)!.node.type).toBe('leaf');
      // Prefetched: the proof is the same and the source is never asked again.
      const cache = new CachedMapNodeSource(nodes);
      await cache.prefetchPath(root, key);
      const misses = cache.stats.misses;
      expect(await runMapReadAsync(mapProve(map.suite, root, key), cache)).toEqual(want);
      expect(cache.stats.misses).toBe(misses);
    }
    // A path whose upper part is cached is completed from the first missing node; an unknown root reads nothing.
    const cache = new CachedMapNodeSource(nodes);
    await runMapReadAsync(mapProve(map.suite, root2, present[0]!), cache);
    await cache.prefetchPath(root2, present[1]!);
    const before = cache.stats.misses;
    await runMapReadAsync(mapProve(map.suite, root2, present[1]!), cache);
    expect(cache.stats.misses).toBe(before);
    expect(await nodes.fetchPath(rand(32), present[0]!)).toEqual([]);
    await expect(nodes.fetchPath(rand(31), present[0]!)).rejects.toThrow(RangeError);
  });

  it('stores each group under its locator: inner nodes are found only at it, roots also by hash alone', async () => {
    // (Locator 0: the nodes other tests here write as objects.)
    const at = await db.pool.query<{ at: string }>(`SELECT DISTINCT at::text FROM ms_map.map_node_chunks ORDER BY 1`);
    expect(at.rows.map((r) => r.at).filter((a) => a !== '0')).toEqual(['5', '8']);
    expect(await nodes.rootAt(root1)).toBe(5);
    expect(await nodes.rootAt(root2)).toBe(8);
    const top = (await nodes.getNodes([root2]))[0];
    if (top?.type !== 'branch') throw new Error('root2 must be a branch');
    expect([top.leftAt, top.rightAt].every((a) => a === 5 || a === 8)).toBe(true);
    expect(await nodes.getNodes([top.left, top.right])).toEqual([undefined, undefined]);
    const children = await nodes.getNodesAt([top.left, top.right], [top.leftAt, top.rightAt]);
    expect(children.map((c) => c?.type)).toEqual([map.store.getNode(top.left)!.type, map.store.getNode(top.right)!.type]);
    expect(await nodes.getNodesAt([top.left], [top.leftAt === 5 ? 8 : 5])).toEqual([undefined]);
    await expect(nodes.getNodesAt([top.left], [-1])).rejects.toThrow(RangeError);
    // The cache hands the locators on: a proof through it reads located nodes only.
    const cache = new CachedMapNodeSource({ getNodes: () => Promise.reject(new Error('unlocated read')), getNodesAt: (h, a) => nodes.getNodesAt(h, a) });
    await expect(runMapReadAsync(mapProve(map.suite, root2, entries[7]!.key), cache)).resolves.toEqual(map.prove(root2, entries[7]!.key));
  });

  it('loadMapIntoMemory reproduces the root, proofs and further updates', async () => {
    const store = new MemoryMapStore();
    const res = await loadMapIntoMemory(nodes, map.suite, store, root2);
    expect(res).toEqual({ nodes: 2 * 1999 - 1, rounds: 1 });
    const bfsStore = new MemoryMapStore();
    const bfs = await loadMapIntoMemory(nodes, map.suite, bfsStore, root2, { breadthFirst: true });
    expect(bfs.nodes).toBe(res.nodes);
    expect(bfs.rounds).toBeGreaterThan(5);
    expect(new SparseMerkleMap({ store: bfsStore }).prove(root2, entries[9]!.key)).toEqual(map.prove(root2, entries[9]!.key));
    const loaded = new SparseMerkleMap({ store });
    for (const e of entries.slice(2, 30)) expect(loaded.prove(root2, e.key)).toEqual(map.prove(root2, e.key));
    const more = entries.slice(0, 5).map((e) => ({ key: e.key, value: Uint8Array.of(1, 2) }));
    expect(toHex(loaded.update(root2, more))).toBe(toHex(map.update(root2, more)));
    expect(await loadMapIntoMemory(nodes, map.suite, new MemoryMapStore(), map.emptyRoot)).toEqual({ nodes: 0, rounds: 0 });
  });

  it('loadMapIntoMemory reports missing and corrupt nodes with typed errors', async () => {
    await expect(loadMapIntoMemory(nodes, map.suite, new MemoryMapStore(), rand(32))).rejects.toMatchObject({ code: StoreErrorCode.NotFound });
    await expect(loadMapIntoMemory(nodes, map.suite, new MemoryMapStore(), rand(32), { breadthFirst: true })).rejects.toMatchObject({
      code: StoreErrorCode.NotFound,
    });
    // The leaf of a live key (leaves are `0x00 ‖ key ‖ value`), its value altered inside its chunk.
    const { rows } = await db.pool.query<{ at: string; lo: Buffer; nodes: Buffer }>('SELECT at::text, lo, nodes FROM ms_map.map_node_chunks WHERE at > 0');
    const hits = rows.flatMap((r) =>
      chunkNodes(r.nodes)
        .filter((n) => n.node[0] === 0 && Buffer.from(n.node.subarray(1, 33)).equals(Buffer.from(entries[3]!.key)))
        .map((n) => ({ row: r, end: n.node.byteOffset - r.nodes.byteOffset + n.node.length })),
    );
    expect(hits).toHaveLength(1);
    const { row, end } = hits[0]!;
    const orig = Buffer.from(row.nodes);
    const bad = Buffer.from(orig);
    bad[end - 1] = (bad[end - 1]! + 1) & 0xff;
    await db.pool.query('UPDATE ms_map.map_node_chunks SET nodes = $3 WHERE at = $1 AND lo = $2', [row.at, row.lo, bad]);
    try {
      await expect(loadMapIntoMemory(nodes, map.suite, new MemoryMapStore(), root2)).rejects.toMatchObject({ code: StoreErrorCode.CorruptNode });
    } finally {
      await db.pool.query('UPDATE ms_map.map_node_chunks SET nodes = $3 WHERE at = $1 AND lo = $2', [row.at, row.lo, orig]);
    }
  });
});

/** A node as the store returns it: a branch names its children's locators (0: written without one). */
function _located(n: MapNode): MapNode {
  return n.type === 'leaf' ? n : { ...n, leftAt: n.leftAt ?? 0, rightAt: n.rightAt ?? 0 };
}
