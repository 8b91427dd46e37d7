import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockOp, StoreErrorCode, blockTableKey, createStore, storeConfig, type BlockInput, type BlockPage, type BlockScanCursor, type BlockScanOptions, type MerkleStore, type StoredBlock } from '../src/index.ts';
import { createTestDb, rng, type TestDb } from '@merklesync/testkit';

let db: TestDb;
let store: MerkleStore;
const rand = rng(23);
const T = { source: 'pg', table: 'public.users' };

beforeAll(async () => {
  db = await createTestDb();
  store = createStore(db.pool, storeConfig({ schema: 'ms_blocks' }));
  await store.migrate();
});
afterAll(async () => {
  await db?.drop();
});

const live = (mapKey: Uint8Array, logIndex: number, op: BlockOp = BlockOp.Insert, t = T): BlockInput => ({
  ...t,
  mapKey,
  op,
  rowVersion: BigInt(1000 + logIndex),
  leafCommitment: rand(32),
  block: rand(60),
  logIndex,
});
/** Every page of a scan. */
async function scanAll(t: { source: string; table: string }, options: BlockScanOptions = {}): Promise<StoredBlock[]> {
  const out: StoredBlock[] = [];
  let after: BlockScanCursor | undefined;
  do {
    const page = await store.blocks.scan(t.source, t.table, { ...options, after });
    out.push(...page.blocks);
    after = page.next;
  } while (after !== undefined);
  return out;
}
const tomb = (mapKey: Uint8Array, logIndex: number): BlockInput => ({ ...T, mapKey, op: BlockOp.Delete, rowVersion: BigInt(1000 + logIndex), leafCommitment: null, block: null, logIndex });

