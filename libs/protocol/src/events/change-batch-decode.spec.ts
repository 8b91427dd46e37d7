import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { changeBatches } from '../../test/change-batch-arbitraries.ts';
import { validEvent } from '../../test/fixtures.ts';
import { ProtocolError } from '../errors.ts';
import { DataBlockSchema, RowOperation, SourcePositionSchema } from '../gen/merklesync/v1/common_pb.ts';
import { ChangeBatchSchema, ChangeEventSchema, type ChangeBatch } from '../gen/merklesync/v1/events_pb.ts';
import { _decodeChangeBatch } from './change-batch-decode.ts';
import { _encodeChangeBatch } from './change-batch-wire.ts';
import { decodeEvent, encodeEvent } from './codec.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const utf8 = (s: string): number[] => [...new TextEncoder().encode(s)];
// protobuf-es's zero values of the bytes fields: one instance per field, shared by every message
const ZERO = create(DataBlockSchema);
const EMPTY = new Map<Uint8Array, string>([[ZERO.mapKey, 'mapKey'], [ZERO.leafCommitment, 'leafCommitment'], [ZERO.block, 'block']]);

// Wire-format writers for hand-made encodings (non-canonical orders, repeats, unknown fields).
function varint(v: bigint | number): number[] {
  let x = BigInt(v);
  const out: number[] = [];
  for (; x >= 0x80n; x >>= 7n) out.push(Number(x & 0x7fn) | 0x80);
  out.push(Number(x));
  return out;
}
const vint = (no: number, v: bigint | number): number[] => [...varint(no << 3), ...varint(v)];
const lenf = (no: number, body: ArrayLike<number>): number[] => [...varint((no << 3) | 2), ...varint(body.length), ...Array.from(body)];
const u8 = (...parts: number[][]): Uint8Array => Uint8Array.from(parts.flat());

/** Key order, prototypes, primitive types and bytes identity (view into the input / shared empty) of a decoded value. */
function shape(v: unknown, input: Uint8Array): unknown {
  if (v instanceof Uint8Array) {
    return { type: v.constructor.name, view: v.buffer === input.buffer, offset: v.byteOffset, length: v.length, sharedEmpty: EMPTY.get(v) };
  }
  if (Array.isArray(v)) return v.map((x) => shape(x, input));
  if (typeof v === 'object' && v !== null) {
    return { plain: Object.getPrototypeOf(v) === Object.prototype, entries: Object.entries(v).map(([k, x]) => [k, shape(x, input)]) };
  }
  return [typeof v, typeof v === 'bigint' ? String(v) : v];
}

/** The decoder must return exactly fromBinary's message: values, shape, and the bytes toBinary writes of it. */
function expectSame(bytes: Uint8Array): ChangeBatch {
  const want = fromBinary(ChangeBatchSchema, bytes);
  const got = _decodeChangeBatch(bytes);
  expect(got, 'declined a message it models').toBeDefined();
  expect(got).toStrictEqual(want);
  expect(shape(got, bytes)).toStrictEqual(shape(want, bytes));
  expect(hex(toBinary(ChangeBatchSchema, got!))).toBe(hex(toBinary(ChangeBatchSchema, want)));
  return got!;
}

/** Either undefined, or exactly fromBinary's message; undefined whenever fromBinary throws. */
function expectSameOrDeclined(bytes: Uint8Array): 'same' | 'declined' | 'both-reject' {
  let want: ChangeBatch | undefined;
  try {
    want = fromBinary(ChangeBatchSchema, bytes);
  } catch {
    want = undefined;
  }
  const got = _decodeChangeBatch(bytes);
  if (want === undefined) {
    expect(got, `fromBinary rejects ${hex(bytes)}`).toBeUndefined();
    return 'both-reject';
  }
  if (got === undefined) return 'declined';
  expect(got).toStrictEqual(want);
  expect(shape(got, bytes)).toStrictEqual(shape(want, bytes));
  return 'same';
}

const batch = changeBatches({ minLength: 1, maxLength: 50 });

