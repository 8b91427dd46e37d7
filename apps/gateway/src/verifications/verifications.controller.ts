// REST: replay's verdicts by transaction id, and pages of them (newest first). One service call per route.
import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HashSuite, type VerificationResult } from '@merklesync/protocol';
import { ErrorDto } from '../rest/dto/responses.dto.ts';
import { badRequest } from '../errors.ts';
import { VerificationListDto, VerificationResultDto } from './dto/verification.dto.ts';
import { VerificationsService } from './verifications.service.ts';

const _hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The JSON form of a VerificationResult (byte strings as lowercase hex, 64-bit integers as decimal strings). */
export function verificationJson(r: VerificationResult): VerificationResultDto {
  return {
    transactionId: r.transactionId,
    querySequence: r.querySequence.toString(),
    success: r.success,
    hashSuite: r.hashSuite === HashSuite.BLAKE3 ? 'blake3' : 'sha256',
    preRoot: _hex(r.preRoot),
    postRootClaimed: _hex(r.postRootClaimed),
    postRootCalculated: _hex(r.postRootCalculated),
    mismatches: r.mismatches.map((m) => ({
      table: m.table,
      claimedRoot: _hex(m.claimedRoot),
      calculatedRoot: _hex(m.calculatedRoot),
      keys: m.keys.map((k) => ({ mapKey: _hex(k.mapKey), claimedLeaf: _hex(k.claimedLeaf), calculatedLeaf: _hex(k.calculatedLeaf) })),
    })),
    error: r.error,
    verifiedAtUnixMicros: r.verifiedAtUnixMicros.toString(),
  };
}

@ApiTags('verifications')
@Controller('v1/verifications')
export class VerificationsController {
  private readonly verifications: VerificationsService;
  constructor(@Inject(VerificationsService) verifications: VerificationsService) {
    this.verifications = verifications;
  }

  @Get()
  @ApiOperation({ summary: "Replay's verdicts, newest first" })
  @ApiQuery({ name: 'pageSize', required: false, description: '1..1000; absent or 0 = 100' })
  @ApiQuery({ name: 'pageToken', required: false, description: 'nextPageToken of the previous page' })
  @ApiQuery({ name: 'failuresOnly', required: false, description: 'true: only failed verifications' })
  @ApiOkResponse({ type: VerificationListDto })
  @ApiResponse({ status: 400, description: 'INVALID_ARGUMENT', type: ErrorDto })
  @ApiResponse({ status: 503, description: 'UNAVAILABLE', type: ErrorDto })
  async list(@Query('pageSize') pageSize?: string, @Query('pageToken') pageToken?: string, @Query('failuresOnly') failuresOnly?: string): Promise<VerificationListDto> {
    const size = pageSize === undefined || pageSize === '' ? 0 : /^\d{1,4}$/.test(pageSize) ? Number(pageSize) : badRequest('pageSize must be an integer 0..1000');
    if (failuresOnly !== undefined && failuresOnly !== 'true' && failuresOnly !== 'false') badRequest('failuresOnly must be true or false');
    const r = await this.verifications.list(size, pageToken ?? '', failuresOnly === 'true');
    return { results: r.results.map(verificationJson), nextPageToken: r.nextPageToken };
  }

  @Get(':transactionId')
  @ApiOperation({ summary: "Replay's verdict on one transaction of the SQL proxy" })
  @ApiParam({ name: 'transactionId', description: 'Transaction id from the StateCommitmentRecord (URL-encoded)' })
  @ApiOkResponse({ type: VerificationResultDto })
  @ApiResponse({ status: 400, description: 'INVALID_ARGUMENT', type: ErrorDto })
  @ApiResponse({ status: 404, description: 'NOT_FOUND: not verified (yet)', type: ErrorDto })
  @ApiResponse({ status: 503, description: 'UNAVAILABLE', type: ErrorDto })
  async get(@Param('transactionId') transactionId: string): Promise<VerificationResultDto> {
    const r = await this.verifications.get(transactionId);
    return verificationJson(r.result!);
  }
}
