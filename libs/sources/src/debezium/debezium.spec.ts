import { encodeRow, fromPgText, type PgValue, type ResolvedPgType } from '@merklesync/crypto';
import { describe, expect, it } from 'vitest';
import { DebeziumAssembler, type RecordRef } from './assembler.ts';
import { JsonNumber, parseExactJson } from './json.ts';
import { PoisonRecord, parseDebeziumRecord, type DebeziumRecord } from './record.ts';
import { DEFAULT_VALUE_MODES, ValueDecodeError, decodeValue, type ConnectSchema, type DebeziumValueModes } from './values.ts';

const hex = (v: PgValue): string => Buffer.from(encodeRow({ c: v })).toString('hex');
const num = (t: string): JsonNumber => new JsonNumber(t);
const t = (scalar: ResolvedPgType['scalar'], array = false): ResolvedPgType => ({ scalar, array });
const schema = (type: string, name: string | null = null, parameters: Record<string, string> = {}, items: ConnectSchema | null = null): ConnectSchema => ({ type, name, parameters, items });
const b64 = (bytes: number[]): string => Buffer.from(bytes).toString('base64');

function dec(type: ResolvedPgType, raw: Parameters<typeof decodeValue>[1], s: ConnectSchema | null = null, scale: number | null = null, modes: Partial<DebeziumValueModes> = {}): PgValue {
  return decodeValue({ name: 'c', pgType: type, scale, schema: s }, raw, { ...DEFAULT_VALUE_MODES, ...modes });
}

