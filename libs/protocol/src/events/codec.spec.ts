import { create, equals, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkpoint, dataBlock, h, validEvent } from '../../test/fixtures.ts';
import { ProtocolError, type ProtocolErrorCode } from '../errors.ts';
import { DataBlockSchema, RowOperation, SourcePositionSchema } from '../gen/merklesync/v1/common_pb.ts';
import { decodeEvent, encodeEvent, eventSchema, EventKind, newChangeEvent, newEvent, validateEvent, type EventMessages } from './codec.ts';
import { EventLimits } from './limits.ts';

const KINDS = Object.values(EventKind);

function expectCode(fn: () => unknown, code: ProtocolErrorCode, field?: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a ProtocolError').toBeInstanceOf(ProtocolError);
  expect((thrown as ProtocolError).code).toBe(code);
  if (field !== undefined) expect((thrown as ProtocolError).field).toBe(field);
}

/** Validates (and, when it encodes, decodes) a mutated copy of a valid event; expects `code`. */
function expectRejected<K extends EventKind>(kind: K, mutate: (e: EventMessages[K]) => void, code: ProtocolErrorCode, field?: string): void {
  const e = validEvent(kind);
  mutate(e);
  expectCode(() => validateEvent(kind, e), code, field);
  expectCode(() => encodeEvent(kind, e), code, field);
  // The same event arriving from the bus (encoded by a producer that did not validate) is rejected too.
  expectCode(() => decodeEvent(kind, toBinary(eventSchema(kind), e)), code, field);
}

describe('events: round trip', () => {
  it.each(KINDS)('%s encodes, decodes and compares equal', (kind) => {
    const e = validEvent(kind);
    const back = decodeEvent(kind, encodeEvent(kind, e));
    expect(equals(eventSchema(kind), back, e)).toBe(true);
    expect(back.schemaVersion).toBe(1);
  });

  it('accepts a delete (no block, no leaf commitment) and an opaque position', () => {
    const e = newEvent('data-block', { block: dataBlock(RowOperation.DELETE), sequence: 1n });
    expect(decodeEvent('data-block', encodeEvent('data-block', e)).block?.op).toBe(RowOperation.DELETE);
    const c = validEvent('change');
    c.position = create(SourcePositionSchema, { position: { case: 'opaque', value: new Uint8Array([1, 2]) } });
    expect(() => encodeEvent('change', c)).not.toThrow();
  });

  it('ignores unknown fields from newer producers', () => {
    const bytes = encodeEvent('root-update', validEvent('root-update'));
    const withUnknown = new Uint8Array([...bytes, 0x98, 0x06, 0x01]); // field 99 (tag varint 792), varint 1
    expect(decodeEvent('root-update', withUnknown).sequence).toBe(9n);
  });

  it('accepts a successful verification result and a replay that could not run', () => {
    const ok = validEvent('verification-result');
    ok.success = true;
    ok.postRootCalculated = ok.postRootClaimed;
    ok.mismatches = [];
    expect(() => encodeEvent('verification-result', ok)).not.toThrow();
    const failed = validEvent('verification-result');
    failed.postRootCalculated = new Uint8Array(0);
    failed.mismatches = [];
    failed.error = 'relation "x" does not exist';
    expect(() => encodeEvent('verification-result', failed)).not.toThrow();
  });
});

describe('events: versions', () => {
  it.each(KINDS)('%s: unknown schema_version is UNSUPPORTED_VERSION, missing is INVALID_EVENT', (kind) => {
    expectRejected(kind, (e) => (e.schemaVersion = 2), 'UNSUPPORTED_VERSION', 'schema_version');
    expectRejected(kind, (e) => (e.schemaVersion = 0), 'INVALID_EVENT', 'schema_version');
  });

  it('checks the version of every change inside a batch', () => {
    expectRejected('change-batch', (b) => (b.events[0]!.schemaVersion = 7), 'UNSUPPORTED_VERSION', 'events[0].schema_version');
  });
});

