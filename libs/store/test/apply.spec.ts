import { LogTree, SparseMerkleMap, getHashSuite, toHex } from '@merklesync/merkle';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreErrorCode, createStore, storeConfig, type MerkleStore } from '../src/index.ts';
import { createTestDb, rng, type TestDb } from '@merklesync/testkit';

let db: TestDb;
let store: MerkleStore;
const rand = rng(17);

beforeAll(async () => {
  db = await createTestDb();
  store = createStore(db.pool, storeConfig({ schema: 'ms_apply' }));
  await store.migrate();
});
afterAll(async () => {
  await db?.drop();
});

const count = async (table: string): Promise<number> => (await db.pool.query(`SELECT count(*)::int AS n FROM ms_apply.${table}`)).rows[0].n as number;

describe('applyBatch', () => {
  it('commits map nodes, log nodes, table root, checkpoint and sequence together; replays are no-ops', async () => {
    const map = new SparseMerkleMap();
    const log = new LogTree(getHashSuite('sha256'));
    const mark = map.store.mark();
    const ops = Array.from({ length: 20 }, () => ({ key: rand(32), value: rand(8) }));
    const root = map.update(map.emptyRoot, ops);
    log.appendMany(ops.map((o) => o.value));
    const r = await store.apply.applyBatch('merkle', 5, async (w) => {
      const n = await w.putMapNodes(map.store.newNodesSince(mark, [root]));
      await w.putLogNodes('global', log);
      await w.setTableRoot('pg', 'public.users', root);
      await w.appendCheckpoint({ logId: 'global', seq: 1, logSize: log.size, logRoot: log.root(), stateRoot: root, note: 'cp 1\n', prevHash: null });
      return n;
    });
    expect(r).toEqual({ applied: true, result: 39, appliedSequence: 5 });
    expect(await store.apply.appliedSequence('merkle')).toBe(5);
    const [t] = await store.apply.tableRoots();
    expect(t).toMatchObject({ source: 'pg', table: 'public.users', suite: 'sha256', streamSeq: 5 });
    expect(toHex(t!.root)).toBe(toHex(root));

    let ran = false;
    for (const seq of [5, 3]) {
      const again = await store.apply.applyBatch('merkle', seq, () => {
        ran = true;
        return Promise.resolve();
      });
      expect(again).toEqual({ applied: false, appliedSequence: 5 });
    }
    expect(ran).toBe(false);
    expect(await store.apply.appliedSequence('other')).toBe(0);
  });

  it('a failing batch leaves nothing behind and the sequence unchanged', async () => {
    const before = await Promise.all(['map_node_chunks', 'log_tiles', 'table_roots', 'checkpoints'].map(count));
    const map = new SparseMerkleMap();
    const mark = map.store.mark();
    const root = map.update(map.emptyRoot, [{ key: rand(32), value: rand(4) }, { key: rand(32), value: rand(4) }]);
    const log = await store.logs.loadLogTree('global');
    log.append(rand(5));
    const boom = new Error('boom');
    await expect(
      store.apply.applyBatch('merkle', 6, async (w) => {
        await w.putMapNodes(map.store.newNodesSince(mark, [root]));
        await w.putLogNodes('global', log);
        await w.setTableRoot('pg', 'public.users', root);
        throw boom;
      }),
    ).rejects.toBe(boom);
    // A database failure inside the batch (checkpoint breaking the chain) rolls back just the same.
    await expect(
      store.apply.applyBatch('merkle', 6, async (w) => {
        await w.putLogNodes('global', log);
        await w.appendCheckpoint({ logId: 'global', seq: 1, logSize: log.size, logRoot: log.root(), stateRoot: root, note: 'dup', prevHash: null });
      }),
    ).rejects.toMatchObject({ code: StoreErrorCode.CheckpointOutOfOrder });
    expect(await Promise.all(['map_node_chunks', 'log_tiles', 'table_roots', 'checkpoints'].map(count))).toEqual(before);
    expect(await store.apply.appliedSequence('merkle')).toBe(5);
    expect((await store.logs.head('global'))?.size).toBe(20);
    await expect(store.apply.applyBatch('merkle', 0, () => Promise.resolve())).rejects.toThrow(RangeError);
  });

  it('concurrent deliveries of one sequence apply it exactly once', async () => {
    let runs = 0;
    const results = await Promise.all(
      [0, 1, 2].map(() =>
        store.apply.applyBatch('race', 1, () => Promise.resolve(++runs)),
      ),
    );
    expect(runs).toBe(1);
    expect(results.filter((r) => r.applied)).toHaveLength(1);
  });
});