describe('Debezium value representations → the typed values pgoutput gives', () => {
  it('keeps int8 beyond 2^53 exact (numbers keep their JSON literal when a double could round them)', () => {
    const v = parseExactJson('{"id": 9223372036854775807}') as { id: JsonNumber };
    expect(v.id).toBeInstanceOf(JsonNumber);
    expect(hex(dec(t('int8'), v.id))).toBe(hex(fromPgText('int8', '9223372036854775807')));
    // Short literals take the plain JSON.parse path: the same values.
    const p = parseExactJson('{"i": -42, "f": 1.5, "z": -0.0}') as { i: number; f: number; z: number };
    expect(hex(dec(t('int8'), p.i))).toBe(hex(fromPgText('int8', '-42')));
    expect(hex(dec(t('float8'), p.z))).toBe(hex(fromPgText('float8', '-0')));
    expect(hex(dec(t('numeric'), p.f, schema('double'), 2))).toBe(hex(fromPgText('numeric', '1.50')));
    expect(() => dec(t('int4'), 1.5)).toThrow(/expected an integer/);
  });

  it('decimals: precise (Connect Decimal bytes + schema scale), variable scale struct, string, double', () => {
    const want = hex(fromPgText('numeric', '-12.340'));
    // -12340 as two's complement big-endian: 0xCFCC
    expect(hex(dec(t('numeric'), b64([0xcf, 0xcc]), schema('bytes', 'org.apache.kafka.connect.data.Decimal', { scale: '3' })))).toBe(want);
    expect(hex(dec(t('numeric'), { scale: num('3'), value: b64([0xcf, 0xcc]) }, schema('struct', 'io.debezium.data.VariableScaleDecimal')))).toBe(want);
    expect(hex(dec(t('numeric'), '-12.340', schema('string')))).toBe(want);
    // Schemaless precise needs the column's declared scale.
    expect(hex(dec(t('numeric'), b64([0xcf, 0xcc]), null, 3, { decimal: 'precise' }))).toBe(want);
    expect(() => dec(t('numeric'), b64([0xcf, 0xcc]), null, null, { decimal: 'precise' })).toThrow(ValueDecodeError);
    // double: exact only with the declared scale, padded to it.
    expect(hex(dec(t('numeric'), num('-12.34'), schema('double'), 3))).toBe(want);
    expect(hex(dec(t('numeric'), num('1.0E7'), schema('double'), 2))).toBe(hex(fromPgText('numeric', '10000000.00')));
    expect(() => dec(t('numeric'), num('0.125'), schema('double'), 2)).toThrow(/does not carry/);
    expect(() => dec(t('numeric'), num('1.5'), schema('double'), null)).toThrow(/declared scale/);
    for (const [raw, text] of [['NAN', 'NaN'], ['POSITIVE_INFINITY', 'Infinity'], ['NEGATIVE_INFINITY', '-Infinity'], ['NaN', 'NaN']]) {
      expect(hex(dec(t('numeric'), raw!, schema('string')))).toBe(hex(fromPgText('numeric', text!)));
    }
    expect(hex(dec(t('numeric'), { scale: num('0'), value: b64([0x80]) }, schema('struct', 'io.debezium.data.VariableScaleDecimal')))).toBe(hex(fromPgText('numeric', '-128')));
  });

  it('io.debezium.time.* and org.apache.kafka.connect.data.* time types', () => {
    const ts = fromPgText('timestamp', '2024-02-29 12:34:56.789');
    expect(hex(dec(t('timestamp'), num('1709210096789000'), schema('int64', 'io.debezium.time.MicroTimestamp')))).toBe(hex(ts));
    expect(hex(dec(t('timestamp'), num('1709210096789'), schema('int64', 'io.debezium.time.Timestamp')))).toBe(hex(ts));
    expect(hex(dec(t('timestamp'), num('1709210096789'), schema('int64', 'org.apache.kafka.connect.data.Timestamp')))).toBe(hex(ts));
    expect(hex(dec(t('timestamp'), num('1709210096789000000'), schema('int64', 'io.debezium.time.NanoTimestamp')))).toBe(hex(ts));
    expect(hex(dec(t('timestamp'), num('9223372036825200000'), schema('int64', 'io.debezium.time.Timestamp')))).toBe(hex(fromPgText('timestamp', 'infinity')));
    const tm = fromPgText('time', '04:05:06.789');
    expect(hex(dec(t('time'), num('14706789000'), schema('int64', 'io.debezium.time.MicroTime')))).toBe(hex(tm));
    expect(hex(dec(t('time'), num('14706789'), schema('int32', 'io.debezium.time.Time')))).toBe(hex(tm));
    expect(hex(dec(t('time'), num('14706789'), schema('int32', 'org.apache.kafka.connect.data.Time')))).toBe(hex(tm));
    expect(hex(dec(t('time'), num('14706789000000'), schema('int64', 'io.debezium.time.NanoTime')))).toBe(hex(tm));
    expect(hex(dec(t('time'), num('14706789000')))).toBe(hex(tm)); // schemaless, adaptive_time_microseconds
    expect(hex(dec(t('date'), num('19782'), schema('int32', 'io.debezium.time.Date')))).toBe(hex(fromPgText('date', '2024-02-29')));
    expect(hex(dec(t('date'), num('-2147472691'), schema('int32', 'io.debezium.time.Date')))).toBe(hex(fromPgText('date', '-infinity')));
    expect(hex(dec(t('timestamptz'), '2024-02-29T07:04:56.789000Z', schema('string', 'io.debezium.time.ZonedTimestamp')))).toBe(hex(fromPgText('timestamptz', '2024-02-29 12:34:56.789+05:30')));
    expect(() => dec(t('timetz'), '22:35:06.789Z', schema('string', 'io.debezium.time.ZonedTime'))).toThrow(/offset/);
    expect(hex(dec(t('interval'), 'P1Y2M-3DT4H5M6.7S', schema('string', 'io.debezium.time.Interval')))).toBe(hex(fromPgText('interval', '1 year 2 mons -3 days 04:05:06.7')));
    expect(hex(dec(t('interval'), 'P0Y0M-1DT2H3M0S', schema('string', 'io.debezium.time.Interval')))).toBe(hex(fromPgText('interval', '-1 days +02:03:00')));
    expect(hex(dec(t('interval'), 'P0Y11M13DT0H1M4.714285999S', schema('string', 'io.debezium.time.Interval')))).toBe(hex(fromPgText('interval', '11 mons 13 days 00:01:04.714286')));
    expect(hex(dec(t('interval'), 'P0Y0M0DT0H0M-1.5S', schema('string', 'io.debezium.time.Interval')))).toBe(hex(fromPgText('interval', '-00:00:01.5')));
    expect(() => dec(t('interval'), num('1000'), schema('int64', 'io.debezium.time.MicroDuration'))).toThrow(/interval.handling.mode=string/);
  });

  it('JSON text, bytes in every binary mode, floats, arrays', () => {
    expect(hex(dec(t('jsonb'), '{"b": [1.0, 2e2], "a": 12345678901234567890}', schema('string', 'io.debezium.data.Json')))).toBe(hex(fromPgText('jsonb', '{"a": 12345678901234567890, "b": [1, 200]}')));
    const bytes = fromPgText('bytea', '\\x00ff');
    expect(hex(dec(t('bytea'), 'AP8=', schema('bytes')))).toBe(hex(bytes));
    expect(hex(dec(t('bytea'), '00ff', null, null, { binary: 'hex' }))).toBe(hex(bytes));
    expect(hex(dec(t('bytea'), 'AP8=', null, null, { binary: 'base64-url-safe' }))).toBe(hex(bytes));
    expect(() => dec(t('bytea'), 'zz', null, null, { binary: 'hex' })).toThrow(ValueDecodeError);
    expect(hex(dec(t('float8'), 'NaN'))).toBe(hex(fromPgText('float8', 'NaN')));
    expect(hex(dec(t('float8'), num('-0.0')))).toBe(hex(fromPgText('float8', '-0')));
    expect(hex(dec(t('float4'), num('1.1')))).toBe(hex(fromPgText('float4', '1.1')));
    expect(hex(dec(t('text', true), ['a b', null, '"q"'], schema('array', null, {}, schema('string'))))).toBe(hex(fromPgText('_text', '{"a b",NULL,"\\"q\\""}')));
    expect(hex(dec(t('date', true), [num('19782')], schema('array', null, {}, schema('int32', 'io.debezium.time.Date'))))).toBe(hex(fromPgText('_date', '{2024-02-29}')));
    expect(() => dec(t('int4'), 'x')).toThrow(/expected an integer/);
  });
});

