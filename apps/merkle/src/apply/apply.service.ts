// Applying one ChangeBatch message: stage it in memory (maps + log), persist map nodes, log nodes, the latest
// block per row key, table roots, the applied stream sequence and (when due) a checkpoint with its table roots
// in ONE transaction (libs/store applyBatch),
// then commit the in-memory state and publish root updates (and the checkpoint).
//
// Failure rules (README "Guarantees"):
// - a message whose sequence the state already reflects is acknowledged without effect (redelivery);
// - if the transaction fails, the staged state is abandoned and reloaded from the store before the next
//   message (the log tree was appended to in place); the message is retried (RetryableError → nak);
// - if the store reports the sequence as already applied while memory is behind (ambiguous commit, or a
//   restart race), memory is abandoned too and reloaded: the store is the source of truth.
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { RetryableError } from '@merklesync/messaging';
import type { ChangeBatch } from '@merklesync/protocol';
import { StoreError, StoreErrorCode, type MerkleStore, type StoredCheckpoint } from '@merklesync/store';
import { busSubjects, type BusSubjects } from '../bus-subjects.ts';
import { CheckpointService } from '../checkpoint/checkpoint.service.ts';
import type { MerkleConfig } from '../config.ts';
import { MERKLE_CONFIG, MERKLE_STORE } from '../ports.ts';
import { EventOutbox } from '../publish/outbox.ts';
import { rootUpdateMessages } from '../publish/events.ts';
import type { MerkleState } from '../state/merkle-state.ts';
import { StateHolder } from '../state/state-holder.ts';
import { WorkQueue } from '../state/work-queue.ts';
import { validateBatch } from './validate.ts';

/** What happened to one message. */
export type ApplyOutcome =
  | { readonly applied: true; readonly sequence: number; readonly changes: number; readonly checkpoint: number | undefined }
  | { readonly applied: false; readonly sequence: number };

/** Time spent per phase, summed over applied messages (for the measurement, README "Measured"). */
export interface ApplyTimings {
  messages: number;
  changes: number;
  /** Map updates + log appends + roots (in memory). */
  stageMs: number;
  /** Collecting new map nodes + the Postgres transaction. */
  persistMs: number;
  /** Root update / checkpoint publishes. */
  publishMs: number;
  /** Parts of persistMs: listing the new map nodes, writing them, writing the log nodes. */
  collectNodesMs: number;
  mapNodesMs: number;
  logNodesMs: number;
  /** Part of persistMs: upserting the latest block per row key. */
  blocksMs: number;
  /** Map nodes written. */
  mapNodes: number;
  /** Block rows written (latest per key per message). */
  blocks: number;
}

/**
 * The one entry point of the consumer handler.
 * @example await applyService.apply(batch, ctx.getStreamSequence(), ctx.getSubject())
 */
