// Crash and restart: a batch published but never acknowledged to the source is redelivered after a restart,
// republished with the same Nats-Msg-Ids, and JetStream stores it once. The durable source state means the
// restart streams from the slot instead of retaking the snapshot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEvent } from '@merklesync/protocol';
import type { BatchPosition, ChangeBatch } from '@merklesync/sources';
import type { ChangeSource } from '../src/ingest/ports.ts';
import { createHarness, waitFor, type IngestHarness } from './support/harness.ts';

let h: IngestHarness;

/** Wraps a source so that acknowledging a transaction touching row `crashId` fails, as a crash before the ack would. */
function crashBeforeAck(crashId: number, seen: ChangeBatch[]): (s: ChangeSource) => ChangeSource {
  return (inner) => ({
    start: () => inner.start(),
    stop: () => inner.stop(),
    async *batches() {
      for await (const b of inner.batches()) {
        seen.push(b);
        yield b;
      }
    },
    ack(position: BatchPosition) {
      const b = seen.find((x) => x.kind === position.kind && x.commitLsn === position.commitLsn && x.part === position.part);
      const hit = b?.changes.some((c) => c.op !== 'truncate' && c.primaryKey[0] !== null && String((c.primaryKey[0] as { value: unknown }).value) === String(crashId));
      if (hit) return Promise.reject(new Error('simulated crash before the source ack'));
      return inner.ack(position);
    },
  });
}

beforeAll(async () => {
  h = await createHarness();
  await h.db.query('CREATE TABLE items (id int8 PRIMARY KEY, v int4)');
  await h.db.query('INSERT INTO items VALUES (1, 1), (2, 2)');
}, 30_000);

afterAll(async () => {
  await h?.dispose();
});

describe('ingest: crash before the ack, restart', () => {
  it('republishes the unacknowledged batch with the same ids; JetStream reports duplicates and stores nothing twice', async () => {
    const config = h.config({ INGEST_TABLES: 'public.items' });
    const seen: ChangeBatch[] = [];
    const first = await h.startApp(config, { wrapSource: crashBeforeAck(20, seen) });
    await waitFor('snapshot acknowledged', () => first.pipeline.stats.changesAcked >= 2);
    await h.db.query('INSERT INTO items VALUES (10, 10)');
    await waitFor('first transaction acknowledged', () => first.pipeline.stats.changesAcked >= 3);
    await h.db.query('INSERT INTO items VALUES (20, 20), (21, 21)');
    const outcome = await first.pipeline.done;
    expect(outcome?.message).toContain('simulated crash');
    await first.app.close();

    const before = await h.readStream();
    const ids = before.map((m) => m.header?.get('Nats-Msg-Id'));
    const crashedId = ids[ids.length - 1]!;
    expect(decodeEvent('change-batch', before[before.length - 1]!.data).events).toHaveLength(2);

    // Restart: the slot redelivers the unacknowledged transaction; no snapshot is taken again.
    const second = await h.startApp(config);
    await waitFor('redelivered batch acknowledged', () => second.pipeline.stats.batchesAcked >= 1);
    expect(second.pipeline.stats.duplicates).toBe(1);
    expect(second.pipeline.stats.lastAcked).toMatch(/^transaction /);
    const after = await h.readStream();
    expect(after.map((m) => m.header?.get('Nats-Msg-Id'))).toEqual(ids);
    expect(ids.filter((id) => id === crashedId)).toHaveLength(1);

    // Streaming continues after the redelivery, and a clean stop confirms what was acknowledged.
    await h.db.query('INSERT INTO items VALUES (30, 30)');
    await waitFor('new transaction acknowledged', () => second.pipeline.stats.batchesAcked >= 2);
    await second.app.close();
    expect(await second.pipeline.done).toBeNull();
    const final = await h.readStream();
    expect(final).toHaveLength(ids.length + 1);
    const lastLsn = BigInt(decodeEvent('change-batch', final[final.length - 1]!.data).position!.position.value as bigint);
    const r = await h.db.query<{ lsn: string }>(`SELECT (confirmed_flush_lsn - '0/0'::pg_lsn)::text AS lsn FROM pg_replication_slots WHERE slot_name = $1`, [h.slot]);
    expect(BigInt(r.rows[0]!.lsn)).toBeGreaterThan(lastLsn);
  });
});
