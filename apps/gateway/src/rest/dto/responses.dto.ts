// OpenAPI shapes of the REST responses. Byte strings are lowercase hex; uint64 values are JSON numbers
// (every size and sequence stays below 2^53). Proofs use libs/merkle's JSON proof form (libs/merkle/README.md).
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

const HEX32 = { type: String, pattern: '^[0-9a-f]{64}$', example: 'ab'.repeat(32) };

export class RootDto {
  @ApiProperty({ ...HEX32, description: 'The table map root, or the state root' })
  root!: string;
  @ApiProperty({ enum: ['sha256', 'blake3'] })
  hashSuite!: string;
  @ApiProperty({ description: 'Stream sequence of the batch that set it (the highest over all tables for the state root)' })
  sequence!: number;
  @ApiPropertyOptional({ description: 'State root only: number of tables' })
  tableCount?: number;
}

export class CheckpointDto {
  @ApiProperty({ description: 'Checkpoint sequence (>= 1)' })
  sequence!: number;
  @ApiProperty({ description: 'Log origin (first note line)' })
  origin!: string;
  @ApiProperty()
  logSize!: number;
  @ApiProperty(HEX32)
  logRoot!: string;
  @ApiProperty(HEX32)
  stateRoot!: string;
  @ApiProperty({ enum: ['sha256', 'blake3'] })
  hashSuite!: string;
  @ApiProperty({ description: 'The C2SP signed note, the only authoritative field: verify it with libs/crypto verifyCheckpoint' })
  signedNote!: string;
}

export class CheckpointResponseDto {
  @ApiProperty({ type: CheckpointDto })
  checkpoint!: CheckpointDto;
  @ApiPropertyOptional({ type: Object, description: 'libs/merkle JSON log-consistency proof from consistencyFromSize' })
  consistency?: object;
}

export class TableRootProofDto {
  @ApiProperty({ description: 'Table name as hashed into the state tree' })
  table!: string;
  @ApiProperty(HEX32)
  tableRoot!: string;
  @ApiProperty()
  tableIndex!: number;
  @ApiProperty()
  tableCount!: number;
  @ApiProperty(HEX32)
  stateRoot!: string;
  @ApiProperty({ type: [String] })
  path!: string[];
}

export class DataBlockDto {
  @ApiProperty()
  source!: string;
  @ApiProperty()
  table!: string;
  @ApiProperty(HEX32)
  mapKey!: string;
  @ApiProperty({ description: '32 bytes hex; empty for a delete or when unknown' })
  leafCommitment!: string;
  @ApiProperty({ description: 'The ciphertext block (libs/crypto envelope), hex; empty when not available' })
  block!: string;
  @ApiProperty({ description: 'Row version bound into the block AAD (decimal string: uint64)' })
  rowVersion!: string;
  @ApiProperty({ enum: ['INSERT', 'UPDATE', 'DELETE', 'SNAPSHOT', 'UNSPECIFIED'] })
  op!: string;
}

export class BlockResponseDto {
  @ApiPropertyOptional({ type: DataBlockDto, description: 'Absent when the row does not exist at the checkpoint' })
  block?: DataBlockDto;
  @ApiProperty({ type: Object, description: 'libs/merkle JSON map-membership or map-non-membership proof' })
  proof!: object;
  @ApiProperty({ type: TableRootProofDto })
  tableRootProof!: TableRootProofDto;
  @ApiProperty({ type: CheckpointDto })
  checkpoint!: CheckpointDto;
}

export class ProofResponseDto {
  @ApiProperty({ type: Object, description: 'libs/merkle JSON proof (verify with verifyProof / `merklesync verify`)' })
  proof!: object;
  @ApiPropertyOptional({ type: TableRootProofDto })
  tableRootProof?: TableRootProofDto;
  @ApiPropertyOptional({ type: CheckpointDto })
  checkpoint?: CheckpointDto;
}

export class DiffResponseDto {
  @ApiProperty({ type: [DataBlockDto] })
  changedBlocks!: DataBlockDto[];
  @ApiProperty({ type: [String] })
  deletedKeys!: string[];
  @ApiPropertyOptional({ type: Object, description: 'libs/merkle JSON map-multi proof against the newer root' })
  proof?: object;
}

export class ErrorDto {
  @ApiProperty({ enum: ['INVALID_ARGUMENT', 'NOT_FOUND', 'CONFLICT', 'OUT_OF_RANGE', 'TOO_LARGE', 'UNAVAILABLE', 'NOT_IMPLEMENTED', 'INTERNAL'] })
  error!: string;
  @ApiProperty()
  message!: string;
}
