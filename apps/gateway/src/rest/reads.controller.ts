// REST reads: each route parses its parameters (hex, integers) and makes one service call; errors go to
// HttpErrorsFilter. Byte strings are lowercase hex in and out.
import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { create } from '@bufbuild/protobuf';
import { GenerateProofRequestSchema } from '@merklesync/protocol';
import { badRequest } from '../errors.ts';
import { BlocksService } from '../reads/blocks.service.ts';
import { DiffService } from '../reads/diff.service.ts';
import { hex, parseHex, parseUint, u53 } from '../reads/inputs.ts';
import { ProofsService } from '../reads/proofs.service.ts';
import { StateService } from '../reads/state.service.ts';
import {
  BlockResponseDto,
  CheckpointResponseDto,
  DiffResponseDto,
  ErrorDto,
  ProofResponseDto,
  RootDto,
} from './dto/responses.dto.ts';
import { blockJson, checkpointJson, consistencyJson, diffJson, proofJson, suiteName, tableRootProofJson } from './json.ts';
import type { GenerateProofResponse, GetCheckpointResponse } from '@merklesync/protocol';

const SOURCE = { name: 'source', description: 'Source name (URL-encoded)', example: 'pg-main' };
const TABLE = { name: 'table', description: 'Table name (URL-encoded)', example: 'public.users' };
const MAP_KEY = { name: 'mapKey', description: 'Keyed map key, 64 lowercase hex digits' };
const CHECKPOINT_Q = { name: 'checkpoint', required: false, description: 'Checkpoint sequence; 0 or absent = the latest' };
const ERRORS = [
  { status: 400, description: 'INVALID_ARGUMENT / OUT_OF_RANGE', type: ErrorDto },
  { status: 404, description: 'NOT_FOUND', type: ErrorDto },
  { status: 409, description: 'CONFLICT', type: ErrorDto },
  { status: 500, description: 'INTERNAL', type: ErrorDto },
  { status: 503, description: 'UNAVAILABLE', type: ErrorDto },
];

function _errors(): MethodDecorator {
  return (target, key, desc) => {
    for (const e of ERRORS) ApiResponse(e)(target, key, desc);
  };
}

function _checkpointBody(r: GetCheckpointResponse): CheckpointResponseDto {
  if (r.checkpoint === undefined) badRequest('no checkpoint');
  return { checkpoint: checkpointJson(r.checkpoint), ...(r.consistency === undefined ? {} : { consistency: consistencyJson(r.consistency) }) };
}

function _proofBody(r: GenerateProofResponse): ProofResponseDto {
  return {
    proof: r.proof === undefined ? {} : proofJson(r.proof),
    ...(r.tableRootProof === undefined ? {} : { tableRootProof: tableRootProofJson(r.tableRootProof) }),
    ...(r.checkpoint === undefined ? {} : { checkpoint: checkpointJson(r.checkpoint) }),
  };
}

/** The REST API (prefix /v1). */
@ApiTags('merklesync')
@Controller('v1')
export class ReadsController {
  private readonly state: StateService;
  private readonly blocks: BlocksService;
  private readonly diff: DiffService;
  private readonly proofs: ProofsService;

  constructor(
    @Inject(StateService) state: StateService,
    @Inject(BlocksService) blocks: BlocksService,
    @Inject(DiffService) diff: DiffService,
    @Inject(ProofsService) proofs: ProofsService,
  ) {
    this.state = state;
    this.blocks = blocks;
    this.diff = diff;
    this.proofs = proofs;
  }

  @Get('roots')
  @ApiOperation({ summary: 'The current state root (over every table)' })
  @ApiOkResponse({ type: RootDto })
  @_errors()
  async stateRoot(): Promise<RootDto> {
    const r = await this.state.merkleRoot('', '');
    return { root: hex(r.root), hashSuite: suiteName(r.hashSuite), sequence: Number(r.sequence), tableCount: Number(r.blockCount) };
  }

