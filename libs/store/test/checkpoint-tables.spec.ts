import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreErrorCode, checkpointHash, createStore, storeConfig, type MerkleStore } from '../src/index.ts';
import { createTestDb, rng, type TestDb } from '@merklesync/testkit';

let db: TestDb;
let store: MerkleStore;
const rand = rng(29);

beforeAll(async () => {
  db = await createTestDb();
  store = createStore(db.pool, storeConfig({ schema: 'ms_cpt' }));
  await store.migrate();
});
afterAll(async () => {
  await db?.drop();
});

const base = { logId: 'global', logRoot: rand(32), stateRoot: rand(32) };

describe('checkpoint table roots', () => {
  const users = rand(32);
  const orders = rand(32);

  it('are stored with the checkpoint in applyBatch and read back per checkpoint, sorted', async () => {
    await store.apply.applyBatch('cpt', 1, (w) =>
      w.appendCheckpoint({
        ...base,
        seq: 1,
        logSize: 3,
        note: 'one\n',
        prevHash: null,
        tables: [
          { source: 'pg', table: 'public.users', root: users },
          { source: 'pg', table: 'public.orders', root: orders },
        ],
      }),
    );
    const users2 = rand(32);
    const cp2 = await store.checkpoints.append({ ...base, seq: 2, logSize: 5, note: 'two\n', prevHash: checkpointHash('one\n'), tables: [{ source: 'pg', table: 'public.users', root: users2 }, { source: 'pg', table: 'public.orders', root: orders }] });
    expect(cp2.tableCount).toBe(2);
    const at1 = await store.checkpoints.tableRootsAt('global', 1);
    expect(at1?.map((t) => [t.table, Buffer.from(t.root).toString('hex')])).toEqual([
      ['public.orders', Buffer.from(orders).toString('hex')],
      ['public.users', Buffer.from(users).toString('hex')],
    ]);
    const at2 = await store.checkpoints.tableRootsAt('global', 2);
    expect(Buffer.from(at2!.find((t) => t.table === 'public.users')!.root).equals(Buffer.from(users2))).toBe(true);
    expect(await store.checkpoints.tableRootsAt('global', 9)).toBeUndefined();
    expect((await store.checkpoints.bySeq('global', 1))!.tableCount).toBe(2);
  });

  it('a checkpoint without tables has none recorded; one with an empty list records zero', async () => {
    await store.checkpoints.append({ ...base, seq: 3, logSize: 5, note: 'three\n', prevHash: checkpointHash('two\n') });
    expect(await store.checkpoints.tableRootsAt('global', 3)).toBeUndefined();
    expect((await store.checkpoints.latest('global'))!.tableCount).toBeNull();
    await store.checkpoints.append({ ...base, seq: 4, logSize: 5, note: 'four\n', prevHash: checkpointHash('three\n'), tables: [] });
    expect(await store.checkpoints.tableRootsAt('global', 4)).toEqual([]);
  });

  it('are append-only, and a failing append leaves no rows', async () => {
    await expect(db.pool.query(`DELETE FROM ms_cpt.checkpoint_tables`)).rejects.toThrow(/append-only/);
    await expect(db.pool.query(`UPDATE ms_cpt.checkpoint_tables SET root = root`)).rejects.toThrow(/append-only/);
    await expect(
      store.checkpoints.append({ ...base, seq: 5, logSize: 5, note: 'five\n', prevHash: checkpointHash('four\n'), tables: [{ source: 'pg', table: 't', root: rand(32) }, { source: 'pg', table: 't', root: rand(32) }] }),
    ).rejects.toThrow(RangeError);
    await expect(
      store.checkpoints.append({ ...base, seq: 5, logSize: 5, note: 'five\n', prevHash: rand(32), tables: [{ source: 'pg', table: 't', root: rand(32) }] }),
    ).rejects.toMatchObject({ code: StoreErrorCode.CheckpointOutOfOrder });
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM ms_cpt.checkpoint_tables WHERE seq = 5`);
    expect(rows[0].n).toBe(0);
  });
});
