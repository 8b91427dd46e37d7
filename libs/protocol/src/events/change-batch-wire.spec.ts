import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { changeBatches } from '../../test/change-batch-arbitraries.ts';
import { ChangeBatchSchema, ChangeEventSchema } from '../gen/merklesync/v1/events_pb.ts';
import { _encodeChangeBatch } from './change-batch-wire.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const batch = changeBatches({ minLength: 0, maxLength: 6 });

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
