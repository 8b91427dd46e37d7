// Generated ChangeBatch messages for the hand-written encoder's and decoder's property tests: every field over its
// range, edges included — zero values that proto3 omits, varint size boundaries, 2^53 and 64-bit extremes, negative
// and unknown enums, deletes with empty ciphertext and commitment, every SourcePosition form (absent, present but
// empty, pg_lsn incl. 0, opaque incl. empty), strings with 2-, 3- and 4-byte UTF-8, lone surrogates (written as
// U+FFFD), a BOM, empty and long ones, bytes empty, 32 bytes, short and long, absent messages.
import { create } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { DataBlockSchema, RowOperation, SourcePositionSchema } from '../src/gen/merklesync/v1/common_pb.ts';
import { ChangeBatchSchema, ChangeEventSchema, type ChangeBatch } from '../src/gen/merklesync/v1/events_pb.ts';

const u32 = fc.oneof(fc.constantFrom(0, 1, 127, 128, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 31, 2 ** 32 - 1), fc.nat());
const u64 = fc.oneof(
  fc.constantFrom(0n, 1n, 127n, 128n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 56n, 2n ** 63n, 2n ** 64n - 1n),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  fc.bigInt({ min: 1_600_000_000_000_000n, max: 1_900_000_000_000_000n }),
);
const str = fc.oneof(
  fc.constantFrom('', 'pg', 'public.users', 'public.bench_orders', '12345678', 'é', 'naïve', '表', '𝄞', 'a𝄞b€', '\ud800', '\ufeffbom', 'x'.repeat(64), 'y'.repeat(65), 'z'.repeat(300)),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ maxLength: 300 }),
);
const bytes = fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 120, maxLength: 400 }));
const position = fc.option(
  fc.oneof(
    fc.constant(create(SourcePositionSchema, {})),
    u64.map((value) => create(SourcePositionSchema, { position: { case: 'pgLsn', value } })),
    bytes.map((value) => create(SourcePositionSchema, { position: { case: 'opaque', value } })),
  ),
  { nil: undefined },
);
const op = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom(-1, -(2 ** 31), 2 ** 31 - 1, 6));
const block = fc.option(
  fc.oneof(
    fc.record({ source: str, table: str, mapKey: bytes, leafCommitment: bytes, block: bytes, rowVersion: u64, op }),
    fc.record({ source: str, table: str, mapKey: bytes, rowVersion: u64 }).map((b) => ({ ...b, op: RowOperation.DELETE })),
  ).map((b) => create(DataBlockSchema, { ...b, op: b.op as RowOperation })),
  { nil: undefined },
);
const event = fc
  .record({ schemaVersion: u32, block, transactionId: str, position, commitTimeUnixMicros: u64, changeIndex: u32 })
  .map(({ block: b, position: p, ...rest }) => create(ChangeEventSchema, { ...rest, ...(b === undefined ? {} : { block: b }), ...(p === undefined ? {} : { position: p }) }));

/** ChangeBatches with `events.minLength`..`events.maxLength` generated events. */
export function changeBatches(events: { readonly minLength: number; readonly maxLength: number }): fc.Arbitrary<ChangeBatch> {
  return fc
    .record({ schemaVersion: u32, source: str, table: str, transactionId: str, position, partIndex: u32, partCount: u32, events: fc.array(event, events), partCountPending: fc.boolean() })
    .map(({ position: p, ...rest }) => create(ChangeBatchSchema, { ...rest, ...(p === undefined ? {} : { position: p }) }));
}
