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
  it('records the head and writes each node once', async () => {
    expect((await logs.head('g'))?.size).toBe(100);
    expect(await logs.putLogNodes('g', tree)).toBe(0);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM ms_log.log_nodes WHERE log_id = 'g'`);
    expect(rows[0].n).toBe(tree.exportLevels().reduce((s, l) => s + l.length / 32, 0));
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
