// Blocks in chunks under their group's locator (README "Block chunks"): the encoding, and the store's writes, lookups
// by leaf locator and sync scans against the real Postgres.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BLOCK_CHUNK_BYTES,
  BlockOp,
  StoreError,
  StoreErrorCode,
  blockChunk,
  blockChunkFile,
  chunkBlock,
  chunkBlocks,
  createStore,
  storeConfig,
  type BlockInput,
  type BlockScanCursor,
  type BlockScanOptions,
  type MerkleStore,
  type StoredBlock,
} from '../src/index.ts';
import { createTestDb, rng, type TestDb } from '@merklesync/testkit';

const rand = rng(808);
const T = { source: 'pg', table: 'public.users' };
const U = { source: 'pg', table: 'public.orders' };

const live = (mapKey: Uint8Array, logIndex: number, t = T, size = 300, op: BlockOp = BlockOp.Insert): BlockInput => ({
  ...t,
  mapKey,
  op,
  rowVersion: BigInt(7000 + logIndex),
  leafCommitment: rand(32),
  block: rand(size),
  logIndex,
});
const tomb = (mapKey: Uint8Array, logIndex: number, t = T): BlockInput => ({ ...t, mapKey, op: BlockOp.Delete, rowVersion: BigInt(7000 + logIndex), leafCommitment: null, block: null, logIndex });
const hex = (b: Uint8Array | null | undefined): string | null => (b == null ? null : Buffer.from(b).toString('hex'));
const same = (got: StoredBlock | undefined, want: BlockInput, streamSeq: number): void => {
  expect(got).toBeDefined();
  expect({ ...got!, mapKey: hex(got!.mapKey), leafCommitment: hex(got!.leafCommitment), block: hex(got!.block) }).toEqual({
    source: want.source,
    table: want.table,
    mapKey: hex(want.mapKey),
    op: want.op,
    rowVersion: want.rowVersion,
    leafCommitment: hex(want.leafCommitment),
    block: hex(want.block),
    logIndex: want.logIndex,
    streamSeq: want.streamSeq ?? streamSeq,
    deleted: want.op === BlockOp.Delete,
  });
};

describe('block chunk encoding', () => {
  it('round-trips the latest change per key, in key order, with tombstones and row versions above 2^53', () => {
    const ks = Array.from({ length: 40 }, () => rand(32));
    const blocks = ks.map((k, i) => (i % 7 === 0 ? tomb(k, i) : { ...live(k, i, T, 1 + (i * 37) % 400), rowVersion: (1n << 62n) + BigInt(i) }));
    const newer = live(ks[3]!, 100);
    const chunk = blockChunk([...blocks, newer, { ...live(ks[3]!, 50), streamSeq: 2 }], 9);
    const listed = chunkBlocks(chunk, T.source, T.table);
    expect(listed.map((b) => hex(b.mapKey))).toEqual(ks.map((k) => hex(k)).sort());
    for (let i = 0; i < ks.length; i++) same(chunkBlock(chunk, ks[i]!, T.source, T.table), i === 3 ? newer : blocks[i]!, 9);
    expect(chunkBlock(chunk, rand(32), T.source, T.table)).toBeUndefined();
  });

  it('reports a chunk that does not decode as CORRUPT_BLOCK', () => {
    const chunk = blockChunk([live(rand(32), 1), live(rand(32), 2)], 1);
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof StoreError ? e.code : String(e);
      }
      return undefined;
    };
    expect(code(() => chunkBlocks(new Uint8Array([0, 0]), 's', 't'))).toBe(StoreErrorCode.CorruptBlock);
    expect(code(() => chunkBlocks(chunk.subarray(0, 50), 's', 't'))).toBe(StoreErrorCode.CorruptBlock);
    const badOp = Uint8Array.from(chunk);
    badOp[2 + 64 + 8] = 9; // first entry's op
    expect(code(() => chunkBlocks(badOp, 's', 't'))).toBe(StoreErrorCode.CorruptBlock);
    const badEnd = Uint8Array.from(chunk);
    badEnd[2 + 64 + 3] = 10; // first entry's end: shorter than an entry's fixed part
    expect(code(() => chunkBlocks(badEnd, 's', 't'))).toBe(StoreErrorCode.CorruptBlock);
  });

  it('packs a group into chunks of one table each, within the size limit unless one block is larger', () => {
    const blocks = [...Array.from({ length: 300 }, (_, i) => live(rand(32), i)), ...Array.from({ length: 50 }, (_, i) => live(rand(32), 300 + i, U)), live(rand(32), 400, U, 20_000)];
    const { chunks, entries, file } = blockChunkFile(blocks, 5, { at: 5, logEnd: 401 });
    expect(entries).toBe(351);
    // ≈ 336 bytes per users block: at least 14 chunks of users, 1 oversized, ≥ 1 more of orders.
    expect(chunks).toBeGreaterThanOrEqual(Math.ceil((300 * 336) / BLOCK_CHUNK_BYTES) + 2);
    expect(chunks).toBeLessThan(40);
    expect(file.length).toBeGreaterThan(300 * 336 + 50 * 336 + 20_000);
  });
});