describe('events: hash lengths', () => {
  const cases: [EventKind, string, (e: never, v: Uint8Array) => void][] = [
    ['change', 'block.map_key', (e: EventMessages['change'], v) => (e.block!.mapKey = v)],
    ['change', 'block.leaf_commitment', (e: EventMessages['change'], v) => (e.block!.leafCommitment = v)],
    ['root-update', 'table_root', (e: EventMessages['root-update'], v) => (e.tableRoot = v)],
    ['root-update', 'state_root', (e: EventMessages['root-update'], v) => (e.stateRoot = v)],
    ['root-update', 'log_root', (e: EventMessages['root-update'], v) => (e.logRoot = v)],
    ['checkpoint', 'checkpoint.state_root', (e: EventMessages['checkpoint'], v) => (e.checkpoint!.stateRoot = v)],
    ['checkpoint', 'checkpoint.log_root', (e: EventMessages['checkpoint'], v) => (e.checkpoint!.logRoot = v)],
    ['state-commitment', 'pre_root', (e: EventMessages['state-commitment'], v) => (e.preRoot = v)],
    ['state-commitment', 'post_root_claimed', (e: EventMessages['state-commitment'], v) => (e.postRootClaimed = v)],
    ['verification-result', 'pre_root', (e: EventMessages['verification-result'], v) => (e.preRoot = v)],
    ['verification-result', 'post_root_calculated', (e: EventMessages['verification-result'], v) => (e.postRootCalculated = v)],
    ['verification-result', 'mismatches[0].claimed_root', (e: EventMessages['verification-result'], v) => (e.mismatches[0]!.claimedRoot = v)],
    ['verification-result', 'mismatches[0].keys[0].map_key', (e: EventMessages['verification-result'], v) => (e.mismatches[0]!.keys[0]!.mapKey = v)],
    ['verification-result', 'mismatches[0].keys[0].claimed_leaf', (e: EventMessages['verification-result'], v) => (e.mismatches[0]!.keys[0]!.claimedLeaf = v)],
  ];
  it.each(cases)('%s %s: 31 and 33 bytes are rejected', (kind, field, set) => {
    for (const n of [31, 33, 64]) expectRejected(kind, (e) => set(e as never, new Uint8Array(n)), 'INVALID_EVENT', field);
  });
});

