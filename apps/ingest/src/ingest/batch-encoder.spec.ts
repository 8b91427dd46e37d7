import { describe, expect, it } from 'vitest';
import { Keyring, LocalKeyProvider, fromPgText, type PgValue } from '@merklesync/crypto';
import { EventLimits, RowOperation, decodeEvent } from '@merklesync/protocol';
import type { ChangeBatch, RowChange } from '@merklesync/sources';
import { BatchEncoder } from './batch-encoder.ts';
import { IngestError } from './ingest.errors.ts';
import { changeMsgId } from './msg-id.ts';
import { RowSealer } from './row-sealer.ts';

const ring = Keyring.generate('k1');
function encoder(): BatchEncoder {
  const sealer = new RowSealer(new LocalKeyProvider([ring]), { source: 'src', kid: 'k1', commitmentAlgorithm: 'hmac-sha256', commitmentKeyVersion: 1 });
  return new BatchEncoder(sealer, { source: 'src', nowMicros: () => 1_700_000_000_000_000n });
}

function row(id: number, text: string | PgValue, table = 't'): RowChange {
  return { op: 'insert', schema: 'public', table, primaryKey: [fromPgText('int8', String(id))], row: { id: fromPgText('int8', String(id)), v: typeof text === 'string' ? fromPgText('text', text) : text } };
}

function batch(changes: ChangeBatch['changes'], over: Partial<ChangeBatch> = {}): ChangeBatch {
  return { kind: 'transaction', xid: 77, commitLsn: '0/16B3748', endLsn: '0/16B3780', commitTimeMicros: 1_700_000_000_000_001n, part: 0, last: true, changes, ...over };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(IngestError);
    return (e as IngestError).code;
  }
  throw new Error('expected an IngestError');
}

