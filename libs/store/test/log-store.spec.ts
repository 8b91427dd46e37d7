import { LogTree, getHashSuite, proveLogConsistency, proveLogInclusion, toHex, verifyLogProof } from '@merklesync/merkle';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgLogStore, StoreErrorCode, migrate, storeConfig } from '../src/index.ts';
import { createTestDb, rng, type TestDb } from '@merklesync/testkit';

let db: TestDb;
const config = storeConfig({ schema: 'ms_log' });
let logs: PgLogStore;
const rand = rng(9);
const tree = new LogTree(getHashSuite('sha256'));

beforeAll(async () => {
  db = await createTestDb();
  await migrate(db.pool, config);
  logs = new PgLogStore(db.pool, config);
  // Grows in uneven steps, persisted after each, as the merkle service does per batch.
  for (const step of [1, 2, 5, 13, 1, 40, 38]) {
    tree.appendMany(Array.from({ length: step }, () => rand(20)));
    await logs.putLogNodes('g', tree);
  }
});
afterAll(async () => {
  await db?.drop();
});

describe('PgLogStore', () => {
  it('records the head and stores the levels 0, 8, … in tiles of 256', async () => {
    expect((await logs.head('g'))?.size).toBe(100);
    expect(await logs.putLogNodes('g', tree)).toBe(0);
    const { rows } = await db.pool.query(`SELECT tile_level, tile_index, width, hashes FROM ms_log.log_tiles WHERE log_id = 'g'`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ tile_level: 0, tile_index: '0', width: 100 });
    expect(new Uint8Array(rows[0].hashes)).toEqual(tree.exportLevels()[0]);
  });

  it('keeps proofs and the loaded tree exact across tile levels 1 and 2 (70,000 leaves)', async () => {
    const big = new LogTree(getHashSuite('sha256'));
    const r = rng(11);
    for (const step of [255, 1, 300, 65_000, 3_000, 1_444]) {
      big.appendMany(Array.from({ length: step }, () => r(8)));
      await logs.putLogNodes('big', big);
    }
    const { rows } = await db.pool.query(`SELECT tile_level, count(*)::int AS n, sum(width)::int AS w FROM ms_log.log_tiles WHERE log_id = 'big' GROUP BY 1 ORDER BY 1`);
    expect(rows).toEqual([
      { tile_level: 0, n: Math.ceil(70_000 / 256), w: 70_000 },
      { tile_level: 1, n: 2, w: Math.floor(70_000 / 256) },
      { tile_level: 2, n: 1, w: 1 },
    ]);
    const back = await logs.loadLogTree('big', 'sha256', { verify: true });
    expect(toHex(back.root())).toBe(toHex(big.root()));
    for (const size of [1, 256, 257, 65_536, 65_537, 69_999, 70_000]) {
      expect(await logs.root('big', size)).toEqual(big.root(size));
      for (const i of new Set([0, 255, size >> 1, size - 1].filter((i) => i < size))) {
        const p = await logs.proveInclusion('big', i, size);
        expect(p).toEqual(proveLogInclusion(big, i, size));
      }
      const m = Math.max(1, size - 300);
      expect(await logs.proveConsistency('big', m, size)).toEqual(proveLogConsistency(big, m, size));
    }
  });

  it('detects a tile that disagrees with the leaves when loading with verify', async () => {
    const t = new LogTree(getHashSuite('sha256'));
    t.appendMany(Array.from({ length: 600 }, () => rand(4)));
    await logs.putLogNodes('bad', t);
    await db.pool.query(`UPDATE ms_log.log_tiles SET hashes = overlay(hashes PLACING '\\xff'::bytea FROM 1) WHERE log_id = 'bad' AND tile_level = 1`);
    await expect(logs.loadLogTree('bad', 'sha256', { verify: true })).rejects.toMatchObject({ code: StoreErrorCode.CorruptNode });
    await db.pool.query(`DELETE FROM ms_log.log_tiles WHERE log_id = 'bad' AND tile_level = 0 AND tile_index = 1`);
    await expect(logs.loadLogTree('bad')).rejects.toMatchObject({ code: StoreErrorCode.CorruptNode });
    await expect(logs.proveInclusion('bad', 300, 600)).rejects.toMatchObject({ code: StoreErrorCode.NotFound });
  });

  it('loads the LogTree back with identical levels and root', async () => {
    const back = await logs.loadLogTree('g', 'sha256', { verify: true });
    expect(back.exportLevels()).toEqual(tree.exportLevels());
    expect(toHex(back.root())).toBe(toHex(tree.root()));
    expect((await logs.loadLogTree('nothing', 'blake3')).size).toBe(0);
  });

  it('answers inclusion and consistency proofs from stored nodes, equal to the tree and verifying', async () => {
    for (const size of [1, 2, 3, 7, 8, 64, 99, 100]) {
      expect(await logs.root('g', size)).toEqual(tree.root(size));
      for (const i of new Set([0, size >> 1, size - 1])) {
        const p = await logs.proveInclusion('g', i, size);
        expect(p).toEqual(proveLogInclusion(tree, i, size));
        expect(verifyLogProof(p)).toBe(true);
      }
      for (const m of new Set([1, size >> 1 || 1, size])) {
        const p = await logs.proveConsistency('g', m, size);
        expect(p).toEqual(proveLogConsistency(tree, m, size));
        expect(verifyLogProof(p)).toBe(true);
      }
    }
    expect(await logs.root('g', 0)).toEqual(tree.root(0));
  });

  it('writes a prefix of a tree that has grown since (size bound), exactly as the tree of that size would be stored', async () => {
    const grown = new LogTree(getHashSuite('sha256'));
    const prefix = new LogTree(getHashSuite('sha256'));
    const r = rng(12);
    const leaves = Array.from({ length: 1_000 }, () => r(8));
    grown.appendMany(leaves);
    for (const [from, to] of [[0, 300], [300, 513], [513, 1_000]] as const) {
      prefix.appendMany(leaves.slice(from, to));
      await logs.putLogNodes('prefixed', grown, undefined, to);
      await logs.putLogNodes('whole', prefix);
      expect((await logs.head('prefixed'))?.size).toBe(to);
      expect(await logs.root('prefixed', to)).toEqual(prefix.root());
    }
    const tiles = (id: string): Promise<unknown[]> => db.pool.query(`SELECT tile_level, tile_index, width, hashes FROM ms_log.log_tiles WHERE log_id = $1 ORDER BY 1, 2`, [id]).then((x) => x.rows);
    expect(await tiles('prefixed')).toEqual(await tiles('whole'));
    await expect(logs.putLogNodes('prefixed', grown, undefined, 1_001)).rejects.toThrow(RangeError);
    await expect(logs.putLogNodes('prefixed', grown, undefined, 999)).rejects.toMatchObject({ code: StoreErrorCode.OutOfRange });
  });

  it('refuses sizes beyond the stored log, shrinking trees and a different suite', async () => {
    await expect(logs.proveInclusion('g', 1, 101)).rejects.toMatchObject({ code: StoreErrorCode.OutOfRange });
    await expect(logs.proveInclusion('missing', 0, 1)).rejects.toMatchObject({ code: StoreErrorCode.OutOfRange });
    await expect(logs.proveInclusion('g', 5, 5)).rejects.toThrow(RangeError);
    const small = new LogTree(getHashSuite('sha256'));
    small.append(rand(3));
    await expect(logs.putLogNodes('g', small)).rejects.toMatchObject({ code: StoreErrorCode.OutOfRange });
    const other = new LogTree(getHashSuite('blake3'));
    other.appendMany(Array.from({ length: 200 }, () => rand(3)));
    await expect(logs.putLogNodes('g', other)).rejects.toMatchObject({ code: StoreErrorCode.OutOfRange });
  });
});
