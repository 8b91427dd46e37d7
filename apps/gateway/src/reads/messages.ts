// Conversions from store records to merklesync.v1 messages (what both transports return).
import { create } from '@bufbuild/protobuf';
import type { HashSuiteName, LogConsistencyProof as MerkleConsistency } from '@merklesync/merkle';
import {
  CheckpointSchema,
  DataBlockSchema,
  HashSuite,
  LogConsistencyProofSchema,
  TableRootProofSchema,
  proofToMessage,
  type Checkpoint,
  type DataBlock,
  type LogConsistencyProof,
  type TableRootInclusion,
  type TableRootProof,
} from '@merklesync/protocol';
import type { StoredBlock, StoredCheckpoint } from '@merklesync/store';

/** The protobuf enum value of a suite name. */
export function suiteToWire(name: HashSuiteName): HashSuite {
  return name === 'blake3' ? HashSuite.BLAKE3 : HashSuite.SHA256;
}

/**
 * The Checkpoint message of a stored checkpoint (the note is authoritative; origin = its first line).
 * @example checkpointToMessage(cp, 'sha256').sequence
 */
export function checkpointToMessage(cp: StoredCheckpoint, suite: HashSuiteName): Checkpoint {
  const nl = cp.note.indexOf('\n');
  return create(CheckpointSchema, {
    signedNote: new TextEncoder().encode(cp.note),
    origin: nl < 0 ? cp.note : cp.note.slice(0, nl),
    logSize: BigInt(cp.logSize),
    logRoot: cp.logRoot,
    stateRoot: cp.stateRoot,
    sequence: BigInt(cp.seq),
    hashSuite: suiteToWire(suite),
  });
}

/** The TableRootProof message of an inclusion (libs/protocol proveTableRoot). */
export function tableRootProofToMessage(p: TableRootInclusion, suite: HashSuiteName): TableRootProof {
  return create(TableRootProofSchema, {
    hashSuite: suiteToWire(suite),
    table: p.table,
    tableRoot: p.tableRoot,
    tableIndex: BigInt(p.tableIndex),
    tableCount: BigInt(p.tableCount),
    stateRoot: p.stateRoot,
    path: p.path,
  });
}

/** The bare LogConsistencyProof message. */
export function consistencyToMessage(p: MerkleConsistency): LogConsistencyProof {
  const m = proofToMessage(p);
  return m.proof.case === 'logConsistency' ? m.proof.value : create(LogConsistencyProofSchema);
}

/** The DataBlock message of a stored block (a tombstone has no block and no leaf commitment). */
export function blockToMessage(b: StoredBlock): DataBlock {
  return create(DataBlockSchema, {
    source: b.source,
    table: b.table,
    mapKey: b.mapKey,
    leafCommitment: b.leafCommitment ?? new Uint8Array(0),
    block: b.block ?? new Uint8Array(0),
    rowVersion: b.rowVersion,
    op: b.op,
  });
}