describe('BatchEncoder', () => {
  it('groups by table in first-seen order, numbers parts across tables', async () => {
    const out = await encoder().encode(batch([row(1, 'a', 'x'), row(2, 'b', 'y'), row(3, 'c', 'x')]));
    expect(out.map((m) => [m.table, m.events, m.msgId])).toEqual([
      ['public.x', 2, 'src:transaction:0/16B3748:0:public.x'],
      ['public.y', 1, 'src:transaction:0/16B3748:0:public.y'],
    ]);
    const [a, b] = out.map((m) => decodeEvent('change-batch', m.payload));
    expect([a!.partIndex, a!.partCount, b!.partIndex, b!.partCount]).toEqual([0, 2, 1, 2]);
    expect(a!.events.map((e) => e.changeIndex)).toEqual([0, 2]);
    expect(a!.events[0]!.block!.rowVersion).toBe(0x16b3748n);
    expect(a!.transactionId).toBe('77');
  });

  it('splits one table of a batch into messages under the event size limit', async () => {
    const big = 'x'.repeat(200_000);
    const out = await encoder().encode(batch(Array.from({ length: 12 }, (_, i) => row(i, big))));
    expect(out.length).toBeGreaterThan(2);
    for (const m of out) expect(m.payload.length).toBeLessThanOrEqual(EventLimits.maxEventBytes);
    expect(out.map((m) => m.msgId)).toEqual(out.map((_, i) => `src:transaction:0/16B3748:0:public.t${i === 0 ? '' : `:${i}`}`));
    expect(out.reduce((n, m) => n + m.events, 0)).toBe(12);
  });

  it('marks the count pending until the last part and keeps numbering across parts', async () => {
    const e = encoder();
    const p0 = await e.encode(batch([row(1, 'a')], { part: 0, last: false, endLsn: null }));
    const p1 = await e.encode(batch([row(2, 'b'), row(3, 'c', 'u')], { part: 1, last: true }));
    const all = [...p0, ...p1].map((m) => decodeEvent('change-batch', m.payload));
    expect(all.map((b) => [b.partIndex, b.partCount, b.partCountPending])).toEqual([
      [0, 0, true],
      [1, 3, false],
      [2, 3, false],
    ]);
    expect(all.flatMap((b) => b.events.map((x) => x.changeIndex))).toEqual([0, 1, 2]);
  });

  it('publishes a truncate in source order as an event naming only its table', async () => {
    const trunc = { op: 'truncate', schema: 'public', table: 't', cascade: false, restartIdentity: false } as const;
    const [m] = await encoder().encode(batch([row(1, 'a'), trunc, row(2, 'b')]));
    const events = decodeEvent('change-batch', m!.payload).events;
    expect(events.map((e) => e.block!.op)).toEqual([RowOperation.INSERT, RowOperation.TRUNCATE, RowOperation.INSERT]);
    expect(events.map((e) => e.changeIndex)).toEqual([0, 1, 2]);
    const t = events[1]!.block!;
    expect([t.table, t.mapKey.length, t.leafCommitment.length, t.block.length]).toEqual(['public.t', 0, 0, 0]);
    expect(t.rowVersion).toBe(events[0]!.block!.rowVersion);
  });

  it('refuses a part without its predecessors, an unencodable row and an oversized row', async () => {
    expect(await code(encoder().encode(batch([row(1, 'a')], { part: 1 })))).toBe('SOURCE_FAILED');
    expect(await code(encoder().encode(batch([row(1, { type: 'text', value: 'a\u0000b' })])))).toBe('ENCODE_FAILED');
    expect(await code(encoder().encode(batch([row(1, 'x'.repeat(300_000))])))).toBe('ROW_TOO_LARGE');
  });

  it('turns a primary-key change into the old key deletion and the new row; deletes carry no block', async () => {
    const upd: RowChange = { ...row(2, 'b'), op: 'update', oldPrimaryKey: [fromPgText('int8', '1')] };
    const del: RowChange = { op: 'delete', schema: 'public', table: 't', primaryKey: [fromPgText('int8', '5')], row: null };
    const [m] = await encoder().encode(batch([upd, del]));
    const events = decodeEvent('change-batch', m!.payload).events.map((e) => [e.block!.op, e.block!.block.length > 0, e.block!.leafCommitment.length]);
    expect(events).toEqual([
      [3, false, 0],
      [2, true, 32],
      [3, false, 0],
    ]);
  });

  it('snapshot chunks share one transaction id and commit time', async () => {
    const e = encoder();
    const s = { kind: 'snapshot' as const, xid: null, commitLsn: '0/100', endLsn: null, commitTimeMicros: null };
    const a = await e.encode(batch([{ ...row(1, 'a'), op: 'snapshot' }], { ...s, part: 0, last: false }));
    const b = await e.encode(batch([{ ...row(2, 'b'), op: 'snapshot' }], { ...s, part: 1, last: true }));
    const [x, y] = [...a, ...b].map((m) => decodeEvent('change-batch', m.payload));
    expect(x!.transactionId).toBe('snapshot@0/100');
    expect(y!.transactionId).toBe('snapshot@0/100');
    expect(x!.events[0]!.commitTimeUnixMicros).toBe(1_700_000_000_000_000n);
    expect([...a, ...b].map((m) => m.msgId)).toEqual(['src:snapshot:0/100:0:public.t', 'src:snapshot:0/100:1:public.t']);
  });
});

describe('BatchEncoder subjects', () => {
  it('publishes under <prefix>.changes.<source>.<table>, prefix ms unless configured', async () => {
    const sealer = new RowSealer(new LocalKeyProvider([ring]), { source: 'src', kid: 'k1', commitmentAlgorithm: 'hmac-sha256', commitmentKeyVersion: 1 });
    const plain = await encoder().encode(batch([row(1, 'a', 'x')]));
    expect(plain.map((m) => m.subject)).toEqual(['ms.changes.src.public~2Ex']);
    const isolated = new BatchEncoder(sealer, { source: 'src', subjectPrefix: 'e2e1', nowMicros: () => 1n });
    expect((await isolated.encode(batch([row(1, 'a', 'x')]))).map((m) => m.subject)).toEqual(['e2e1.changes.src.public~2Ex']);
  });
});

describe('changeMsgId', () => {
  it('escapes the separator in names only', () => {
    expect(changeMsgId('s', { kind: 'transaction', commitLsn: '0/1', part: 2 }, 'public.a:b~c', 0)).toBe('s:transaction:0/1:2:public.a~3Ab~7Ec');
  });
});