describe('events: required fields and rules', () => {
  it('rejects missing sub-messages and empty required fields', () => {
    expectRejected('change', (e) => (e.block = undefined), 'INVALID_EVENT', 'block');
    expectRejected('change', (e) => (e.position = undefined), 'INVALID_EVENT', 'position');
    expectRejected('change', (e) => (e.position = create(SourcePositionSchema)), 'INVALID_EVENT', 'position');
    expectRejected('change', (e) => (e.transactionId = ''), 'INVALID_EVENT', 'transaction_id');
    expectRejected('change', (e) => (e.commitTimeUnixMicros = 0n), 'INVALID_EVENT', 'commit_time_unix_micros');
    expectRejected('change', (e) => (e.block!.source = ''), 'INVALID_EVENT', 'block.source');
    expectRejected('change', (e) => (e.block!.mapKey = new Uint8Array(0)), 'INVALID_EVENT', 'block.map_key');
    expectRejected('change', (e) => (e.block!.block = new Uint8Array(0)), 'INVALID_EVENT', 'block.block');
    expectRejected('change', (e) => (e.block!.rowVersion = 0n), 'INVALID_EVENT', 'block.row_version');
    expectRejected('checkpoint', (e) => (e.checkpoint = undefined), 'INVALID_EVENT', 'checkpoint');
    expectRejected('data-block', (e) => (e.sequence = 0n), 'INVALID_EVENT', 'sequence');
    expectRejected('root-update', (e) => (e.logSize = 2n ** 53n), 'INVALID_EVENT', 'log_size');
    expectRejected('state-commitment', (e) => (e.preState = new Uint8Array(0)), 'INVALID_EVENT', 'pre_state');
    expectRejected('state-commitment', (e) => (e.querySequence = 0n), 'INVALID_EVENT', 'query_sequence');
    expectRejected('verification-result', (e) => (e.transactionId = ''), 'INVALID_EVENT', 'transaction_id');
  });

  it('rejects unset and unknown enum values', () => {
    expectRejected('change', (e) => (e.block!.op = 0), 'INVALID_EVENT', 'block.op');
    expectRejected('change', (e) => (e.block!.op = 9 as RowOperation), 'INVALID_EVENT', 'block.op');
    expectRejected('root-update', (e) => (e.hashSuite = 0), 'INVALID_EVENT', 'hash_suite');
    expectRejected('root-update', (e) => (e.hashSuite = 3 as never), 'INVALID_EVENT', 'hash_suite');
  });

  it('rejects a delete that carries ciphertext or a commitment', () => {
    const del = () => newEvent('data-block', { block: dataBlock(RowOperation.DELETE), sequence: 1n });
    const a = del();
    a.block!.block = new Uint8Array([1]);
    expectCode(() => encodeEvent('data-block', a), 'INVALID_EVENT', 'block.block');
    const b = del();
    b.block!.leafCommitment = h(1);
    expectCode(() => encodeEvent('data-block', b), 'INVALID_EVENT', 'block.leaf_commitment');
  });

  it('accepts a truncate naming only its table, and rejects one that names a row', () => {
    const trunc = () => {
      const c = validEvent('change');
      c.block = create(DataBlockSchema, { source: c.block!.source, table: c.block!.table, rowVersion: 3n, op: RowOperation.TRUNCATE });
      return c;
    };
    expect(decodeEvent('change', encodeEvent('change', trunc())).block?.op).toBe(RowOperation.TRUNCATE);
    for (const [field, set] of [
      ['block.map_key', (c: ReturnType<typeof trunc>) => (c.block!.mapKey = h(1))],
      ['block.leaf_commitment', (c: ReturnType<typeof trunc>) => (c.block!.leafCommitment = h(2))],
      ['block.block', (c: ReturnType<typeof trunc>) => (c.block!.block = new Uint8Array([1]))],
    ] as const) {
      const c = trunc();
      set(c);
      expectCode(() => encodeEvent('change', c), 'INVALID_EVENT', field);
    }
    // Every other operation still needs its 32-byte map key.
    const ins = validEvent('change');
    ins.block!.mapKey = new Uint8Array(0);
    expectCode(() => encodeEvent('change', ins), 'INVALID_EVENT', 'block.map_key');
  });

  it('rejects batches whose events disagree with the header, or bad part numbering', () => {
    expectRejected('change-batch', (b) => (b.events[0]!.block!.table = 'other'), 'INVALID_EVENT', 'events[0].block.table');
    expectRejected('change-batch', (b) => (b.events[0]!.block!.source = 'other'), 'INVALID_EVENT', 'events[0].block.source');
    expectRejected('change-batch', (b) => (b.events[0]!.transactionId = '772'), 'INVALID_EVENT', 'events[0].transaction_id');
    expectRejected(
      'change-batch',
      (b) => (b.events[0]!.position = create(SourcePositionSchema, { position: { case: 'pgLsn', value: 1n } })),
      'INVALID_EVENT',
      'events[0].position',
    );
    expectRejected('change-batch', (b) => (b.events = []), 'INVALID_EVENT', 'events');
    expectRejected('change-batch', (b) => (b.partCount = 0), 'INVALID_EVENT', 'part_count');
    expectRejected('change-batch', (b) => (b.partIndex = 1), 'INVALID_EVENT', 'part_index');
    expectRejected(
      'change-batch',
      (b) => {
        b.partCountPending = true;
        b.partCount = 1;
      },
      'INVALID_EVENT',
      'part_count',
    );
  });

  it('names the field of any bad change inside a batch, past the first, as validating the change alone does', () => {
    // Batch changes that agree with their batch are checked without building field names; any other goes through the
    // full checks. Each mutation below must be caught either way, and named like `validateEvent('change', …)` names it.
    const mutations: [string, (e: EventMessages['change']) => void][] = [
      ['version 0', (e) => (e.schemaVersion = 0)],
      ['version 2', (e) => (e.schemaVersion = 2)],
      ['no block', (e) => (e.block = undefined)],
      ['op unspecified', (e) => (e.block!.op = RowOperation.UNSPECIFIED)],
      ['op unknown', (e) => (e.block!.op = 99 as RowOperation)],
      ['truncate with a key', (e) => (e.block!.op = RowOperation.TRUNCATE)],
      ['row version 0', (e) => (e.block!.rowVersion = 0n)],
      ['short map key', (e) => (e.block!.mapKey = new Uint8Array(31))],
      ['no map key', (e) => (e.block!.mapKey = new Uint8Array(0))],
      ['delete with a leaf', (e) => (e.block!.op = RowOperation.DELETE)],
      ['delete with a block', (e) => {
        e.block!.op = RowOperation.DELETE;
        e.block!.leafCommitment = new Uint8Array(0);
      }],
      ['short leaf', (e) => (e.block!.leafCommitment = new Uint8Array(31))],
      ['no leaf', (e) => (e.block!.leafCommitment = new Uint8Array(0))],
      ['no block bytes', (e) => (e.block!.block = new Uint8Array(0))],
      ['block too big', (e) => (e.block!.block = new Uint8Array(EventLimits.maxBlockBytes + 1))],
      ['no commit time', (e) => (e.commitTimeUnixMicros = 0n)],
      ['no position', (e) => (e.position = undefined)],
    ];
    for (const [what, mutate] of mutations) {
      const alone = validEvent('change');
      mutate(alone);
      let expected: ProtocolError | undefined;
      try {
        validateEvent('change', alone);
      } catch (e) {
        expected = e as ProtocolError;
      }
      expect(expected, what).toBeInstanceOf(ProtocolError);
      const b = validEvent('change-batch');
      b.events = [validEvent('change'), validEvent('change'), validEvent('change')];
      mutate(b.events[1]!);
      expectCode(() => validateEvent('change-batch', b), expected!.code, `events[1].${expected!.field}`);
    }
    // And the changes that must pass: each operation in its valid form.
    const ok = validEvent('change-batch');
    const del = validEvent('change');
    del.block!.op = RowOperation.DELETE;
    del.block!.leafCommitment = new Uint8Array(0);
    del.block!.block = new Uint8Array(0);
    const upd = validEvent('change');
    upd.block!.op = RowOperation.UPDATE;
    const big = validEvent('change');
    big.block!.block = new Uint8Array(EventLimits.maxBlockBytes);
    ok.events = [validEvent('change'), del, upd, big];
    expect(() => validateEvent('change-batch', ok)).not.toThrow();
  });

  it('accepts a part whose count is still pending (part_count 0), at any index', () => {
    const b = validEvent('change-batch');
    b.partCountPending = true;
    b.partCount = 0;
    b.partIndex = 7;
    const back = decodeEvent('change-batch', encodeEvent('change-batch', b));
    expect(back.partCountPending).toBe(true);
    expect(back.partIndex).toBe(7);
  });

  it('rejects a checkpoint whose parsed fields disagree with its note', () => {
    expectRejected('checkpoint', (e) => (e.checkpoint!.origin = 'other/log'), 'INVALID_EVENT', 'checkpoint.origin');
    expectRejected('checkpoint', (e) => (e.checkpoint!.logSize = 43n), 'INVALID_EVENT', 'checkpoint.log_size');
    expectRejected('checkpoint', (e) => (e.checkpoint!.logRoot = h(0xac)), 'INVALID_EVENT', 'checkpoint.log_root');
    expectRejected('checkpoint', (e) => (e.checkpoint!.signedNote = new TextEncoder().encode('no blank line\n')), 'INVALID_EVENT', 'checkpoint.signed_note');
    expectRejected('checkpoint', (e) => (e.checkpoint!.signedNote = new Uint8Array([0xff, 0x0a, 0x0a, 0x41, 0x0a])), 'INVALID_EVENT', 'checkpoint.signed_note');
  });

  it('rejects verification results whose verdict contradicts their roots', () => {
    expectRejected('verification-result', (e) => (e.success = true), 'INVALID_EVENT', 'success');
    expectRejected(
      'verification-result',
      (e) => {
        e.postRootCalculated = e.postRootClaimed;
      },
      'INVALID_EVENT',
      'success',
    );
    expectRejected(
      'verification-result',
      (e) => {
        e.postRootCalculated = new Uint8Array(0);
        e.mismatches = [];
      },
      'INVALID_EVENT',
      'error',
    );
    expectRejected('verification-result', (e) => (e.mismatches[0]!.keys[0]!.calculatedLeaf = h(2)), 'INVALID_EVENT', 'mismatches[0].keys[0]');
  });
});

