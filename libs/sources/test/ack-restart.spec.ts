import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChangeBatch, MemorySourceStateStore, parseLsn, PgLogicalSource, type PgLogicalSourceConfig, type RowChange } from '../src/index.ts';
import { BatchReader, confirmedFlush, createTestDb, type TestDb, waitFor } from './pg-harness.ts';

function ids(batches: ChangeBatch[]): number[] {
  return batches.flatMap((b) => b.changes).map((c) => Number(((c as RowChange).primaryKey[0] as { value: bigint }).value));
}

describe('acknowledgement, confirmed LSN, restart and large transactions', () => {
  let db: TestDb;
  let config: PgLogicalSourceConfig;
  const state = new MemorySourceStateStore();
  let source: PgLogicalSource;

  beforeAll(async () => {
    db = await createTestDb();
    await db.query('CREATE TABLE items (id int8 PRIMARY KEY, qty int4 NOT NULL)');
    config = { connection: db.connection, publication: 'ms_pub', slot: db.slotName(), tables: ['items'], batch: { maxChanges: 1000 }, statusIntervalMs: 200 };
  });

  afterAll(async () => {
    await source?.drop({ publication: true });
    await db?.dispose();
  });

  it('advances confirmed_flush_lsn only on ack, and a restart redelivers exactly the unacknowledged transactions', async () => {
    source = new PgLogicalSource(config, { state });
    await source.start();
    let reader = new BatchReader(source);
    const [snap] = await reader.readUntil((b) => b.kind === 'snapshot' && b.last, { ack: source });
    expect(snap!.changes).toEqual([]);
    expect((await state.load(config.slot))?.snapshotCompleted).toBe(true);
    const start = await confirmedFlush(db, config.slot);

    await db.query('INSERT INTO items VALUES (1, 1)');
    await db.query('INSERT INTO items VALUES (2, 2)');
    await db.query('INSERT INTO items VALUES (3, 3)');
    const [a, b, c] = [await reader.next(), await reader.next(), await reader.next()];
    expect(ids([a, b, c])).toEqual([1, 2, 3]);
    expect(parseLsn(a.commitLsn) < parseLsn(b.commitLsn)).toBe(true);

    // Not acknowledged: the slot never reaches tx 1, even across status updates (statusIntervalMs 200). Before
    // tx 1 was read, with nothing unacknowledged, the source may have confirmed a keepalive position (WAL that
    // other databases of the cluster wrote), so the slot may have moved from `start`, but only up to tx 1.
    await new Promise((r) => setTimeout(r, 500)); // lets several periodic status updates go out; the assertion is that they changed nothing
    const held = parseLsn((await confirmedFlush(db, config.slot))!);
    expect(held >= parseLsn(start!) && held <= parseLsn(a.commitLsn)).toBe(true);

    await source.ack(a);
    await waitFor('confirmed_flush_lsn = end of tx 1', async () => ((await confirmedFlush(db, config.slot)) === a.endLsn ? true : undefined));
    expect(source.confirmedLsn).toBe(a.endLsn);

    await source.stop();
    source = new PgLogicalSource(config, { state });
    await source.start();
    reader = new BatchReader(source);
    const again = [await reader.next(), await reader.next()];
    expect(ids(again)).toEqual([2, 3]);
    expect(again.map((x) => x.commitLsn)).toEqual([b.commitLsn, c.commitLsn]);
    await source.ack(again[1]!); // cumulative: acknowledges 2 and 3
    // Everything is acknowledged now, so the source may also confirm keepalive positions: WAL written by other
    // databases of the cluster can move the slot past tx 3 — at or past is the guarantee.
    await waitFor('confirmed_flush_lsn at or past the end of tx 3', async () =>
      parseLsn((await confirmedFlush(db, config.slot))!) >= parseLsn(c.endLsn!) ? true : undefined,
    );

    await source.stop();
    source = new PgLogicalSource(config, { state });
    await source.start();
    reader = new BatchReader(source);
    await db.query('INSERT INTO items VALUES (4, 4)');
    expect(ids([await reader.next()])).toEqual([4]);
    await source.ack(reader.received.at(-1)!);
  });

  it('moves an idle slot forward past WAL it has nothing to deliver from (keepalive)', async () => {
    await db.query('CREATE TABLE IF NOT EXISTS other (id int4 PRIMARY KEY)'); // not published
    const before = parseLsn((await confirmedFlush(db, config.slot))!);
    await db.query('INSERT INTO other SELECT generate_series(1, 100)');
    await waitFor('confirmed_flush_lsn to pass unrelated WAL', async () => (parseLsn((await confirmedFlush(db, config.slot))!) > before ? true : undefined));
  });

  it('splits a large transaction into bounded parts with the same xid and commit LSN, last one marked', async () => {
    await db.query('INSERT INTO items SELECT g, g FROM generate_series(1000, 3499) g');
    const reader = new BatchReader(source);
    const parts = await reader.readUntil((b) => b.last);
    expect(parts.map((p) => [p.part, p.changes.length, p.last])).toEqual([
      [0, 1000, false],
      [1, 1000, false],
      [2, 500, true],
    ]);
    expect(new Set(parts.map((p) => p.xid)).size).toBe(1);
    expect(new Set(parts.map((p) => p.commitLsn)).size).toBe(1);
    expect(parts.map((p) => p.endLsn === null)).toEqual([true, true, false]);
    expect(ids(parts)).toEqual(Array.from({ length: 2500 }, (_, i) => 1000 + i));

    // Acknowledging a middle part confirms nothing: the transaction is not complete downstream.
    const before = source.confirmedLsn;
    await source.ack(parts[1]!);
    expect(source.confirmedLsn).toBe(before);
    await source.ack(parts[2]!);
    expect(source.confirmedLsn).toBe(parts[2]!.endLsn);
  });

  it('holds back reading when acknowledgements lag (bounded read-ahead)', async () => {
    await source.stop();
    source = new PgLogicalSource({ ...config, batch: { maxChanges: 10 }, maxUnackedBatches: 3 }, { state });
    await source.start();
    await db.query('INSERT INTO items SELECT g, 0 FROM generate_series(10000, 10199) g'); // 20 parts
    const reader = new BatchReader(source);
    const first = [await reader.next(), await reader.next(), await reader.next()];
    await expect(reader.next(300)).rejects.toThrow(/no batch/);
    await source.ack(first[2]!);
    const rest = await reader.readUntil((b) => b.last, { ack: source });
    expect(first.length + rest.length).toBe(20);
    expect(ids([...first, ...rest])).toEqual(Array.from({ length: 200 }, (_, i) => 10000 + i));
  });

  it('reconnects after the walsender is killed, without losing or repeating a batch', async () => {
    const reader = new BatchReader(source);
    await db.query('INSERT INTO items VALUES (50000, 1)');
    const a = await reader.next();
    // Not acknowledged yet: after the reconnect Postgres resends it, and the source must not deliver it twice.
    await db.query('SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1', [config.slot]);
    await db.query('INSERT INTO items VALUES (50001, 1)');
    const b = await reader.next(15_000);
    expect(ids([a, b])).toEqual([50000, 50001]);
    await source.ack(b);
    // At least b's end: once idle, keepalives may move it further.
    await waitFor('confirmed after reconnect', async () => (parseLsn((await confirmedFlush(db, config.slot))!) >= parseLsn(b.endLsn!) ? true : undefined));
  });
});