// The length-delimited fields that are messages, per message: batch (5 position, 8 event), event (2 block, 4 position).
type Nested = ReadonlyMap<number, Nested>;
const POSITION: Nested = new Map();
const BLOCK: Nested = new Map();
const EVENT: Nested = new Map([[2, BLOCK], [4, POSITION]]);
const BATCH: Nested = new Map([[5, POSITION], [8, EVENT]]);

/** The records of a (canonical, varint and length-delimited only) encoding, each message field's body reordered too. */
function reorder(b: Uint8Array, nested: Nested, rnd: () => number): Uint8Array {
  const recs: number[][] = [];
  for (let p = 0; p < b.length; ) {
    const start = p;
    let tag = 0;
    for (let s = 0; ; s += 7) {
      const c = b[p++]!;
      tag |= (c & 0x7f) << s;
      if (c < 0x80) break;
    }
    if ((tag & 7) === 0) {
      while (b[p++]! >= 0x80);
      recs.push(Array.from(b.subarray(start, p)));
      continue;
    }
    let n = 0;
    for (let s = 0; ; s += 7) {
      const c = b[p++]!;
      n += (c & 0x7f) * 2 ** s;
      if (c < 0x80) break;
    }
    const body = b.subarray(p, p + n);
    p += n;
    const inner = nested.get(tag >>> 3);
    recs.push(inner === undefined ? Array.from(b.subarray(start, p)) : lenf(tag >>> 3, reorder(body, inner, rnd)));
  }
  for (let i = recs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [recs[i], recs[j]] = [recs[j]!, recs[i]!];
  }
  return Uint8Array.from(recs.flat());
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A realistic batch: n changes of one transaction to one table. */
function realistic(n: number, table = 'public.bench_orders'): ChangeBatch {
  const position = () => create(SourcePositionSchema, { position: { case: 'pgLsn', value: 0x1_6b37_4800n } });
  return create(ChangeBatchSchema, {
    schemaVersion: 1,
    source: 'pg',
    table,
    transactionId: '12345678',
    position: position(),
    partIndex: 0,
    partCount: 1,
    events: Array.from({ length: n }, (_, i) =>
      create(ChangeEventSchema, {
        schemaVersion: 1,
        block: create(DataBlockSchema, {
          source: 'pg',
          table,
          mapKey: new Uint8Array(32).fill(i),
          leafCommitment: new Uint8Array(32).fill(i + 1),
          block: new Uint8Array(300).fill(i + 2),
          rowVersion: BigInt(i + 1),
          op: RowOperation.UPDATE,
        }),
        transactionId: '12345678',
        position: position(),
        commitTimeUnixMicros: 1_700_000_000_000_000n + BigInt(i),
        changeIndex: i,
      }),
    ),
  });
}

describe('ChangeBatch hand-written decoder: equal to fromBinary', () => {
  it('decodes generated batches encoded by toBinary and by the hand encoder exactly as fromBinary does', () => {
    fc.assert(
      fc.property(batch, (m) => {
        const viaToBinary = toBinary(ChangeBatchSchema, m);
        expectSame(viaToBinary);
        const viaHand = _encodeChangeBatch(m)!;
        expect(hex(viaHand)).toBe(hex(viaToBinary));
        expectSame(viaHand);
      }),
      { numRuns: 300 },
    );
  });

  it('decodes fields in any order (header, events, blocks and positions shuffled)', () => {
    fc.assert(
      fc.property(batch, fc.integer(), (m, seed) => {
        expectSame(reorder(toBinary(ChangeBatchSchema, m), BATCH, mulberry32(seed)));
      }),
      { numRuns: 200 },
    );
  });

  it('decodes a realistic batch, reading the bytes as views into the input (as fromBinary does)', () => {
    const bytes = toBinary(ChangeBatchSchema, realistic(500));
    const got = expectSame(bytes);
    const b = got.events[7]!.block!;
    expect(b.block.buffer).toBe(bytes.buffer);
    expect(b.mapKey.byteOffset).toBe(fromBinary(ChangeBatchSchema, bytes).events[7]!.block!.mapKey.byteOffset);
  });

  it('gives absent bytes fields protobuf-es own shared empty array, and present empty ones a view', () => {
    const m = create(ChangeBatchSchema, {
      schemaVersion: 1,
      events: [create(ChangeEventSchema, { block: create(DataBlockSchema, { mapKey: new Uint8Array(32), op: RowOperation.DELETE }), position: create(SourcePositionSchema, { position: { case: 'opaque', value: new Uint8Array(0) } }) })],
    });
    const bytes = toBinary(ChangeBatchSchema, m);
    const got = expectSame(bytes);
    expect(got.events[0]!.block!.block).toBe(ZERO.block);
    expect(got.events[0]!.block!.leafCommitment).toBe(ZERO.leafCommitment);
    const opaque = got.events[0]!.position!.position.value as Uint8Array;
    expect(opaque.length).toBe(0);
    expect(opaque.buffer).toBe(bytes.buffer);
  });

  it('keeps the input type of bytes fields (Buffer in, Buffer views out, as fromBinary)', () => {
    const got = expectSame(Buffer.from(toBinary(ChangeBatchSchema, realistic(3))));
    expect(Buffer.isBuffer(got.events[0]!.block!.block)).toBe(true);
  });

  it('reads 64-bit values exactly, around 2^53 and up to 2^64 - 1', () => {
    for (const v of [1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 56n - 1n, 2n ** 63n + 5n, 2n ** 64n - 1n]) {
      const got = expectSame(u8(lenf(8, [...vint(5, v), ...lenf(2, vint(6, v)), ...lenf(4, vint(1, v))])));
      expect(got.events[0]!.commitTimeUnixMicros).toBe(v);
      expect(got.events[0]!.block!.rowVersion).toBe(v);
      expect(got.events[0]!.position!.position.value).toBe(v);
    }
  });

  it('reads non-canonical varints as fromBinary does (over-long zeros, 10 bytes into a uint32, negative enums)', () => {
    expectSame(u8([0x08, 0x81, 0x80, 0x80, 0x00])); // schema_version 1 in 4 bytes
    expectSame(u8([0x30, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])); // part_index: the low 32 bits
    expectSame(u8(lenf(8, lenf(2, vint(7, 2n ** 64n - 1n))))); // op = -1
    expectSame(u8(lenf(8, lenf(2, [0x38, 0x80, 0x80, 0x80, 0x80, 0x08])))); // op = 2^31 as int32
    expectSame(u8([0x48, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])); // bool true via bit 63
    expect(expectSameOrDeclined(u8([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]))).toBe('both-reject'); // 11 bytes
  });
});

describe('ChangeBatch hand-written decoder: repeats, unknown fields, invalid input', () => {
  it('takes the last of a repeated scalar, string or oneof member (proto3: last one wins)', () => {
    const got = expectSame(u8(vint(1, 1), lenf(2, utf8('a')), vint(1, 2), lenf(2, utf8('b')), lenf(8, [...vint(6, 5), ...vint(6, 7), ...lenf(4, [...vint(1, 9), ...lenf(2, [1, 2])])])));
    expect(got.schemaVersion).toBe(2);
    expect(got.source).toBe('b');
    expect(got.events[0]!.changeIndex).toBe(7);
    expect(got.events[0]!.position!.position).toStrictEqual({ case: 'opaque', value: Uint8Array.of(1, 2) });
  });

  it('merges a message field that occurs twice, as protobuf does', () => {
    const first = lenf(2, [...lenf(1, utf8('pg')), ...lenf(3, [1, 1]), ...vint(6, 4)]);
    const second = lenf(2, [...lenf(2, utf8('t')), ...lenf(3, [2, 2]), ...vint(7, 3)]);
    const got = expectSame(u8(lenf(8, [...first, ...lenf(4, vint(1, 5)), ...second, ...lenf(4, [])]), lenf(5, vint(1, 1)), lenf(5, lenf(2, [7]))));
    expect(got.events[0]!.block).toMatchObject({ source: 'pg', table: 't', mapKey: Uint8Array.of(2, 2), rowVersion: 4n, op: 3 });
    expect(got.events[0]!.position!.position).toStrictEqual({ case: 'pgLsn', value: 5n });
    expect(got.position!.position).toStrictEqual({ case: 'opaque', value: Uint8Array.of(7) });
    expect(Object.keys(expectSame(u8(lenf(8, [...lenf(4, []), ...lenf(2, []), ...lenf(4, [])]))).events[0]!)).toStrictEqual(['$typeName', 'schemaVersion', 'transactionId', 'commitTimeUnixMicros', 'changeIndex', 'position', 'block']);
  });

  it('declines unknown fields anywhere; decodeEvent then returns fromBinary result with $unknown kept', () => {
    const valid = validEvent('change-batch');
    const unknown = [0xf8, 0x01, 0x05]; // field 31, varint 5
    const header = toBinary(ChangeBatchSchema, { ...valid, events: [] });
    const event = Array.from(toBinary(ChangeEventSchema, valid.events[0]!));
    const cases = [
      u8(Array.from(encodeEvent('change-batch', valid)), unknown),
      u8(Array.from(header), lenf(8, [...event, ...unknown])),
      u8(Array.from(header), lenf(8, [...event, ...lenf(2, [...Array.from(toBinary(DataBlockSchema, valid.events[0]!.block!)), ...unknown])])),
      u8(Array.from(header), lenf(8, [...event, ...lenf(4, [...vint(1, 0x16b3748), ...unknown])])),
    ];
    for (const bytes of cases) {
      expect(_decodeChangeBatch(bytes)).toBeUndefined();
      const decoded = decodeEvent('change-batch', bytes);
      expect(decoded).toStrictEqual(fromBinary(ChangeBatchSchema, bytes));
    }
    expect(decodeEvent('change-batch', cases[0]!).$unknown).toStrictEqual([{ no: 31, wireType: 0, data: Uint8Array.of(5) }]);
    expect(decodeEvent('change-batch', cases[1]!).events[0]!.$unknown?.length).toBe(1);
  });

  it('declines other wire types, groups and multi-byte tags of known fields', () => {
    for (const bytes of [
      u8([0x0a, 0x01, 0x01]), // schema_version as length-delimited
      u8([0x10, 0x01]), // source as varint
      u8([0x0d, 1, 2, 3, 4]), // fixed32
      u8([0x0b, 0x0c]), // group 1
      u8([0x88, 0x00, 0x01]), // field 1 in a two-byte tag
      u8([0x00, 0x01]), // field 0
      u8(lenf(8, [0x0a, 0x01, 0x01])),
    ]) {
      expect(_decodeChangeBatch(bytes)).toBeUndefined();
      expectSameOrDeclined(bytes);
    }
  });

  it('declines a nested field that runs past its message (fromBinary only checks the end of the input)', () => {
    const bytes = u8([0x42, 0x02, 0x1a, 0x03, 0x61, 0x62, 0x63]); // event of length 2 holding a 3-byte string
    expect(_decodeChangeBatch(bytes)).toBeUndefined();
    expect(fromBinary(ChangeBatchSchema, bytes).events[0]!.transactionId).toBe('abc'); // protobuf-es accepts it
  });

  it('rejects invalid UTF-8 in any string field: undefined here, MALFORMED_EVENT from decodeEvent', () => {
    const bad = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [...utf8('x'.repeat(70)), 0x80]];
    const valid = validEvent('change-batch');
    const header = Array.from(toBinary(ChangeBatchSchema, { ...valid, events: [] }));
    const event = Array.from(toBinary(ChangeEventSchema, valid.events[0]!));
    for (const s of bad) {
      for (const bytes of [u8(header, lenf(3, s)), u8(header, lenf(8, [...event, ...lenf(3, s)])), u8(header, lenf(8, [...event, ...lenf(2, lenf(2, s))]))]) {
        expect(_decodeChangeBatch(bytes)).toBeUndefined();
        expect(() => fromBinary(ChangeBatchSchema, bytes)).toThrow();
        let thrown: unknown;
        try {
          decodeEvent('change-batch', bytes);
        } catch (e) {
          thrown = e;
        }
        expect(thrown).toBeInstanceOf(ProtocolError);
        expect((thrown as ProtocolError).code).toBe('MALFORMED_EVENT');
      }
    }
  });

  it('keeps a leading U+FEFF and decodes 2-, 3- and 4-byte UTF-8, short and long', () => {
    for (const s of ['\ufeffpg', 'é', '€uro', '𝄞', `${'a'.repeat(63)}é`, `${'b'.repeat(100)}𝄞`, 'x'.repeat(64), 'y'.repeat(65)]) {
      expect(expectSame(u8(lenf(2, utf8(s)))).source).toBe(s);
    }
  });

  it('returns undefined or fromBinary result for every truncation of a valid batch (and undefined where it throws)', () => {
    const m = realistic(3);
    m.events[1]!.position = create(SourcePositionSchema, { position: { case: 'opaque', value: Uint8Array.of(1, 2, 3) } });
    m.events[2]!.block!.table = 'tàble𝄞';
    m.events[2]!.commitTimeUnixMicros = 2n ** 64n - 1n;
    m.partCountPending = true;
    const bytes = toBinary(ChangeBatchSchema, m);
    const seen = new Set<string>();
    for (let n = 0; n < bytes.length; n++) seen.add(expectSameOrDeclined(bytes.subarray(0, n)));
    expect(seen).toContain('both-reject');
    expect(seen).toContain('same'); // cuts at field boundaries are valid batches
  });

  it('returns undefined or fromBinary result for random bytes and for mutated valid batches', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => void expectSameOrDeclined(b)),
      { numRuns: 3000 },
    );
    const valid = toBinary(ChangeBatchSchema, realistic(2, 'tàble'));
    fc.assert(
      fc.property(fc.nat(valid.length - 1), fc.nat(255), fc.nat(valid.length), (at, byte, cut) => {
        const b = valid.slice(0, Math.max(cut, at + 1));
        b[at] = byte;
        expectSameOrDeclined(b);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('ChangeBatch hand-written decoder: string cache', () => {
  it('decodes events with different table names in one batch', () => {
    const m = realistic(4);
    m.events[1]!.block!.table = 'public.users';
    m.events[2]!.block!.table = 'public.bench_orderz';
    m.events[3]!.transactionId = '12345679';
    const got = expectSame(toBinary(ChangeBatchSchema, m));
    expect(got.events.map((e) => e.block!.table)).toStrictEqual(['public.bench_orders', 'public.users', 'public.bench_orderz', 'public.bench_orders']);
    expect(got.events.map((e) => e.transactionId)).toStrictEqual(['12345678', '12345678', '12345678', '12345679']);
  });

  it('does not reuse a cached string whose bytes differ in the last byte, within and across calls', () => {
    const a = toBinary(ChangeBatchSchema, realistic(2, 'public.orders_a'));
    const b = toBinary(ChangeBatchSchema, realistic(2, 'public.orders_b'));
    expect(expectSame(a).events[1]!.block!.table).toBe('public.orders_a');
    expect(expectSame(b).events[1]!.block!.table).toBe('public.orders_b');
    const one = realistic(2, 'x'.repeat(40) + 'é');
    one.events[1]!.block!.table = 'x'.repeat(40) + 'è'; // same length, last UTF-8 byte differs
    expect(expectSame(toBinary(ChangeBatchSchema, one)).events.map((e) => e.block!.table)).toStrictEqual(['x'.repeat(40) + 'é', 'x'.repeat(40) + 'è']);
  });

  it('is not fooled by a caller that reuses the input buffer', () => {
    const buf = toBinary(ChangeBatchSchema, realistic(1, 'public.orders_a'));
    expect(_decodeChangeBatch(buf)!.table).toBe('public.orders_a');
    const name = utf8('public.orders_a');
    let replaced = 0;
    for (let i = 0; i + name.length <= buf.length; i++) {
      if (name.every((c, j) => buf[i + j] === c)) {
        buf[i + name.length - 1] = 'c'.charCodeAt(0); // the same buffer, now naming another table
        replaced++;
      }
    }
    expect(replaced).toBe(2); // header and block
    const got = expectSame(buf);
    expect([got.table, got.events[0]!.block!.table]).toStrictEqual(['public.orders_c', 'public.orders_c']);
  });
});

describe('decodeEvent with the hand-written decoder', () => {
  it('decodes and validates a valid batch as before', () => {
    const valid = validEvent('change-batch');
    const bytes = encodeEvent('change-batch', valid);
    expect(decodeEvent('change-batch', bytes)).toStrictEqual(fromBinary(ChangeBatchSchema, bytes));
    expect(decodeEvent('change-batch', toBinary(ChangeBatchSchema, realistic(5))).events).toHaveLength(5);
  });
});
