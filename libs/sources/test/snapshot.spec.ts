import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChangeBatch, MemorySourceStateStore, PgLogicalSource, type PgLogicalSourceConfig, type RowChange } from '../src/index.ts';
import { BatchReader, createTestDb, type TestDb } from './pg-harness.ts';

const ROWS = 5000;

function idOf(c: RowChange): number {
  return (c.primaryKey[0] as { value: number }).value;
}

/** Applies batches the way a consumer would: snapshot/insert/update upsert, delete removes. */
function apply(state: Map<number, number>, batches: ChangeBatch[]): void {
  for (const b of batches) {
    for (const c of b.changes) {
      if (c.op === 'truncate') {
        state.clear();
        continue;
      }
      if (c.oldPrimaryKey) state.delete((c.oldPrimaryKey[0] as { value: number }).value);
      if (c.op === 'delete') state.delete(idOf(c));
      else state.set(idOf(c), (c.row!['v'] as { value: number }).value);
    }
  }
}

describe('consistent initial snapshot', () => {
  let db: TestDb;
  let config: PgLogicalSourceConfig;

  beforeAll(async () => {
    db = await createTestDb();
    await db.query('CREATE TABLE acct (id int4 PRIMARY KEY, v int4 NOT NULL)');
    await db.query(`INSERT INTO acct SELECT g, 0 FROM generate_series(1, ${ROWS}) g`);
  });

  afterAll(async () => {
    await db?.dispose();
  });

  it('with writes committed while the snapshot is being read: every row exactly once, final state equal', async () => {
    config = { connection: db.connection, publication: 'ms_pub', slot: db.slotName(), tables: ['acct'], batch: { maxChanges: 250 }, maxUnackedBatches: 2 };
    const source = new PgLogicalSource(config, { state: new MemorySourceStateStore() });
    try {
      await source.start();
      const reader = new BatchReader(source);
      // The snapshot transaction is open and (backpressure) stalled after its first chunks: write now.
      const first = await reader.next();
      expect(first.kind).toBe('snapshot');
      const w = await db.newClient();
      for (let i = 0; i < 20; i++) {
        await w.query('BEGIN');
        await w.query('UPDATE acct SET v = v + 1 WHERE id = $1 OR id = $2', [1 + i, ROWS - i]); // rows already read and rows not yet read
        await w.query('INSERT INTO acct VALUES ($1, 1)', [ROWS + 1 + i]);
        await w.query('DELETE FROM acct WHERE id = $1', [2000 + i]);
        await w.query('COMMIT');
      }
      await w.query('INSERT INTO acct VALUES (-1, -1)'); // end marker
      await source.ack(first);
      const rest = await reader.readUntil((b) => b.changes.some((c) => c.op === 'insert' && idOf(c) === -1), { ack: source });
      const all = [first, ...rest];
      const snapshot = all.filter((b) => b.kind === 'snapshot');
      expect(snapshot.at(-1)!.last).toBe(true);
      expect(snapshot.map((b) => b.part)).toEqual(snapshot.map((_, i) => i));
      expect(new Set(snapshot.map((b) => b.commitLsn)).size).toBe(1);
      const snapIds = snapshot.flatMap((b) => b.changes).map((c) => idOf(c as RowChange));
      // The snapshot is the state at the consistent point: none of the later writes, each row once.
      expect(snapIds.length).toBe(ROWS);
      expect(new Set(snapIds).size).toBe(ROWS);
      const snapRows = snapshot.flatMap((b) => b.changes as RowChange[]);
      expect(snapRows.every((c) => (c.row!['v'] as { value: number }).value === 0)).toBe(true);
      const tx = all.filter((b) => b.kind === 'transaction');
      expect(tx.length).toBe(21);
      expect(tx.every((b) => b.commitLsn > '' && b.last)).toBe(true);
      const inserted = tx.flatMap((b) => b.changes as RowChange[]).filter((c) => c.op === 'insert').map(idOf);
      expect(inserted.filter((id) => snapIds.includes(id))).toEqual([]);

      const state = new Map<number, number>();
      apply(state, all);
      const r = await db.query<{ id: number; v: number }>('SELECT id, v FROM acct');
      expect(state).toEqual(new Map(r.rows.map((x) => [x.id, x.v])));
    } finally {
      await source.drop({ publication: true });
    }
  });

  it('a crash before the snapshot completed re-takes it on a fresh slot instead of streaming from half of it', async () => {
    const state = new MemorySourceStateStore();
    const slot = db.slotName();
    config = { connection: db.connection, publication: 'ms_pub2', slot, tables: ['acct'], batch: { maxChanges: 1000 }, maxUnackedBatches: 2 };
    const count = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM acct')).rows[0]!.n);
    let source = new PgLogicalSource(config, { state });
    await source.start();
    let reader = new BatchReader(source);
    const b0 = await reader.next();
    await source.ack(b0);
    await reader.next();
    await source.stop(); // "crash": the snapshot was not fully acknowledged
    expect((await state.load(slot))?.snapshotCompleted).toBe(false);
    await db.query('UPDATE acct SET v = 42 WHERE id = 1');

    source = new PgLogicalSource(config, { state });
    try {
      await source.start();
      reader = new BatchReader(source);
      const snap = await reader.readUntil((b) => b.kind === 'snapshot' && b.last, { ack: source });
      expect(snap[0]!.part).toBe(0);
      const rows = snap.flatMap((b) => b.changes as RowChange[]);
      expect(rows.length).toBe(count);
      expect(rows.find((c) => idOf(c) === 1)!.row!['v']).toEqual({ type: 'int4', value: 42 });
      expect((await state.load(slot))?.snapshotCompleted).toBe(true);
      await db.query('UPDATE acct SET v = 43 WHERE id = 1');
      const [u] = await reader.readUntil((b) => b.last, { ack: source });
      expect(u!.kind).toBe('transaction');
      expect((u!.changes[0] as RowChange).row!['v']).toEqual({ type: 'int4', value: 43 });
    } finally {
      await source.drop({ publication: true });
    }
  });
});
