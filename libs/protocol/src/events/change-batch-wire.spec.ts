import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataBlockSchema, SourcePositionSchema, type RowOperation } from '../gen/merklesync/v1/common_pb.ts';
import { ChangeBatchSchema, ChangeEventSchema } from '../gen/merklesync/v1/events_pb.ts';
import { _encodeChangeBatch } from './change-batch-wire.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// Any field value the schema admits, edges included (zero values that proto3 omits, varint size boundaries,
// 64-bit extremes, negative enums, non-ASCII and lone-surrogate strings, empty bytes, absent messages).
const u32 = fc.oneof(fc.constantFrom(0, 1, 127, 128, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 32 - 1), fc.nat());
const u64 = fc.oneof(fc.constantFrom(0n, 1n, 127n, 128n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 63n, 2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));
const str = fc.oneof(fc.constantFrom('', 'pg', 'public.users', 'é', '\ud800', '𝄞'), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ maxLength: 300 }));
const bytes = fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 120, maxLength: 400 }));
const position = fc.option(
  fc.oneof(
    fc.constant(create(SourcePositionSchema, {})),
    u64.map((value) => create(SourcePositionSchema, { position: { case: 'pgLsn', value } })),
    bytes.map((value) => create(SourcePositionSchema, { position: { case: 'opaque', value } })),
  ),
  { nil: undefined },
);
const block = fc.option(
  fc.record({ source: str, table: str, mapKey: bytes, leafCommitment: bytes, block: bytes, rowVersion: u64, op: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom(-1, -(2 ** 31), 2 ** 31 - 1)) }).map((b) => create(DataBlockSchema, { ...b, op: b.op as RowOperation })),
  { nil: undefined },
);
const event = fc
  .record({ schemaVersion: u32, block, transactionId: str, position, commitTimeUnixMicros: u64, changeIndex: u32 })
  .map(({ block: b, position: p, ...rest }) => create(ChangeEventSchema, { ...rest, ...(b === undefined ? {} : { block: b }), ...(p === undefined ? {} : { position: p }) }));
const batch = fc
  .record({ schemaVersion: u32, source: str, table: str, transactionId: str, position, partIndex: u32, partCount: u32, events: fc.array(event, { maxLength: 6 }), partCountPending: fc.boolean() })
  .map(({ position: p, ...rest }) => create(ChangeBatchSchema, { ...rest, ...(p === undefined ? {} : { position: p }) }));

describe('ChangeBatch hand-written encoder', () => {
  it('writes exactly the bytes of @bufbuild/protobuf toBinary', () => {
    fc.assert(
      fc.property(batch, (m) => {
        expect(hex(_encodeChangeBatch(m)!)).toBe(hex(toBinary(ChangeBatchSchema, m)));
      }),
      { numRuns: 500 },
    );
  });

  it('leaves messages with unknown fields to toBinary (they round-trip there)', () => {
    const m = create(ChangeBatchSchema, { source: 'pg', events: [create(ChangeEventSchema, { changeIndex: 1 })] });
    const withUnknown = fromBinary(ChangeBatchSchema, Uint8Array.of(...toBinary(ChangeBatchSchema, m), 0xf8, 0x01, 0x05)); // field 31, varint 5
    expect(withUnknown.$unknown?.length).toBe(1);
    expect(_encodeChangeBatch(withUnknown)).toBeUndefined();
    const inner = fromBinary(ChangeBatchSchema, toBinary(ChangeBatchSchema, m));
    inner.events[0]!.$unknown = [{ no: 30, wireType: 0, data: Uint8Array.of(1) }];
    expect(_encodeChangeBatch(inner)).toBeUndefined();
  });

  it('declines values outside the wire types (toBinary reports them)', () => {
    expect(_encodeChangeBatch(create(ChangeBatchSchema, { partIndex: -1 }))).toBeUndefined();
    expect(_encodeChangeBatch(create(ChangeBatchSchema, { events: [create(ChangeEventSchema, { commitTimeUnixMicros: 2n ** 64n })] }))).toBeUndefined();
  });
});
