// Conversions from plain values (store records, libs/merkle proofs, table-root inclusions) to merklesync.v1
// messages: what the prover and the gateway both return, built in one place so the two cannot drift.
import { create } from '@bufbuild/protobuf';
import type { HashSuiteName, LogConsistencyProof as MerkleConsistency } from '@merklesync/merkle';
import { CheckpointSchema, HashSuite, type Checkpoint } from './gen/merklesync/v1/common_pb.ts';
import { LogConsistencyProofSchema, TableRootProofSchema, type LogConsistencyProof, type TableRootProof } from './gen/merklesync/v1/proofs_pb.ts';
import { proofToMessage } from './proofs.ts';
import type { TableRootInclusion } from './state-root.ts';

/** The fields of a stored signed checkpoint that its message carries (libs/store's StoredCheckpoint fits). */
export interface CheckpointFields {
  /** The signed note text (C2SP signed-note); authoritative, the other fields are copies of what it commits to. */
  readonly note: string;
  /** Checkpoint sequence number. */
  readonly seq: number;
  /** Log size the note commits to. */
  readonly logSize: number;
  readonly logRoot: Uint8Array;
  readonly stateRoot: Uint8Array;
}

/**
 * The protobuf enum value of a suite name.
 * @example suiteToWire('blake3') // HashSuite.BLAKE3
 */
export function suiteToWire(name: HashSuiteName): HashSuite {
  return name === 'blake3' ? HashSuite.BLAKE3 : HashSuite.SHA256;
}

/**
 * The Checkpoint message of a stored checkpoint; the note is authoritative, the parsed fields are copies
 * (origin = the note's first line).
 * @example checkpointToMessage(cp, 'sha256').sequence
 */
export function checkpointToMessage(cp: CheckpointFields, suite: HashSuiteName): Checkpoint {
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

/**
 * The TableRootProof message of an inclusion ({@link proveTableRoot}).
 * @example tableRootProofToMessage(proveTableRoot(getHashSuite('sha256'), tables, 'pg', 'public.users')!, 'sha256')
 */
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

/**
 * The bare LogConsistencyProof message (GetCheckpointResponse carries it outside a Proof).
 * @example consistencyToMessage(proveLogConsistency(log, 4)).path
 */
export function consistencyToMessage(p: MerkleConsistency): LogConsistencyProof {
  const m = proofToMessage(p);
  return m.proof.case === 'logConsistency' ? m.proof.value : create(LogConsistencyProofSchema);
}