describe('blocks', () => {
  const keys = Array.from({ length: 30 }, () => rand(32));

  it('are written in applyBatch with the stream sequence, read back by key, latest wins, deletes leave tombstones', async () => {
    const first = keys.map((k, i) => live(k, i));
    await store.apply.applyBatch('blocks', 1, async (w) => {
      expect(await w.putBlocks(first)).toBe(30);
    });
    const got = await store.blocks.get(T.source, T.table, keys[3]!);
    expect(got).toMatchObject({ ...T, op: BlockOp.Insert, rowVersion: 1003n, logIndex: 3, streamSeq: 1, deleted: false });
    expect(Buffer.from(got!.block!).equals(Buffer.from(first[3]!.block!))).toBe(true);
    expect(Buffer.from(got!.leafCommitment!).equals(Buffer.from(first[3]!.leafCommitment!))).toBe(true);

    // Batch 2: key 0 updated twice in one call (highest log index wins), key 1 deleted, a new key.
    const fresh = rand(32);
    const upd = live(keys[0]!, 31, BlockOp.Update);
    await store.apply.applyBatch('blocks', 2, (w) => w.putBlocks([live(keys[0]!, 30, BlockOp.Update), upd, tomb(keys[1]!, 32), live(fresh, 33)]));
    const [b0, b1, bNew, none] = await store.blocks.getMany(T.source, T.table, [keys[0]!, keys[1]!, fresh, rand(32)]);
    expect(b0).toMatchObject({ op: BlockOp.Update, logIndex: 31, streamSeq: 2 });
    expect(Buffer.from(b0!.block!).equals(Buffer.from(upd.block!))).toBe(true);
    expect(b1).toMatchObject({ op: BlockOp.Delete, deleted: true, block: null, leafCommitment: null, logIndex: 32 });
    expect(bNew).toMatchObject({ logIndex: 33 });
    expect(none).toBeUndefined();

    // A replayed older write never rolls a row back.
    await store.blocks.put([live(keys[0]!, 5)], 1);
    expect((await store.blocks.get(T.source, T.table, keys[0]!))!.logIndex).toBe(31);
  });

  it('a failing batch writes no blocks', async () => {
    const k = rand(32);
    await expect(
      store.apply.applyBatch('blocks', 3, async (w) => {
        await w.putBlocks([live(k, 40)]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.blocks.get(T.source, T.table, k)).toBeUndefined();
  });

  it('scan pages through one table in log order from a log index, with tombstones', async () => {
    await store.blocks.put([live(rand(32), 50, BlockOp.Insert, { source: 'pg', table: 'public.other' })], 4);
    const seen: number[] = [];
    let after: BlockScanCursor | undefined;
    do {
      const page: BlockPage = await store.blocks.scan(T.source, T.table, { fromLogIndex: 10, limit: 7, after });
      seen.push(...page.blocks.map((b) => b.logIndex));
      after = page.next;
    } while (after !== undefined);
    // Keys 10..29 (log indices 10..29), key 0 now at 31, key 1's tombstone at 32, the new key at 33.
    expect(seen).toEqual([...Array.from({ length: 20 }, (_, i) => 10 + i), 31, 32, 33]);
    const bounded = await scanAll(T, { fromLogIndex: 30, toLogIndex: 33, includeDeleted: false });
    expect(bounded.map((b) => b.logIndex)).toEqual([31]);
    expect(await scanAll({ source: 'pg', table: 'public.other' })).toHaveLength(1);
  });

  it('large batches go through binary COPY with the same results (tombstones, big row versions, latest wins)', async () => {
    const T2 = { source: 'pg', table: 'public.bulk' };
    const ks = Array.from({ length: 400 }, () => rand(32));
    const rows: BlockInput[] = ks.map((k, i) =>
      i % 10 === 0
        ? { ...T2, mapKey: k, op: BlockOp.Delete, rowVersion: (1n << 62n) + BigInt(i), leafCommitment: null, block: null, logIndex: 1000 + i }
        : { ...live(k, 1000 + i, BlockOp.Snapshot, T2), rowVersion: (1n << 62n) + BigInt(i) },
    );
    await store.apply.applyBatch('blocks', 10, async (w) => {
      expect(await w.putBlocks([...rows, { ...rows[1]!, logIndex: 999 }])).toBe(400);
    });
    const got = await store.blocks.getMany(T2.source, T2.table, ks);
    got.forEach((b, i) => {
      expect(b).toMatchObject({ logIndex: 1000 + i, rowVersion: (1n << 62n) + BigInt(i), streamSeq: 10, deleted: i % 10 === 0 });
      if (i % 10 !== 0) expect(Buffer.from(b!.block!).equals(Buffer.from(rows[i]!.block!))).toBe(true);
    });
    // A second large batch over the same keys: only newer log indices replace rows.
    await store.apply.applyBatch('blocks', 11, (w) => w.putBlocks(rows.map((r, i) => ({ ...r, logIndex: i < 200 ? 2000 + i : 10 + i }))));
    const after = await store.blocks.getMany(T2.source, T2.table, ks);
    expect(after.map((b) => b!.logIndex)).toEqual(ks.map((_, i) => (i < 200 ? 2000 + i : 1000 + i)));
  });

  it('COPY files over 1 MiB go as several CopyData messages, and files built one after the other in reused memory stay intact', async () => {
    const T3 = { source: 'pg', table: 'public.wide' };
    // 3 × 3,000 blocks of 500 B: each COPY file ≈ 1.8 MiB (two messages). The first two are new keys (direct COPY),
    // the third updates the first's (staging path); each file is built in the memory the one before gave back.
    const batch = (from: number): BlockInput[] =>
      Array.from({ length: 3000 }, (_, i) => ({ ...live(rand(32), from + i, BlockOp.Insert, T3), block: rand(500) }));
    const a = batch(10_000);
    const b = batch(20_000);
    await store.apply.applyBatch('blocks-wide', 1, (w) => w.putBlocks(a));
    await store.apply.applyBatch('blocks-wide', 2, (w) => w.putBlocks(b));
    const c = a.map((r, i) => ({ ...r, op: BlockOp.Update, block: rand(500), logIndex: 30_000 + i }));
    await store.apply.applyBatch('blocks-wide', 3, (w) => w.putBlocks(c));
    for (const [rows, seq] of [
      [c, 3],
      [b, 2],
    ] as const) {
      const got = await store.blocks.getMany(T3.source, T3.table, rows.map((r) => r.mapKey));
      got.forEach((g, i) => {
        expect(g).toMatchObject({ logIndex: rows[i]!.logIndex, streamSeq: seq });
        expect(Buffer.from(g!.block!).equals(Buffer.from(rows[i]!.block!))).toBe(true);
      });
    }
  });

  it('the COPY path stages each put on its own: twice in one transaction, and on a client outside any transaction', async () => {
    const T3 = { source: 'pg', table: 'public.staged' };
    const ks = Array.from({ length: 300 }, () => rand(32));
    const first = ks.map((k, i) => live(k, 100 + i, BlockOp.Insert, T3));
    // Same keys again, newer: each put upserts what it staged, the second replacing every row of the first.
    const second = ks.map((k, i) => live(k, 500 + i, BlockOp.Update, T3));
    await store.apply.applyBatch('staged', 20, async (w) => {
      expect(await w.putBlocks(first)).toBe(300);
      expect(await w.putBlocks(second)).toBe(300);
    });
    expect((await store.blocks.getMany(T3.source, T3.table, ks)).map((b) => b!.logIndex)).toEqual(ks.map((_, i) => 500 + i));
    const c = await db.pool.connect();
    const staged = async (): Promise<number> => Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM _ms_blocks_staged')).rows[0]!.n);
    try {
      // Inside the caller's transaction, a put leaves nothing staged for the next one.
      await c.query('BEGIN');
      expect(await store.blocks.put(ks.map((k, i) => live(k, 700 + i, BlockOp.Update, T3)), 21, c)).toBe(300);
      expect(await staged()).toBe(0);
      await c.query('COMMIT');
      // A client not in a transaction: the staging transaction is opened and committed by the put.
      const third = ks.map((k, i) => live(k, 900 + i, BlockOp.Update, T3));
      expect(await store.blocks.put(third, 22, c)).toBe(300);
      expect(c.getTransactionStatus()).toBe('I');
      expect(await store.blocks.put(third, 22, c)).toBe(0);
      expect(await staged()).toBe(0);
    } finally {
      c.release();
    }
    expect((await store.blocks.getMany(T3.source, T3.table, ks)).map((b) => b!.logIndex)).toEqual(ks.map((_, i) => 900 + i));
  });

  it('new keys are copied straight into the table; an insert over a tombstone makes that put stage and upsert instead, atomically', async () => {
    const T4 = { source: 'pg', table: 'public.direct' };
    const c = new pg.Client({ connectionString: db.url }); // a new session: no staging table from earlier tests
    await c.connect();
    // A store of its own: earlier tests' conflicts made the shared one skip the direct COPY for a while (by design).
    const own = createStore(db.pool, storeConfig({ schema: 'ms_blocks' }));
    const stagingExists = async (): Promise<boolean> => (await c.query<{ t: string | null }>(`SELECT to_regclass('pg_temp._ms_blocks_staged')::text AS t`)).rows[0]!.t !== null;
    // Rows `put` wrote into the staging table, counted inside one transaction of the caller's (the statistics view
    // may also hold earlier transactions' counts not yet reported, which do not change while a transaction runs).
    const stagedBy = async (put: () => Promise<number>): Promise<{ written: number; staged: number }> => {
      const count = async (): Promise<number> =>
        Number((await c.query<{ n: string | null }>(`SELECT sum(n_tup_ins) AS n FROM pg_stat_xact_all_tables WHERE relname = '_ms_blocks_staged'`)).rows[0]!.n ?? 0);
      await c.query('BEGIN');
      const before = await count();
      const written = await put();
      const staged = (await count()) - before;
      expect(c.getTransactionStatus()).toBe('T'); // the caller's transaction stays the caller's
      await c.query('COMMIT');
      return { written, staged };
    };
    const inserts = (n: number, from: number): BlockInput[] => Array.from({ length: n }, (_, i) => live(rand(32), from + i, BlockOp.Insert, T4));
    try {
      // Inserts and snapshot rows of unseen keys, on a fresh session outside any transaction: no staging table is created.
      const first = Array.from({ length: 250 }, (_, i) => live(rand(32), 3000 + i, i % 2 === 0 ? BlockOp.Insert : BlockOp.Snapshot, T4));
      expect(await own.blocks.put(first, 30, c)).toBe(250);
      expect(c.getTransactionStatus()).toBe('I');
      expect(await stagingExists()).toBe(false);
      const got = await own.blocks.getMany(T4.source, T4.table, first.map((b) => b.mapKey));
      got.forEach((b, i) => {
        expect(b).toMatchObject({ op: first[i]!.op, logIndex: 3000 + i, rowVersion: first[i]!.rowVersion, streamSeq: 30, deleted: false });
        expect(Buffer.from(b!.block!).equals(Buffer.from(first[i]!.block!))).toBe(true);
      });

      // New keys and an update in the caller's transaction: only the update is staged.
      const mixed = [...inserts(250, 3300), live(first[1]!.mapKey, 3600, BlockOp.Update, T4)];
      expect(await stagedBy(() => own.blocks.put(mixed, 31, c))).toEqual({ written: 251, staged: 1 });

      // A failing batch after a direct COPY leaves nothing behind.
      const lost = inserts(250, 3700);
      await expect(
        own.apply.applyBatch('direct', 32, async (w) => {
          expect(await w.putBlocks(lost)).toBe(250);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect((await own.blocks.getMany(T4.source, T4.table, lost.map((b) => b.mapKey))).every((b) => b === undefined)).toBe(true);

      // A key deleted earlier (tombstone) comes back with an INSERT among 250 new keys: the direct COPY meets its
      // tombstone and is undone, every row is staged and upserted, all land.
      const back = first[0]!.mapKey;
      await own.blocks.put([{ ...tomb(back, 4000), ...T4 }], 33, c);
      const again = [...inserts(250, 4100), live(back, 4400, BlockOp.Insert, T4)];
      expect(await stagedBy(() => own.blocks.put(again, 34, c))).toEqual({ written: 251, staged: 251 });
      const after = await own.blocks.getMany(T4.source, T4.table, [...mixed, ...again].map((b) => b.mapKey));
      after.forEach((b, i) => expect(b).toMatchObject({ logIndex: [...mixed, ...again][i]!.logIndex, deleted: false }));

      // After that conflict the next puts stage everything for a while.
      expect(await stagedBy(() => own.blocks.put(inserts(250, 4500), 35, c))).toEqual({ written: 250, staged: 250 });
    } finally {
      await c.end();
    }
  });

  it('every write path stores the scan key blockTableKey(source, table), and scans find rows by it (UTF-8 names)', async () => {
    const U = { source: 'pg-ünï', table: 'public.größe' };
    const small = Array.from({ length: 5 }, (_, i) => live(rand(32), 5000 + i, BlockOp.Insert, U)); // unnest
    const large = Array.from({ length: 300 }, (_, i) => live(rand(32), 6000 + i, BlockOp.Insert, U)); // COPY
    await store.apply.applyBatch('blocks-key', 1, (w) => w.putBlocks(small));
    await store.apply.applyBatch('blocks-key', 2, (w) => w.putBlocks(large));
    await store.apply.applyBatch('blocks-key', 3, (w) => w.putBlocks([{ ...tomb(small[0]!.mapKey, 7000), ...U }])); // upsert over a stored key
    // Rows of every test above (unnest, direct COPY, staged upsert) and these: one key per table, the library's.
    const { rows } = await db.pool.query<{ source: string; table_name: string; table_key: string }>(
      'SELECT DISTINCT source, table_name, table_key FROM ms_blocks.blocks ORDER BY source, table_name',
    );
    expect(rows.length).toBeGreaterThanOrEqual(4);
    expect(new Set(rows.map((r) => `${r.source}/${r.table_name}`)).size).toBe(rows.length);
    for (const r of rows) expect(r.table_key).toBe(blockTableKey(r.source, r.table_name).toString());
    const page = await store.blocks.scan(U.source, U.table, { fromLogIndex: 5000, limit: 10_000 });
    expect(page.blocks.map((b) => b.logIndex)).toEqual([...small.slice(1), ...large].map((b) => b.logIndex).concat(7000));
    // The name filter stays: another table's rows under the same key would not be returned.
    await db.pool.query(`UPDATE ms_blocks.blocks SET table_key = $1 WHERE source = 'pg' AND table_name = 'public.other'`, [blockTableKey(U.source, U.table).toString()]);
    expect((await store.blocks.scan(U.source, U.table, { fromLogIndex: 0, limit: 10_000 })).blocks.every((b) => b.source === U.source && b.table === U.table)).toBe(true);
  });

  it('rejects malformed input', async () => {
    await expect(store.blocks.put([{ ...live(rand(32), 1), mapKey: rand(31) }], 1)).rejects.toThrow(RangeError);
    await expect(store.blocks.put([{ ...tomb(rand(32), 1), block: rand(3) }], 1)).rejects.toThrow(RangeError);
    await expect(store.blocks.put([{ ...live(rand(32), 1), rowVersion: 1n << 63n }], 1)).rejects.toThrow(RangeError);
    await expect(store.blocks.put([live(rand(32), 1)], 0)).rejects.toThrow(RangeError);
    await expect(store.blocks.get(T.source, T.table, rand(8))).rejects.toThrow(RangeError);
    await expect(store.blocks.scan(T.source, T.table, { limit: 0 })).rejects.toThrow(RangeError);
    expect(StoreErrorCode.Database).toBe('DATABASE');
  });
});