  @Get('roots/:source/:table')
  @ApiOperation({ summary: "One table's current map root" })
  @ApiParam(SOURCE)
  @ApiParam(TABLE)
  @ApiOkResponse({ type: RootDto })
  @_errors()
  async tableRoot(@Param('source') source: string, @Param('table') table: string): Promise<RootDto> {
    const r = await this.state.merkleRoot(source, table);
    return { root: hex(r.root), hashSuite: suiteName(r.hashSuite), sequence: Number(r.sequence) };
  }

  @Get('checkpoints/latest')
  @ApiOperation({ summary: 'The latest signed checkpoint' })
  @ApiQuery({ name: 'consistencyFromSize', required: false, description: 'Also prove the log consistent from this size' })
  @ApiOkResponse({ type: CheckpointResponseDto })
  @_errors()
  async latestCheckpoint(@Query('consistencyFromSize') from?: string): Promise<CheckpointResponseDto> {
    return _checkpointBody(await this.state.checkpoint(undefined, parseUint(from, 'consistencyFromSize', 0n)));
  }

  @Get('checkpoints/:seq')
  @ApiOperation({ summary: 'The checkpoint with this sequence' })
  @ApiParam({ name: 'seq', description: 'Checkpoint sequence (>= 1)' })
  @ApiQuery({ name: 'consistencyFromSize', required: false, description: 'Also prove the log consistent from this size' })
  @ApiOkResponse({ type: CheckpointResponseDto })
  @_errors()
  async checkpoint(@Param('seq') seq: string, @Query('consistencyFromSize') from?: string): Promise<CheckpointResponseDto> {
    const s = parseUint(seq, 'seq', 0n);
    return _checkpointBody(await this.state.checkpoint(s, parseUint(from, 'consistencyFromSize', 0n)));
  }

  @Get('blocks/:source/:table/:mapKey')
  @ApiOperation({ summary: "One row's ciphertext block with its map proof, table-root proof and checkpoint" })
  @ApiParam(SOURCE)
  @ApiParam(TABLE)
  @ApiParam(MAP_KEY)
  @ApiQuery(CHECKPOINT_Q)
  @ApiOkResponse({ type: BlockResponseDto })
  @_errors()
  async block(@Param('source') source: string, @Param('table') table: string, @Param('mapKey') mapKey: string, @Query('checkpoint') cp?: string): Promise<BlockResponseDto> {
    const key = parseHex(mapKey, 'mapKey', 32);
    const r = await this.blocks.getBlock(source, table, key, u53(parseUint(cp, 'checkpoint', 0n), 'checkpoint'));
    return {
      ...(r.block === undefined ? {} : { block: blockJson(r.block) }),
      proof: r.proof === undefined ? {} : proofJson(r.proof),
      tableRootProof: tableRootProofJson(r.tableRootProof!),
      checkpoint: checkpointJson(r.checkpoint!),
    };
  }

  @Get('proofs/map/:source/:table/:mapKey')
  @ApiOperation({ summary: 'Map membership or non-membership proof of one key (from the prover)' })
  @ApiParam(SOURCE)
  @ApiParam(TABLE)
  @ApiParam(MAP_KEY)
  @ApiQuery(CHECKPOINT_Q)
  @ApiQuery({ name: 'mapRoot', required: false, description: 'Prove against this historical map root (64 hex digits) instead' })
  @ApiOkResponse({ type: ProofResponseDto })
  @_errors()
  async mapProof(
    @Param('source') source: string,
    @Param('table') table: string,
    @Param('mapKey') mapKey: string,
    @Query('checkpoint') cp?: string,
    @Query('mapRoot') mapRoot?: string,
  ): Promise<ProofResponseDto> {
    const req = create(GenerateProofRequestSchema, {
      target: { case: 'mapKeys', value: { source, table, mapKeys: [parseHex(mapKey, 'mapKey', 32)] } },
      checkpointSequence: parseUint(cp, 'checkpoint', 0n),
    });
    return _proofBody(await this.proofs.generate(req, mapRoot === undefined || mapRoot === '' ? undefined : parseHex(mapRoot, 'mapRoot', 32)));
  }

