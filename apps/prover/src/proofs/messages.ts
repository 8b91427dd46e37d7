// Conversions from the services' results to merklesync.v1 messages (proofs go through libs/protocol's
// proofToMessage, so clients get exactly what libs/merkle verifies).
import { create } from '@bufbuild/protobuf';
import type { HashSuiteName, LogConsistencyProof as MerkleConsistency } from '@merklesync/merkle';
import {
  CheckpointSchema,
  HashSuite,
  LogConsistencyProofSchema,
  TableRootProofSchema,
  proofToMessage,
  type Checkpoint,
  type LogConsistencyProof,
  type TableRootInclusion,
  type TableRootProof,
} from '@merklesync/protocol';
import type { StoredCheckpoint } from '@merklesync/store';

/** The protobuf enum value of a suite name. */
export function suiteToWire(name: HashSuiteName): HashSuite {
  return name === 'blake3' ? HashSuite.BLAKE3 : HashSuite.SHA256;
}

/**
 * The Checkpoint message of a stored checkpoint; the note is authoritative, the parsed fields are copies
 * (origin = the note's first line).
 * @example checkpointToMessage(cp, 'sha256')
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

/** The TableRootProof message of an inclusion. */
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

/** The bare LogConsistencyProof message (GetCheckpointResponse carries it outside a Proof). */
export function consistencyToMessage(p: MerkleConsistency): LogConsistencyProof {
  const m = proofToMessage(p);
  return m.proof.case === 'logConsistency' ? m.proof.value : create(LogConsistencyProofSchema);
}
