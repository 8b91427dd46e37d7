// Reads the checkpoint chain: by sequence, the latest, and the log consistency a client needs to move to one.
import { Inject, Injectable } from '@nestjs/common';
import type { LogConsistencyProof } from '@merklesync/merkle';
import type { StoredCheckpoint } from '@merklesync/store';
import type { ProverConfig } from '../config.ts';
import { ProverError, ProverStatus } from '../errors.ts';
import type { CheckpointReader, LogProofReader } from '../store/ports.ts';
import { CHECKPOINTS, LOG_PROOFS, PROVER_CONFIG } from '../tokens.ts';

/** A checkpoint with, when asked for, the log's consistency from a size the client holds. */
export interface CheckpointAnswer {
  readonly checkpoint: StoredCheckpoint;
  readonly consistency?: LogConsistencyProof;
}

/**
 * Checkpoint queries of the configured log.
 * @example const { checkpoint } = await checkpoints.get(undefined, 0) // the latest
 */
@Injectable()
export class CheckpointService {
  private readonly logId: string;
  private readonly chain: CheckpointReader;
  private readonly logs: LogProofReader;

  constructor(@Inject(PROVER_CONFIG) config: ProverConfig, @Inject(CHECKPOINTS) chain: CheckpointReader, @Inject(LOG_PROOFS) logs: LogProofReader) {
    this.logId = config.logId;
    this.chain = chain;
    this.logs = logs;
  }

  /**
   * The checkpoint `seq` (≥ 1), or the latest when `seq` is 0; undefined only for 0 with an empty chain.
   * @throws ProverError(NOT_FOUND) for an unknown positive `seq`; StoreError(DATABASE).
   */
  async resolve(seq: number): Promise<StoredCheckpoint | undefined> {
    if (seq === 0) return this.chain.latest(this.logId);
    const cp = await this.chain.bySeq(this.logId, seq);
    if (cp === undefined) throw new ProverError(ProverStatus.NotFound, `no checkpoint ${seq} in log ${this.logId}`);
    return cp;
  }

  /**
   * The checkpoint `seq` (undefined = the latest) and, when `fromSize` > 0 and differs from its log size,
   * the consistency proof from `fromSize` to it.
   * @throws ProverError(NOT_FOUND) when there is no such checkpoint (or none at all);
   *   ProverError(INVALID_ARGUMENT) when `fromSize` exceeds the checkpoint's log size.
   */
  async get(seq: number | undefined, fromSize: number): Promise<CheckpointAnswer> {
    const checkpoint = await this.resolve(seq ?? 0);
    if (checkpoint === undefined) throw new ProverError(ProverStatus.NotFound, `log ${this.logId} has no checkpoint yet`);
    if (fromSize > checkpoint.logSize) {
      throw new ProverError(ProverStatus.InvalidArgument, `consistency_from_size ${fromSize} exceeds the checkpoint's log size ${checkpoint.logSize}`);
    }
    if (fromSize === 0 || fromSize === checkpoint.logSize) return { checkpoint };
    return { checkpoint, consistency: await this.logs.proveConsistency(this.logId, fromSize, checkpoint.logSize) };
  }
}