describe('events: size limits', () => {
  it('rejects oversized messages before decoding', () => {
    expectCode(() => decodeEvent('change', new Uint8Array(EventLimits.maxEventBytes + 1)), 'OVERSIZED');
  });

  it('rejects oversized fields and lists', () => {
    expectRejected('change', (e) => (e.block!.block = new Uint8Array(EventLimits.maxBlockBytes + 1)), 'OVERSIZED', 'block.block');
    expectRejected('change', (e) => (e.block!.table = 't'.repeat(256)), 'OVERSIZED', 'block.table');
    expectRejected('change', (e) => (e.block!.table = '\u00e9'.repeat(128)), 'OVERSIZED', 'block.table'); // 256 UTF-8 bytes
    expectRejected('state-commitment', (e) => (e.warnings = Array.from({ length: 65 }, () => 'w')), 'OVERSIZED', 'warnings');
    expectRejected('checkpoint', (e) => (e.checkpoint!.signedNote = new Uint8Array(EventLimits.maxNoteBytes + 1)), 'OVERSIZED', 'checkpoint.signed_note');
    const big = validEvent('change-batch');
    big.events = Array.from({ length: EventLimits.maxBatchEvents + 1 }, () => big.events[0]!);
    expectCode(() => validateEvent('change-batch', big), 'OVERSIZED', 'events');
  });

  it('rejects an event that validates but encodes above the limit', () => {
    const b = validEvent('change-batch');
    const e = b.events[0]!;
    e.block!.block = new Uint8Array(EventLimits.maxBlockBytes);
    b.events = [e, e, e, e, e];
    expectCode(() => encodeEvent('change-batch', b), 'OVERSIZED');
  });
});

