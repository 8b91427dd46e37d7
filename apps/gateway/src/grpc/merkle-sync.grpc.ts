// The merklesync.v1.MerkleSyncService handlers: each translates the request and makes one service call.
// Errors are mapped once, by errorInterceptor (grpc-errors.ts).
import type { ServiceImpl } from '@connectrpc/connect';
import { Inject, Injectable } from '@nestjs/common';
import type { MerkleSyncService } from '@merklesync/protocol';
import { GatewayError, GatewayErrorCode } from '../errors.ts';
import { BlocksService } from '../reads/blocks.service.ts';
import { DiffService } from '../reads/diff.service.ts';
import { u53 } from '../reads/inputs.ts';
import { ProofsService } from '../reads/proofs.service.ts';
import { StateService } from '../reads/state.service.ts';
import { SyncService } from '../reads/sync.service.ts';
import { VerificationsService } from '../verifications/verifications.service.ts';

const SUBMIT_REFUSED =
  'SubmitBlock is not served: ingest is the only writer (rows enter from the source database through logical replication, are encrypted and committed by apps/ingest, applied by apps/merkle); write to the source database instead';

/**
 * The service implementation for connect's router.
 * @example router.service(MerkleSyncService, app.get(MerkleSyncGrpc).impl())
 */
@Injectable()
export class MerkleSyncGrpc {
  private readonly state: StateService;
  private readonly blocks: BlocksService;
  private readonly diff: DiffService;
  private readonly sync: SyncService;
  private readonly proofs: ProofsService;
  private readonly verifications: VerificationsService;

  constructor(
    @Inject(StateService) state: StateService,
    @Inject(BlocksService) blocks: BlocksService,
    @Inject(DiffService) diff: DiffService,
    @Inject(SyncService) sync: SyncService,
    @Inject(ProofsService) proofs: ProofsService,
    @Inject(VerificationsService) verifications: VerificationsService,
  ) {
    this.state = state;
    this.blocks = blocks;
    this.diff = diff;
    this.sync = sync;
    this.proofs = proofs;
    this.verifications = verifications;
  }

  /** Every method of MerkleSyncService. */
  impl(): ServiceImpl<typeof MerkleSyncService> {
    return {
      submitBlock: () => Promise.reject(new GatewayError(GatewayErrorCode.NotImplemented, SUBMIT_REFUSED)),
      getMerkleRoot: (r) => this.state.merkleRoot(r.source, r.table),
      generateProof: (r) => this.proofs.generate(r, undefined),
      verifyProof: (r) => this.proofs.verify(r),
      diffTrees: (r) => this.diff.diffRoots(r.source, r.table, r.oldRoot, r.newRoot),
      syncRequest: (r, ctx) => this.sync.sync({ currentRoot: r.currentRoot, tableFilters: r.tableFilters, sinceSequence: r.sinceSequence }, ctx.signal),
      getCheckpoint: (r) => this.state.checkpoint(r.sequence, r.consistencyFromSize),
      watchCheckpoints: (r, ctx) => this.state.watch(r.afterSequence, ctx.signal),
      getBlock: (r) => this.blocks.getBlock(r.source, r.table, r.mapKey, u53(r.checkpointSequence, 'checkpoint_sequence')),
      getVerificationResult: (r) => this.verifications.get(r.transactionId),
      listVerificationResults: (r) => this.verifications.list(r.pageSize, r.pageToken, r.failuresOnly),
    };
  }
}