const enc = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o));
const ctx = (topicKind: 'table' | 'transaction' | 'heartbeat') => ({ modes: DEFAULT_VALUE_MODES, topicKind, catalog: () => undefined });
const col = (field: string, type: string, pg: string) => ({ field, type, optional: true, parameters: { '__debezium.source.column.type': pg } });
const rowSchema = { type: 'struct', fields: [{ field: 'before', type: 'struct', fields: [col('id', 'int32', 'INT4'), col('t', 'string', 'TEXT')] }, { field: 'after', type: 'struct', fields: [col('id', 'int32', 'INT4'), col('t', 'string', 'TEXT')] }] };

function change(op: string, id: number, extra: Record<string, unknown> = {}): { key: Uint8Array; value: Uint8Array } {
  const row = { id, t: `v${id}` };
  return {
    key: enc({ schema: { type: 'struct', fields: [{ field: 'id', type: 'int32' }] }, payload: { id } }),
    value: enc({
      schema: rowSchema,
      payload: { before: op === 'd' ? row : null, after: op === 'd' ? null : row, source: { schema: 'public', table: 'x', lsn: 100 + id, ts_us: 5, snapshot: op === 'r' ? 'true' : 'false' }, op, transaction: null, ...extra },
    }),
  };
}

describe('Debezium records', () => {
  it('change events with and without schemas, tombstones, heartbeats, transaction BEGIN/END', () => {
    const c = change('c', 1, { transaction: { id: '77:100', total_order: 1, data_collection_order: 1 } });
    const r = parseDebeziumRecord(c.key, c.value, ctx('table'));
    expect(r).toMatchObject({ kind: 'change', table: 'public.x', xid: '77', totalOrder: 1, snapshot: null, lsn: 101n });
    if (r.kind !== 'change' || r.change.op === 'truncate') throw new Error('expected a row change');
    expect(r.change.op).toBe('insert');
    expect(r.change.row).toEqual({ id: { type: 'int4', value: 1n }, t: { type: 'text', value: 'v1' } });
    // Schemaless: the types come from the catalog.
    const bare = parseDebeziumRecord(enc({ id: 2 }), enc({ before: null, after: { id: 2, t: 'x' }, source: { schema: 'public', table: 'x', lsn: 9 }, op: 'r' }), {
      ...ctx('table'),
      catalog: () => ({ columns: new Map([['id', { pgType: t('int4'), scale: null }], ['t', { pgType: t('varchar'), scale: null }]]), primaryKey: ['id'] }),
    });
    expect(bare).toMatchObject({ kind: 'change', snapshot: 'true', change: { op: 'snapshot', row: { t: { type: 'varchar', value: 'x' } } } });
    expect(() => parseDebeziumRecord(enc({ id: 2 }), enc({ before: null, after: { id: 2 }, source: { schema: 'public', table: 'x', lsn: 9 }, op: 'c' }), ctx('table'))).toThrow(/column type unknown/);
    expect(parseDebeziumRecord(c.key, null, ctx('table'))).toEqual({ kind: 'tombstone' });
    expect(parseDebeziumRecord(null, enc({ ts_ms: 42 }), ctx('heartbeat'))).toEqual({ kind: 'heartbeat', tsMs: 42 });
    expect(parseDebeziumRecord(null, enc({ status: 'BEGIN', id: '77:100', event_count: null, data_collections: null }), ctx('transaction'))).toEqual({ kind: 'tx-begin', xid: '77' });
    const end = parseDebeziumRecord(null, enc({ status: 'END', id: '77:300', event_count: 3, data_collections: [{ data_collection: 'public.x', event_count: 2 }, { data_collection: 'public.y', event_count: 1 }], ts_ms: 7 }), ctx('transaction'));
    expect(end).toMatchObject({ kind: 'tx-end', xid: '77', endLsn: 300n, commitLsn: null, tsMs: 7 });
    expect((end as Extract<DebeziumRecord, { kind: 'tx-end' }>).counts).toEqual(new Map([['public.x', 2], ['public.y', 1]]));
    const poison = (() => {
      try {
        parseDebeziumRecord(c.key, enc({ payload: { before: null, after: { id: 'x' }, source: { schema: 'public', table: 'x', lsn: 1 }, op: 'u', transaction: { id: '78:1', total_order: 2 } }, schema: rowSchema }), ctx('table'));
      } catch (e) {
        return e;
      }
    })();
    expect(poison).toBeInstanceOf(PoisonRecord);
    expect(poison).toMatchObject({ code: 'DECODE', xid: '78', totalOrder: 2 });
  });
});

