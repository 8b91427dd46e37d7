// Roots and checkpoints: GetMerkleRoot from the store's current table roots, GetCheckpoint through the prover
// (which adds consistency proofs), WatchCheckpoints by polling the chain.
import { create } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import { getHashSuite, type HashSuite } from '@merklesync/merkle';
import {
  GetCheckpointResponseSchema,
  GetMerkleRootResponseSchema,
  WatchCheckpointsResponseSchema,
  consistencyToMessage,
  stateRoot,
  suiteToWire,
  type GetCheckpointResponse,
  type GetMerkleRootResponse,
  type WatchCheckpointsResponse,
} from '@merklesync/protocol';
import type { ProverClient } from '@merklesync/prover-client';
import type { GatewayConfig } from '../config.ts';
import { GatewayError, GatewayErrorCode, badRequest } from '../errors.ts';
import type { CheckpointReader, TableRootsReader } from '../store/ports.ts';
import { CHECKPOINTS, GATEWAY_CONFIG, PROVER, TABLE_ROOTS } from '../tokens.ts';
import { checkName } from './inputs.ts';

/** Sleeps `ms` unless `signal` aborts first (then resolves at once). */
function _pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

/**
 * Roots and checkpoints.
 * @example const r = await state.merkleRoot('pg', 'public.users')
 */
@Injectable()
export class StateService {
  private readonly config: GatewayConfig;
  private readonly suite: HashSuite;
  private readonly roots: TableRootsReader;
  private readonly chain: CheckpointReader;
  private readonly prover: ProverClient;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(TABLE_ROOTS) roots: TableRootsReader,
    @Inject(CHECKPOINTS) chain: CheckpointReader,
    @Inject(PROVER) prover: ProverClient,
  ) {
    this.config = config;
    this.suite = getHashSuite(config.suite);
    this.roots = roots;
    this.chain = chain;
    this.prover = prover;
  }

  /**
   * The current root of table (source, table), or the state root over every table when both are empty.
   * Current = as applied, possibly newer than the latest checkpoint.
   * @throws GatewayError INVALID_ARGUMENT (one of source/table empty), NOT_FOUND (unknown table).
   */
  async merkleRoot(source: string, table: string): Promise<GetMerkleRootResponse> {
    const all = await this.roots.tableRoots();
    const hashSuite = suiteToWire(this.config.suite);
    if (source === '' && table === '') {
      const sequence = all.reduce((m, r) => Math.max(m, r.streamSeq), 0);
      return create(GetMerkleRootResponseSchema, { root: stateRoot(this.suite, all), hashSuite, sequence: BigInt(sequence), blockCount: BigInt(all.length) });
    }
    checkName(source, 'source');
    checkName(table, 'table');
    const t = all.find((r) => r.source === source && r.table === table);
    if (t === undefined) throw new GatewayError(GatewayErrorCode.NotFound, `unknown table ${source}/${table}`);
    return create(GetMerkleRootResponseSchema, { root: t.root, hashSuite, sequence: BigInt(t.streamSeq) });
  }

  /**
   * The latest checkpoint (`sequence` undefined) or checkpoint `sequence`, with the log consistency from
   * `consistencyFromSize` (> 0), from the prover.
   * @throws GatewayError INVALID_ARGUMENT (sequence 0), NOT_FOUND, UNAVAILABLE.
   */
  async checkpoint(sequence: bigint | undefined, consistencyFromSize: bigint): Promise<GetCheckpointResponse> {
    if (sequence === 0n) badRequest('sequence must be >= 1 (leave it unset for the latest)');
    const r = await this.prover.getCheckpoint(sequence, consistencyFromSize);
    return create(GetCheckpointResponseSchema, { checkpoint: r.checkpoint, ...(r.consistency === undefined ? {} : { consistency: consistencyToMessage(r.consistency) }) });
  }

  /**
   * Every checkpoint after `afterSequence` (0: starting with the latest), each with the consistency proof from
   * the previous one sent, until `signal` aborts. Polls the chain every `watchPollMs`.
   * @throws GatewayError NOT_FOUND when `afterSequence` > 0 names no checkpoint.
   */
  async *watch(afterSequence: bigint, signal: AbortSignal): AsyncGenerator<WatchCheckpointsResponse> {
    let next: number;
    let prevSize = 0;
    if (afterSequence === 0n) {
      const latest = await this.chain.latest();
      next = latest?.seq ?? 1;
    } else {
      const after = Number(afterSequence);
      const cp = await this.chain.bySeq(after);
      if (cp === undefined) throw new GatewayError(GatewayErrorCode.NotFound, `no checkpoint ${after}`);
      next = after + 1;
      prevSize = cp.logSize;
    }
    while (!signal.aborted) {
      const batch = await this.chain.list(next, 100);
      for (const cp of batch) {
        if (signal.aborted) return;
        const from = prevSize > 0 && prevSize < cp.logSize ? BigInt(prevSize) : 0n;
        const r = await this.prover.getCheckpoint(BigInt(cp.seq), from);
        yield create(WatchCheckpointsResponseSchema, { checkpoint: r.checkpoint, ...(r.consistency === undefined ? {} : { consistency: consistencyToMessage(r.consistency) }) });
        next = cp.seq + 1;
        prevSize = cp.logSize;
      }
      if (batch.length < 100) await _pause(this.config.watchPollMs, signal);
    }
  }
}
