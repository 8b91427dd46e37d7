// merklesync.v1 messages → REST JSON: byte strings as lowercase hex, proofs in libs/merkle's JSON form.
import { create } from '@bufbuild/protobuf';
import { proofToJson } from '@merklesync/merkle';
import {
  HashSuite,
  ProofSchema,
  RowOperation,
  proofFromMessage,
  type Checkpoint,
  type DataBlock,
  type DiffTreesResponse,
  type LogConsistencyProof,
  type Proof,
  type TableRootProof,
} from '@merklesync/protocol';
import { hex } from '../reads/inputs.ts';
import type { CheckpointDto, DataBlockDto, DiffResponseDto, TableRootProofDto } from './dto/responses.dto.ts';

/** The suite's name. */
export function suiteName(s: HashSuite): string {
  return s === HashSuite.BLAKE3 ? 'blake3' : s === HashSuite.SHA256 ? 'sha256' : 'unspecified';
}

export function checkpointJson(c: Checkpoint): CheckpointDto {
  return {
    sequence: Number(c.sequence),
    origin: c.origin,
    logSize: Number(c.logSize),
    logRoot: hex(c.logRoot),
    stateRoot: hex(c.stateRoot),
    hashSuite: suiteName(c.hashSuite),
    signedNote: new TextDecoder().decode(c.signedNote),
  };
}

export function proofJson(p: Proof): object {
  return proofToJson(proofFromMessage(p));
}

export function consistencyJson(c: LogConsistencyProof): object {
  return proofJson(create(ProofSchema, { proof: { case: 'logConsistency', value: c } }));
}

export function tableRootProofJson(p: TableRootProof): TableRootProofDto {
  return {
    table: p.table,
    tableRoot: hex(p.tableRoot),
    tableIndex: Number(p.tableIndex),
    tableCount: Number(p.tableCount),
    stateRoot: hex(p.stateRoot),
    path: p.path.map(hex),
  };
}

export function blockJson(b: DataBlock): DataBlockDto {
  return {
    source: b.source,
    table: b.table,
    mapKey: hex(b.mapKey),
    leafCommitment: hex(b.leafCommitment),
    block: hex(b.block),
    rowVersion: b.rowVersion.toString(),
    op: Object.entries(RowOperation).find(([, v]) => v === b.op)?.[0] ?? 'UNSPECIFIED',
  };
}

export function diffJson(d: DiffTreesResponse): DiffResponseDto {
  return {
    changedBlocks: d.changedBlocks.map(blockJson),
    deletedKeys: d.deletedKeys.map(hex),
    ...(d.proof === undefined ? {} : { proof: proofJson(create(ProofSchema, { proof: { case: 'mapMulti', value: d.proof } })) }),
  };
}