describe('events: garbage', () => {
  it('rejects empty input, invalid wire data and invalid UTF-8 as MALFORMED_EVENT', () => {
    expectCode(() => decodeEvent('change', new Uint8Array(0)), 'MALFORMED_EVENT');
    expectCode(() => decodeEvent('change', new Uint8Array([0xff, 0xff, 0xff])), 'MALFORMED_EVENT');
    expectCode(() => decodeEvent('root-update', new Uint8Array([0x12, 0x02, 0xc3, 0x28])), 'MALFORMED_EVENT'); // source: bad UTF-8
  });

  it('rejects every truncation of a valid encoding, except clean cuts that drop optional trailing fields', () => {
    for (const kind of KINDS) {
      const bytes = encodeEvent(kind, validEvent(kind));
      for (let n = 1; n < bytes.length; n++) {
        const cut = bytes.subarray(0, n);
        let decoded: EventMessages[typeof kind] | undefined;
        try {
          decoded = decodeEvent(kind, cut);
        } catch (e) {
          expect(e, `${kind} truncated to ${n}`).toBeInstanceOf(ProtocolError);
          continue;
        }
        // Accepted only when the cut fell between fields and what it dropped was optional (root-update's
        // block_count): the result is then exactly the message those bytes encode.
        expect(toBinary(eventSchema(kind), decoded)).toEqual(cut);
        expect(kind).toBe('root-update');
      }
    }
  });

  it('never accepts random bytes, and throws nothing but ProtocolError', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), fc.uint8Array({ minLength: 1, maxLength: 300 }), (kind, bytes) => {
        expect(() => decodeEvent(kind, bytes)).toThrow(ProtocolError);
      }),
      { numRuns: 500 },
    );
  });

  it('checks arguments', () => {
    expect(() => decodeEvent('nope' as EventKind, new Uint8Array(1))).toThrow(RangeError);
    expect(() => decodeEvent('change', [1, 2] as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => encodeEvent('change', validEvent('root-update') as never)).toThrow(TypeError);
  });

  it('keeps the fixture checkpoint valid (guards the tests above)', () => {
    expect(() => validateEvent('checkpoint', newEvent('checkpoint', { checkpoint: checkpoint() }))).not.toThrow();
  });
});