describe('block chunks in the store', () => {
  let db: TestDb;
  let store: MerkleStore;

  beforeAll(async () => {
    db = await createTestDb();
    store = createStore(db.pool, storeConfig({ schema: 'ms_block_chunks' }));
    await store.migrate();
  });
  afterAll(async () => {
    await db?.drop();
  });

  async function scanAll(t: { source: string; table: string }, options: BlockScanOptions = {}): Promise<StoredBlock[]> {
    const out: StoredBlock[] = [];
    let after: BlockScanCursor | undefined;
    let pages = 0;
    do {
      const page = await store.blocks.scan(t.source, t.table, { ...options, after });
      out.push(...page.blocks);
      after = page.next;
      expect(++pages).toBeLessThan(10_000);
    } while (after !== undefined);
    return out;
  }

  const keys = Array.from({ length: 500 }, () => rand(32));
  // Before migration 008's layout: rows of the blocks table (log indexes 0..99, keys 0..99).
  const legacy = keys.slice(0, 100).map((k, i) => live(k, i));
  // Group at 10 (log 100..399): keys 100..399 inserted, key 5 updated, key 6 deleted; group at 14 (log 400..499 in
  // orders and users): keys 100..149 updated again, key 400..449 new in orders.
  const g10 = [...keys.slice(100, 400).map((k, i) => live(k, 100 + i)), live(keys[5]!, 398), tomb(keys[6]!, 399)];
  const g14 = [...keys.slice(100, 150).map((k, i) => live(k, 400 + i, T, 200, BlockOp.Update)), ...keys.slice(400, 450).map((k, i) => live(k, 450 + i, U))];

  it('are written by a group under its locator, found by the leaf locator, rows of the blocks table when there is none', async () => {
    await store.apply.applyBatch('chunks', 3, (w) => w.putBlocks(legacy));
    await store.apply.applyBatch('chunks', 10, async (w) => {
      expect(await w.putBlocks(g10, { at: 10, logEnd: 400 })).toBe(g10.length);
    });
    expect(await store.apply.applyBatch('chunks', 14, (w) => w.putBlocks(g14, { at: 14, logEnd: 500 }))).toMatchObject({ applied: true, result: 100 });
    // Nothing new in the blocks table; chunks of ≈ 20 blocks.
    const counts = (await db.pool.query<{ rows: string; chunks: string }>(
      `SELECT (SELECT count(*) FROM ms_block_chunks.blocks) AS rows, (SELECT count(*) FROM ms_block_chunks.block_chunks) AS chunks`,
    )).rows[0]!;
    expect(Number(counts.rows)).toBe(100);
    expect(Number(counts.chunks)).toBeGreaterThan(10);
    expect(Number(counts.chunks)).toBeLessThan(40);
    // Inline: nothing moved out of line.
    const toasted = await db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ms_block_chunks.block_chunks WHERE pg_column_size(blocks) < octet_length(blocks)`,
    );
    expect(Number(toasted.rows[0]!.n)).toBe(0);

    same(await store.blocks.getAt(T.source, T.table, keys[120]!, 14), g14[20]!, 14);
    same(await store.blocks.getAt(T.source, T.table, keys[120]!, 10), g10[20]!, 10); // the version at an older leaf
    same(await store.blocks.getAt(T.source, T.table, keys[5]!, 10), g10[300]!, 10);
    same(await store.blocks.getAt(T.source, T.table, keys[6]!, 10), g10[301]!, 10);
    same(await store.blocks.getAt(T.source, T.table, keys[7]!, 3), legacy[7]!, 3); // no chunk at 3: the blocks table
    same(await store.blocks.getAt(T.source, T.table, keys[7]!, 0), legacy[7]!, 3);
    expect(await store.blocks.getAt(T.source, T.table, keys[450]!, 14)).toBeUndefined();
    expect(await store.blocks.getAt(U.source, U.table, keys[120]!, 14)).toBeUndefined(); // another table's chunks
    same(await store.blocks.getAt(U.source, U.table, keys[420]!, 14), g14[70]!, 14);

    const many = await store.blocks.getManyAt(T.source, T.table, [keys[399]!, keys[100]!, keys[8]!, rand(32), keys[149]!], [10, 14, 0, 10, 14]);
    same(many[0], g10[299]!, 10);
    same(many[1], g14[0]!, 14);
    same(many[2], legacy[8]!, 3);
    expect(many[3]).toBeUndefined();
    same(many[4], g14[49]!, 14);
    await expect(store.blocks.getManyAt(T.source, T.table, [keys[0]!], [])).rejects.toThrow(RangeError);
    await expect(store.blocks.getAt(T.source, T.table, keys[0]!, -1)).rejects.toThrow(RangeError);
  });

  it('a group written again (after an ambiguous commit) writes nothing and changes nothing', async () => {
    const before = await db.pool.query(`SELECT at, lo, blocks FROM ms_block_chunks.block_chunks ORDER BY table_key, at, lo`);
    expect(await store.blocks.put(g14, 14, db.pool, { at: 14, logEnd: 500 })).toBe(0);
    await store.apply.applyBatch('other', 14, async (w) => {
      expect(await w.putBlocks(g14, { at: 14, logEnd: 500 })).toBe(0);
    });
    const after = await db.pool.query(`SELECT at, lo, blocks FROM ms_block_chunks.block_chunks ORDER BY table_key, at, lo`);
    expect(after.rows).toEqual(before.rows);
  });

  it('a retried group with fewer members under the same locator (its first messages committed alone) leaves every key found', async () => {
    // The retry holds a subset of the first attempt's keys with the same latest entries (README "Block chunks"): its
    // chunks start at other keys, and each of its keys is in every chunk a lookup can land on. (The keys it lost have
    // their leaves, and so their lookups, at the locator of the group that committed them.)
    const V = { source: 'pg', table: 'public.retried' };
    const first = Array.from({ length: 200 }, (_, i) => live(rand(32), 1000 + i, V));
    await store.blocks.put(first, 30, db.pool, { at: 30, logEnd: 1200 });
    const retry = first.filter((_, i) => i % 3 !== 0);
    expect(await store.blocks.put(retry, 30, db.pool, { at: 30, logEnd: 1200 })).toBeGreaterThan(0);
    const got = await store.blocks.getManyAt(V.source, V.table, retry.map((b) => b.mapKey), retry.map(() => 30));
    got.forEach((g, i) => same(g, retry[i]!, 30));
    for (const b of retry.slice(0, 40)) same(await store.blocks.getAt(V.source, V.table, b.mapKey, 30), b, 30);
  });

  it('rejects a bad group and blocks at or past its log end, writing nothing', async () => {
    await expect(store.blocks.put([live(rand(32), 600)], 20, db.pool, { at: 0, logEnd: 700 })).rejects.toThrow(RangeError);
    await expect(store.blocks.put([live(rand(32), 600)], 20, db.pool, { at: 20, logEnd: 600 })).rejects.toThrow(/not below group.logEnd/);
    expect(Number((await db.pool.query(`SELECT count(*) AS n FROM ms_block_chunks.block_chunks WHERE at = 20`)).rows[0].n)).toBe(0);
  });

  it('scans the blocks table, then every group after the log index, page by page, with tombstones and bounds', async () => {
    const all = await scanAll(T, { limit: 7 });
    // 100 rows, the 302 entries of group 10, the 50 users entries of group 14.
    expect(all).toHaveLength(100 + 302 + 50);
    expect(all.slice(0, 100).map((b) => b.logIndex)).toEqual(legacy.map((b) => b.logIndex));
    expect(all.slice(100, 402).map((b) => hex(b.mapKey)).sort()).toEqual(g10.map((b) => hex(b.mapKey)).sort());
    expect(all.slice(402).map((b) => b.logIndex).sort((a, b) => a - b)).toEqual(g14.slice(0, 50).map((b) => b.logIndex));
    // After the checkpoint at log size 400: only group 14.
    const since = await scanAll(T, { fromLogIndex: 400, limit: 1000 });
    expect(since.map((b) => b.logIndex).sort((a, b) => a - b)).toEqual(g14.slice(0, 50).map((b) => b.logIndex));
    const orders = await scanAll(U, { fromLogIndex: 400 });
    expect(orders).toHaveLength(50);
    // Bounded and without tombstones: group 10 only, less key 6's tombstone.
    const g10Live = await scanAll(T, { fromLogIndex: 100, toLogIndex: 400, includeDeleted: false, limit: 10_000 });
    expect(g10Live).toHaveLength(301);
    expect(g10Live.some((b) => b.deleted)).toBe(false);
    await expect(store.blocks.scan(T.source, T.table, { fromLogIndex: 400, after: { phase: 'rows', fromLogIndex: 3 } })).rejects.toThrow(RangeError);
  });

  it('ends a page of chunks with the chunk that brings it to the limit', async () => {
    // Group 10's 302 users entries, ≈ 22 per chunk: pages of 100 read 7 chunks, and keep only up to the 5th.
    const sizes: number[] = [];
    let after: BlockScanCursor | undefined = { phase: 'chunks', logEnd: 100, lo: new Uint8Array(0) };
    do {
      const page = await store.blocks.scan(T.source, T.table, { fromLogIndex: 100, toLogIndex: 400, limit: 100, after });
      sizes.push(page.blocks.length);
      after = page.next;
    } while (after !== undefined);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(302);
    for (const n of sizes.slice(0, -1)) {
      expect(n).toBeGreaterThanOrEqual(100);
      expect(n).toBeLessThan(100 + Math.ceil(BLOCK_CHUNK_BYTES / 336));
    }
  });
});
