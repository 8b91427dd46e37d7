import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

const HEX32 = { type: String, pattern: '^[0-9a-f]{64}$', example: 'ab'.repeat(32) };
const HEX32_OR_EMPTY = { type: String, pattern: '^([0-9a-f]{64})?$', example: 'ab'.repeat(32) };

export class KeyMismatchDto {
  @ApiProperty({ ...HEX32, description: 'Keyed map key of the row (never the primary key itself)' })
  mapKey!: string;
  @ApiProperty({ ...HEX32_OR_EMPTY, description: 'Leaf commitment in the claimed post-state; empty = row absent there' })
  claimedLeaf!: string;
  @ApiProperty({ ...HEX32_OR_EMPTY, description: 'Leaf commitment replay produced; empty = row absent there' })
  calculatedLeaf!: string;
}

export class TableMismatchDto {
  @ApiProperty({ example: 'public.accounts' })
  table!: string;
  @ApiProperty(HEX32)
  claimedRoot!: string;
  @ApiProperty(HEX32)
  calculatedRoot!: string;
  @ApiProperty({ type: [KeyMismatchDto] })
  keys!: KeyMismatchDto[];
}

export class VerificationResultDto {
  @ApiProperty({ example: 'proxy-0-m3x1k2-17' })
  transactionId!: string;
  @ApiProperty({ description: 'Sequence of the transaction in its proxy instance' })
  querySequence!: string;
  @ApiProperty({ description: 'True iff the replay ran and its post-state root equals the claimed one' })
  success!: boolean;
  @ApiProperty({ enum: ['sha256', 'blake3'] })
  hashSuite!: string;
  @ApiProperty(HEX32)
  preRoot!: string;
  @ApiProperty(HEX32)
  postRootClaimed!: string;
  @ApiProperty({ ...HEX32_OR_EMPTY, description: 'Empty when the replay could not run (see error)' })
  postRootCalculated!: string;
  @ApiProperty({ type: [TableMismatchDto] })
  mismatches!: TableMismatchDto[];
  @ApiProperty({ description: 'Why the replay could not run (a code, statement numbers and SQLSTATEs only); empty otherwise' })
  error!: string;
  @ApiProperty({ description: 'Microseconds since the Unix epoch (UTC), as a decimal string' })
  verifiedAtUnixMicros!: string;
}

export class VerificationListDto {
  @ApiProperty({ type: [VerificationResultDto] })
  results!: VerificationResultDto[];
  @ApiPropertyOptional({ description: 'Token of the next page; empty on the last page' })
  nextPageToken!: string;
}
