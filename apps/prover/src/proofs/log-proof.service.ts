// Log inclusion and consistency proofs, computed from the stored log nodes (no tree is loaded).
import { Inject, Injectable } from '@nestjs/common';
import type { LogConsistencyProof, LogInclusionProof } from '@merklesync/merkle';
import type { StoredCheckpoint } from '@merklesync/store';
import type { ProverConfig } from '../config.ts';
import { ProverError, ProverStatus } from '../errors.ts';
import type { LogProofReader } from '../store/ports.ts';
import { LOG_PROOFS, PROVER_CONFIG } from '../tokens.ts';
import { CheckpointService } from './checkpoint.service.ts';

/** A log proof and the checkpoint its size was taken from (when it was). */
export interface LogProofAnswer<P> {
  readonly proof: P;
  readonly checkpoint?: StoredCheckpoint;
}

/**
 * Proves against an explicit size, or against a checkpoint's log size (`size` 0: `checkpointSeq`, 0 = latest).
 * @example await logProofs.inclusion(3, 0, 0) // leaf 3 in the latest checkpoint's tree
 */
@Injectable()
export class LogProofService {
  private readonly logId: string;
  private readonly logs: LogProofReader;
  private readonly checkpoints: CheckpointService;

  constructor(@Inject(PROVER_CONFIG) config: ProverConfig, @Inject(LOG_PROOFS) logs: LogProofReader, @Inject(CheckpointService) checkpoints: CheckpointService) {
    this.logId = config.logId;
    this.logs = logs;
    this.checkpoints = checkpoints;
  }

  /**
   * Inclusion of leaf `leafIndex` in the tree of `treeSize` leaves (0: the checkpoint's size).
   * @throws ProverError(INVALID_ARGUMENT) for index ≥ size or both a size and a checkpoint; ProverError(NOT_FOUND)
   *   for an unknown checkpoint; StoreError(OUT_OF_RANGE) beyond the stored log.
   */
  async inclusion(leafIndex: number, treeSize: number, checkpointSeq: number): Promise<LogProofAnswer<LogInclusionProof>> {
    const { size, checkpoint } = await this._size(treeSize, checkpointSeq, 'tree_size');
    if (leafIndex >= size) throw new ProverError(ProverStatus.InvalidArgument, `leaf_index ${leafIndex} is not below tree size ${size}`);
    const proof = await this.logs.proveInclusion(this.logId, leafIndex, size);
    return checkpoint === undefined ? { proof } : { proof, checkpoint };
  }

  /**
   * Consistency from `size1` to `size2` (0: the checkpoint's size).
   * @throws ProverError(INVALID_ARGUMENT) unless 1 ≤ size1 ≤ size2; as {@link inclusion} otherwise.
   */
  async consistency(size1: number, size2: number, checkpointSeq: number): Promise<LogProofAnswer<LogConsistencyProof>> {
    const { size, checkpoint } = await this._size(size2, checkpointSeq, 'size2');
    if (size1 < 1 || size1 > size) throw new ProverError(ProverStatus.InvalidArgument, `size1 must be in [1, ${size}], got ${size1}`);
    const proof = await this.logs.proveConsistency(this.logId, size1, size);
    return checkpoint === undefined ? { proof } : { proof, checkpoint };
  }

  private async _size(size: number, checkpointSeq: number, field: string): Promise<{ size: number; checkpoint?: StoredCheckpoint }> {
    if (size > 0) {
      if (checkpointSeq > 0) throw new ProverError(ProverStatus.InvalidArgument, `give ${field} or checkpoint_sequence, not both`);
      return { size };
    }
    const checkpoint = await this.checkpoints.resolve(checkpointSeq);
    if (checkpoint === undefined) throw new ProverError(ProverStatus.NotFound, `log ${this.logId} has no checkpoint yet; give ${field}`);
    if (checkpoint.logSize === 0) throw new ProverError(ProverStatus.InvalidArgument, `checkpoint ${checkpoint.seq} has an empty log`);
    return { size: checkpoint.logSize, checkpoint };
  }
}