  @Get('proofs/log/inclusion')
  @ApiOperation({ summary: 'RFC 9162 inclusion proof of one log leaf' })
  @ApiQuery({ name: 'leafIndex', required: true })
  @ApiQuery({ name: 'treeSize', required: false, description: '0 or absent: the size of the checkpoint' })
  @ApiQuery(CHECKPOINT_Q)
  @ApiOkResponse({ type: ProofResponseDto })
  @_errors()
  async logInclusion(@Query('leafIndex') leafIndex?: string, @Query('treeSize') treeSize?: string, @Query('checkpoint') cp?: string): Promise<ProofResponseDto> {
    if (leafIndex === undefined) badRequest('leafIndex is required');
    const req = create(GenerateProofRequestSchema, {
      target: { case: 'logInclusion', value: { leafIndex: parseUint(leafIndex, 'leafIndex', 0n), treeSize: parseUint(treeSize, 'treeSize', 0n) } },
      checkpointSequence: parseUint(cp, 'checkpoint', 0n),
    });
    return _proofBody(await this.proofs.generate(req, undefined));
  }

  @Get('proofs/log/consistency')
  @ApiOperation({ summary: 'RFC 9162 consistency proof between two log sizes' })
  @ApiQuery({ name: 'size1', required: true })
  @ApiQuery({ name: 'size2', required: false, description: '0 or absent: the size of the checkpoint' })
  @ApiQuery(CHECKPOINT_Q)
  @ApiOkResponse({ type: ProofResponseDto })
  @_errors()
  async logConsistency(@Query('size1') size1?: string, @Query('size2') size2?: string, @Query('checkpoint') cp?: string): Promise<ProofResponseDto> {
    if (size1 === undefined) badRequest('size1 is required');
    const req = create(GenerateProofRequestSchema, {
      target: { case: 'logConsistency', value: { size1: parseUint(size1, 'size1', 0n), size2: parseUint(size2, 'size2', 0n) } },
      checkpointSequence: parseUint(cp, 'checkpoint', 0n),
    });
    return _proofBody(await this.proofs.generate(req, undefined));
  }

  @Get('diff/:source/:table')
  @ApiOperation({ summary: 'Rows changed in one table between two checkpoints (from/to) or two map roots (oldRoot/newRoot)' })
  @ApiParam(SOURCE)
  @ApiParam(TABLE)
  @ApiQuery({ name: 'from', required: false, description: 'Older checkpoint sequence' })
  @ApiQuery({ name: 'to', required: false, description: 'Newer checkpoint sequence; 0 or absent = the latest' })
  @ApiQuery({ name: 'oldRoot', required: false, description: 'Older map root (hex); with newRoot instead of from/to' })
  @ApiQuery({ name: 'newRoot', required: false, description: 'Newer map root (hex)' })
  @ApiOkResponse({ type: DiffResponseDto })
  @_errors()
  async diffTables(
    @Param('source') source: string,
    @Param('table') table: string,
    @Query('from') from?: string,
    @Query('to') to?: string,
    @Query('oldRoot') oldRoot?: string,
    @Query('newRoot') newRoot?: string,
  ): Promise<DiffResponseDto> {
    if (oldRoot !== undefined || newRoot !== undefined) {
      if (oldRoot === undefined || newRoot === undefined || from !== undefined || to !== undefined) badRequest('give oldRoot and newRoot, or from (and to)');
      return diffJson(await this.diff.diffRoots(source, table, parseHex(oldRoot, 'oldRoot', 32), parseHex(newRoot, 'newRoot', 32)));
    }
    if (from === undefined) badRequest('from (a checkpoint sequence) or oldRoot/newRoot is required');
    const f = u53(parseUint(from, 'from', 0n), 'from');
    if (f === 0) badRequest('from must be >= 1');
    return diffJson(await this.diff.diffCheckpoints(source, table, f, u53(parseUint(to, 'to', 0n), 'to')));
  }
}