describe('events: newChangeEvent', () => {
  const bytes = (max: number) => fc.uint8Array({ maxLength: max });
  const fields = fc.record({
    source: fc.string({ maxLength: 20 }),
    table: fc.string({ maxLength: 20 }),
    mapKey: bytes(40),
    leafCommitment: bytes(40),
    block: bytes(400),
    rowVersion: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    op: fc.constantFrom(RowOperation.SNAPSHOT, RowOperation.INSERT, RowOperation.UPDATE, RowOperation.DELETE, RowOperation.TRUNCATE),
    transactionId: fc.string({ maxLength: 20 }),
    lsn: fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { nil: undefined }),
    commitTimeUnixMicros: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
    changeIndex: fc.nat(),
  });

  it('is the message newEvent creates from the same fields: equal, same keys in the same order, same bytes', () => {
    fc.assert(
      fc.property(fields, ({ lsn, ...f }) => {
        const position = create(SourcePositionSchema, lsn === undefined ? { position: { case: 'opaque', value: f.mapKey } } : { position: { case: 'pgLsn', value: lsn } });
        const { source, table, mapKey, leafCommitment, block, rowVersion, op, ...rest } = f;
        const viaCreate = newEvent('change', { block: { source, table, mapKey, leafCommitment, block, rowVersion, op }, position, ...rest });
        const literal = newChangeEvent({ ...f, position });
        expect(literal).toStrictEqual(viaCreate);
        expect(Object.keys(literal)).toEqual(Object.keys(viaCreate));
        expect(Object.keys(literal.block!)).toEqual(Object.keys(viaCreate.block!));
        expect(equals(eventSchema('change'), literal, viaCreate)).toBe(true);
        expect(toBinary(eventSchema('change'), literal)).toEqual(toBinary(eventSchema('change'), viaCreate));
        // The arrays and the position are used as given, as create uses them.
        expect(literal.block!.block).toBe(block);
        expect(literal.position).toBe(position);
      }),
      { numRuns: 200 },
    );
  });

  it('covers every field of ChangeEvent and DataBlock (a field added to the schema fails here until it is handled)', () => {
    const e = newChangeEvent({
      source: 's', table: 't', mapKey: h(1), leafCommitment: h(2), block: Uint8Array.of(1), rowVersion: 1n, op: RowOperation.INSERT,
      transactionId: 'x', position: create(SourcePositionSchema, { position: { case: 'pgLsn', value: 1n } }), commitTimeUnixMicros: 1n, changeIndex: 0,
    });
    expect(Object.keys(e).filter((k) => k !== '$typeName').sort()).toEqual(eventSchema('change').fields.map((f) => f.localName).sort());
    expect(Object.keys(e.block!).filter((k) => k !== '$typeName').sort()).toEqual(DataBlockSchema.fields.map((f) => f.localName).sort());
    expect(e.schemaVersion).toBe(1);
  });
});
