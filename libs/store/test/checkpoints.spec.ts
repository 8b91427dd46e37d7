import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgCheckpointStore, StoreErrorCode, checkpointHash, migrate, storeConfig, type CheckpointInput } from '../src/index.ts';
import { createTestDb, rng, type TestDb } from '@merklesync/testkit';

let db: TestDb;
let cps: PgCheckpointStore;
const rand = rng(23);
const cp = (seq: number, logSize: number, prevHash: Uint8Array | null, logId = 'g'): CheckpointInput => ({
  logId,
  seq,
  logSize,
  logRoot: rand(32),
  stateRoot: rand(32),
  note: `example.org/log\n${logSize}\n${seq}\n`,
  prevHash,
});

beforeAll(async () => {
  db = await createTestDb();
  const config = storeConfig({ schema: 'ms_cp' });
  await migrate(db.pool, config);
  cps = new PgCheckpointStore(db.pool, config);
});
afterAll(async () => {
  await db?.drop();
});

describe('checkpoint chain', () => {
  it('appends a chain and answers latest / by seq / list', async () => {
    expect(await cps.latest('g')).toBeUndefined();
    const a = await cps.append(cp(1, 10, null));
    expect(a.hash).toEqual(checkpointHash(a.note));
    const b = await cps.append(cp(2, 10, a.hash));
    const c = await cps.append(cp(5, 30, b.hash));
    expect((await cps.latest('g'))?.seq).toBe(5);
    expect(await cps.bySeq('g', 2)).toEqual(b);
    expect(await cps.bySeq('g', 3)).toBeUndefined();
    expect((await cps.list('g', 2)).map((x) => x.seq)).toEqual([2, 5]);
    expect(c.createdAt).toBeInstanceOf(Date);
    // Chains are per log.
    await cps.append(cp(1, 1, null, 'other'));
  });

  it('refuses seq or size going backwards and a broken link', async () => {
    const last = (await cps.latest('g'))!;
    for (const bad of [cp(5, 40, last.hash), cp(4, 40, last.hash), cp(6, 29, last.hash), cp(6, 40, rand(32)), cp(6, 40, null)]) {
      await expect(cps.append(bad)).rejects.toMatchObject({ code: StoreErrorCode.CheckpointOutOfOrder });
    }
    await expect(cps.append(cp(1, 1, rand(32), 'fresh'))).rejects.toMatchObject({ code: StoreErrorCode.CheckpointOutOfOrder });
    await expect(cps.append({ ...cp(6, 40, last.hash), logRoot: rand(31) })).rejects.toThrow(RangeError);
  });

  it('the database itself keeps the chain append-only', async () => {
    await expect(db.pool.query('UPDATE ms_cp.checkpoints SET log_size = 0')).rejects.toThrow(/append-only/);
    await expect(db.pool.query('DELETE FROM ms_cp.checkpoints')).rejects.toThrow(/append-only/);
    await expect(
      db.pool.query(
        `INSERT INTO ms_cp.checkpoints (log_id, seq, log_size, log_root, state_root, note, note_hash) VALUES ('g', 9, 0, $1, $1, 'x', $1)`,
        [Buffer.alloc(32)],
      ),
    ).rejects.toThrow(/does not extend/);
  });

  it('concurrent appends of the same next checkpoint: exactly one wins', async () => {
    const last = (await cps.latest('g'))!;
    const res = await Promise.allSettled([0, 1, 2].map(() => cps.append(cp(last.seq + 1, last.logSize, last.hash))));
    expect(res.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });
});
