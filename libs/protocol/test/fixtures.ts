// Valid events of every kind, built fresh per call so tests can mutate them.
import { create } from '@bufbuild/protobuf';
import { toBase64 } from '@merklesync/merkle';
import {
  CheckpointSchema,
  DataBlockSchema,
  HashSuite,
  RowOperation,
  SourcePositionSchema,
  type Checkpoint,
  type DataBlock,
} from '../src/gen/merklesync/v1/common_pb.ts';
import { newEvent, type EventKind, type EventMessages } from '../src/events/codec.ts';

export const h = (byte: number): Uint8Array => new Uint8Array(32).fill(byte);

export function dataBlock(op: RowOperation = RowOperation.INSERT): DataBlock {
  const del = op === RowOperation.DELETE;
  return create(DataBlockSchema, {
    source: 'pg-main',
    table: 'public.users',
    mapKey: h(1),
    leafCommitment: del ? new Uint8Array(0) : h(2),
    block: del ? new Uint8Array(0) : new Uint8Array([9, 8, 7, 6, 5]),
    rowVersion: 3n,
    op,
  });
}

export function checkpoint(): Checkpoint {
  const logRoot = h(0xab);
  const note = `ms.example/log\n42\n${toBase64(logRoot)}\nstate ${'cd'.repeat(32)}\nseq 7\n\n\u2014 ms.example/log AAAAAQ==\n`;
  return create(CheckpointSchema, {
    signedNote: new TextEncoder().encode(note),
    origin: 'ms.example/log',
    logSize: 42n,
    logRoot,
    stateRoot: h(0xcd),
    sequence: 7n,
    hashSuite: HashSuite.SHA256,
  });
}

const position = () => create(SourcePositionSchema, { position: { case: 'pgLsn', value: 0x16b3748n } });

export function validEvent<K extends EventKind>(kind: K): EventMessages[K] {
  const change = () => newEvent('change', { block: dataBlock(), transactionId: '771', position: position(), commitTimeUnixMicros: 1_700_000_000_000_000n, changeIndex: 0 });
  const all: { [P in EventKind]: () => EventMessages[P] } = {
    change,
    'change-batch': () =>
      newEvent('change-batch', { source: 'pg-main', table: 'public.users', transactionId: '771', position: position(), partIndex: 0, partCount: 1, events: [change()] }),
    'data-block': () => newEvent('data-block', { block: dataBlock(), sequence: 5n }),
    'root-update': () =>
      newEvent('root-update', {
        source: 'pg-main',
        table: 'public.users',
        hashSuite: HashSuite.SHA256,
        tableRoot: h(3),
        stateRoot: h(4),
        logSize: 10n,
        logRoot: h(5),
        sequence: 9n,
        blockCount: 2n,
      }),
    checkpoint: () => newEvent('checkpoint', { checkpoint: checkpoint() }),
    'state-commitment': () =>
      newEvent('state-commitment', {
        transactionId: 'tx-1',
        querySequence: 12n,
        hashSuite: HashSuite.BLAKE3,
        preRoot: h(6),
        postRootClaimed: h(7),
        preState: new Uint8Array([1, 2, 3]),
        warnings: ['now() is non-deterministic'],
        commitTimeUnixMicros: 1n,
        statements: new Uint8Array([4, 5]),
      }),
    'verification-result': () =>
      newEvent('verification-result', {
        transactionId: 'tx-1',
        querySequence: 12n,
        success: false,
        hashSuite: HashSuite.SHA256,
        preRoot: h(6),
        postRootClaimed: h(7),
        postRootCalculated: h(8),
        mismatches: [{ table: 'public.users', claimedRoot: h(9), calculatedRoot: h(10), keys: [{ mapKey: h(1), claimedLeaf: h(2), calculatedLeaf: new Uint8Array(0) }] }],
        verifiedAtUnixMicros: 2n,
      }),
  };
  return all[kind]();
}