@Injectable()
export class ApplyService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Apply');
  private readonly config: MerkleConfig;
  private readonly store: MerkleStore;
  private readonly holder: StateHolder;
  private readonly queue: WorkQueue;
  private readonly checkpoints: CheckpointService;
  private readonly outbox: EventOutbox;
  private readonly subjects: BusSubjects;
  private seenLoads = 0;
  readonly timings: ApplyTimings = { messages: 0, changes: 0, stageMs: 0, persistMs: 0, publishMs: 0, collectNodesMs: 0, mapNodesMs: 0, logNodesMs: 0, blocksMs: 0, mapNodes: 0, blocks: 0 };

  constructor(
    @Inject(MERKLE_CONFIG) config: MerkleConfig,
    @Inject(MERKLE_STORE) store: MerkleStore,
    @Inject(StateHolder) holder: StateHolder,
    @Inject(WorkQueue) queue: WorkQueue,
    @Inject(CheckpointService) checkpoints: CheckpointService,
    @Inject(EventOutbox) outbox: EventOutbox,
  ) {
    this.config = config;
    this.store = store;
    this.holder = holder;
    this.queue = queue;
    this.checkpoints = checkpoints;
    this.outbox = outbox;
    this.subjects = busSubjects(config.bus.subjectPrefix);
  }

  /** Start-up, before the transport pulls: migrate, load the state and the checkpoint chain. */
  async onApplicationBootstrap(): Promise<void> {
    await this.store.migrate();
    const state = await this.holder.current();
    await this.checkpoints.start(state.log.size);
    this.seenLoads = this.holder.loads;
  }

  // The live state; after a reload, the checkpoint chain head is re-read too (it may have moved in a
  // transaction whose commit was reported as failed).
  private async _state(): Promise<MerkleState> {
    const state = await this.holder.current();
    if (this.holder.loads !== this.seenLoads) {
      await this.checkpoints.resync(state.log.size);
      this.seenLoads = this.holder.loads;
    }
    return state;
  }

  /**
   * Applies one message (idempotent by stream sequence).
   * @throws MalformedPayloadError when the batch does not belong on its subject (dead-lettered);
   *   RetryableError when the store is unavailable (nak, retried; state reloaded first).
   */
  apply(batch: ChangeBatch, streamSeq: number, subject: string): Promise<ApplyOutcome> {
    validateBatch(batch, subject, this.subjects);
    return this.queue.run(() => this._apply(batch, streamSeq));
  }

  private async _apply(batch: ChangeBatch, streamSeq: number): Promise<ApplyOutcome> {
    const state = await this._state().catch((e: unknown) => {
      throw _retryable('loading the state', e);
    });
    if (streamSeq <= state.sequence) return { applied: false, sequence: state.sequence };
    const t0 = performance.now();
    const staged = state.stage(batch.events);
    const cp = this.checkpoints.due(staged.changes) ? this.checkpoints.build({ ...staged, tables: staged.allTables }) : undefined;
    const t1 = performance.now();
    const { logId } = this.config.checkpoint;
    let result;
    try {
      result = await this.store.apply.applyBatch(this.config.bus.consumer, streamSeq, async (w): Promise<StoredCheckpoint | undefined> => {
        const p0 = performance.now();
        const nodes = staged.newMapNodes();
        const p1 = performance.now();
        await w.putMapNodes(nodes);
        const p2 = performance.now();
        await w.putLogNodes(logId, state.log);
        const p3 = performance.now();
        await w.putBlocks(staged.blocks);
        const p4 = performance.now();
        for (const t of staged.tables) await w.setTableRoot(t.source, t.table, t.root);
        this.timings.collectNodesMs += p1 - p0;
        this.timings.mapNodesMs += p2 - p1;
        this.timings.logNodesMs += p3 - p2;
        this.timings.blocksMs += p4 - p3;
        this.timings.mapNodes += nodes.length;
        this.timings.blocks += staged.blocks.length;
        return cp === undefined ? undefined : w.appendCheckpoint(cp);
      });
    } catch (e) {
      state.abandon();
      this.logger.warn(`sequence ${streamSeq} not persisted (state will be reloaded): ${String(e)}`);
      throw _retryable(`persisting sequence ${streamSeq}`, e);
    }
    const t2 = performance.now();
    if (!result.applied) {
      // The store already has this sequence but memory did not: memory is behind; reload before the next.
      state.abandon();
      this.logger.warn(`sequence ${streamSeq} was already applied in the store (${result.appliedSequence}); reloading state`);
      return { applied: false, sequence: result.appliedSequence };
    }
    state.commit(staged, streamSeq, this.config.pruneEveryChanges);
    this.checkpoints.noteApplied(staged.changes);
    await this.outbox.send(rootUpdateMessages(this.subjects, this.config.hashSuite, staged, streamSeq));
    if (result.result !== undefined) await this.checkpoints.appended(result.result);
    const t3 = performance.now();
    const tm = this.timings;
    tm.messages++;
    tm.changes += staged.changes;
    tm.stageMs += t1 - t0;
    tm.persistMs += t2 - t1;
    tm.publishMs += t3 - t2;
    return { applied: true, sequence: streamSeq, changes: staged.changes, checkpoint: result.result?.seq };
  }
}

// Database and connectivity failures are worth retrying; anything else keeps its identity (the transport
// retries unknown errors too, then dead-letters after max-deliver).
function _retryable(what: string, e: unknown): unknown {
  if (e instanceof StoreError && e.code === StoreErrorCode.Database) return new RetryableError(`${what}: ${e.message}`, { cause: e });
  return e;
}