describe('DebeziumAssembler', () => {
  let offset = 0n;
  const ref = (topic = 'p.public.x'): RecordRef => ({ topic, partition: 0, offset: offset++, done: false });
  const ev = (id: number, xid: string | null, order: number | null, snapshot: string | null = null): Extract<DebeziumRecord, { kind: 'change' }> => ({
    kind: 'change',
    table: 'public.x',
    change: { op: 'insert', schema: 'public', table: 'x', primaryKey: [{ type: 'int4', value: id }], row: { id: { type: 'int4', value: id } } },
    snapshot,
    lsn: BigInt(1000 + id),
    xid,
    totalOrder: order,
    timeMicros: 5n,
  });
  const end = (xid: string, n: number, endLsn: bigint): DebeziumRecord => ({ kind: 'tx-end', xid, endLsn, commitLsn: null, counts: new Map([['public.x', n], ['public.other', 4]]), tsMs: 1 });

  it('seals transactions in END order only when complete, splits them, and frees offsets only with the last part', () => {
    offset = 0n;
    const a = new DebeziumAssembler({ tables: new Set(['public.x']), maxChanges: 2 });
    // END of tx 1 arrives before its events; tx 2 is complete first but must wait for tx 1.
    a.push(ref('p.transaction'), end('1', 3, 0x500n));
    a.push(ref(), ev(1, '1', 1));
    a.push(ref('p.transaction'), end('2', 1, 0x600n));
    a.push(ref(), ev(4, '2', 1));
    expect(a.drain()).toEqual([]);
    a.push(ref(), ev(3, '1', 3));
    a.push(ref(), ev(3, '1', 3)); // a duplicate from an at-least-once Connect restart
    a.push(ref(), ev(2, '1', 2));
    const out = a.drain();
    expect(out.map((b) => [b.xid, b.part, b.last, b.commitLsn, b.changes.length])).toEqual([
      [1, 0, false, '0/500', 2],
      [1, 1, true, '0/500', 1],
      [2, 0, true, '0/600', 1],
    ]);
    expect(out[0]!.changes.map((c) => (c as { primaryKey: { value: number }[] }).primaryKey[0]!.value)).toEqual([1, 2]);
    expect(a.ack(out[0]!)).toEqual([]); // a middle part frees nothing
    expect(a.ack(out[1]!)).toEqual([{ topic: 'p.transaction', partition: 0, offset: '1' }, { topic: 'p.public.x', partition: 0, offset: '2' }]);
    expect(a.ack(out[2]!)).toEqual([{ topic: 'p.transaction', partition: 0, offset: '3' }, { topic: 'p.public.x', partition: 0, offset: '7' }]);
    expect(() => a.ack(out[2]!)).toThrow(/not delivered or already acknowledged/);
    // A late duplicate of a delivered transaction is committable at once.
    a.push(ref(), ev(4, '2', 1));
    expect(a.committable()).toEqual([{ topic: 'p.public.x', partition: 0, offset: '8' }]);
  });

  it('chunks snapshot reads per partition, named by offset range; tombstones and dead-lettered events do not block', () => {
    offset = 10n;
    const a = new DebeziumAssembler({ tables: new Set(['public.x']), maxChanges: 2 });
    for (let i = 0; i < 3; i++) a.push(ref(), ev(i, null, null, 'true'));
    a.push(ref(), { kind: 'tombstone' });
    const snap = a.flushSnapshot();
    expect(snap.map((b) => [b.kind, b.part, b.last, b.sourcePosition, b.changes.length])).toEqual([
      ['snapshot', 0, true, 'p.public.x/0/10-11', 2],
      ['snapshot', 0, true, 'p.public.x/0/12-12', 1],
    ]);
    expect(a.ack(snap[1]!)).toEqual([{ topic: 'p.public.x', partition: 0, offset: '14' }]);
    // A connector without transaction metadata: each streamed event is its own transaction, named by its offset.
    a.push(ref(), ev(5, null, null));
    const single = a.flushSnapshot();
    expect(single.map((b) => [b.kind, b.commitLsn, b.last, b.sourcePosition])).toEqual([['transaction', '0/3ED', true, 'p.public.x/0/14']]);
    expect(a.ack(single[0]!)).toEqual([{ topic: 'p.public.x', partition: 0, offset: '15' }]);
    // A transaction whose only event was dead-lettered: sealed with nothing to deliver, committable.
    a.push(ref('p.transaction'), end('9', 1, 0x900n));
    a.pushPoison(ref(), 'public.x', '9', 1);
    expect(a.drain()).toEqual([]);
    expect(a.emptyTransactions).toBe(1);
    expect(a.committable()).toEqual([{ topic: 'p.public.x', partition: 0, offset: '17' }, { topic: 'p.transaction', partition: 0, offset: '16' }]);
  });
});
