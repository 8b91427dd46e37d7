// The checkpoint chain: decides when to sign (checkpoint-policy.ts), signs C2SP checkpoints with the log key
// (origin, log size, log root, extension lines state root + checkpoint sequence), appends them to the stored
// chain and publishes them. Checkpoints due after a batch are appended inside that batch's transaction (see
// ApplyService); the timer covers quiet periods: it signs the persisted state when T ms passed with changes.
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { signCheckpoint, type SignerKey } from '@merklesync/crypto';
import type { CheckpointInput, MerkleStore, StoredCheckpoint } from '@merklesync/store';
import { busSubjects, type BusSubjects } from '../bus-subjects.ts';
import type { MerkleConfig } from '../config.ts';
import { CHECKPOINT_SIGNER, CLOCK, MERKLE_CONFIG, MERKLE_STORE, SCHEDULER, type Clock, type Scheduler } from '../ports.ts';
import { EventOutbox } from '../publish/outbox.ts';
import { checkpointMessage } from '../publish/events.ts';
import { StateHolder } from '../state/state-holder.ts';
import { WorkQueue } from '../state/work-queue.ts';
import { checkpointDueBy, type CheckpointTrigger } from './checkpoint-policy.ts';

/** What a checkpoint commits to. */
export interface CheckpointSubject {
  readonly logSize: number;
  readonly logRoot: Uint8Array;
  readonly stateRoot: Uint8Array;
  /** The table roots `stateRoot` is computed from; stored with the checkpoint (libs/store checkpoint_tables). */
  readonly tables: readonly { readonly source: string; readonly table: string; readonly root: Uint8Array }[];
}

/**
 * Signs and chains checkpoints. `start()` loads the chain head and starts the timer.
 * @example if (checkpoints.due(n) !== undefined) input = checkpoints.build({ logSize, logRoot, stateRoot, tables })
 */
@Injectable()
export class CheckpointService implements OnApplicationShutdown {
  private readonly logger = new Logger('Checkpoints');
  private readonly config: MerkleConfig;
  private readonly store: MerkleStore;
  private readonly signer: SignerKey;
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly holder: StateHolder;
  private readonly queue: WorkQueue;
  private readonly outbox: EventOutbox;
  private readonly subjects: BusSubjects;
  /** Origin line of every checkpoint. */
  readonly origin: string;
  private head: StoredCheckpoint | undefined;
  private changesSince = 0;
  private lastAt = 0;
  private timer: { cancel(): void } | undefined;

  constructor(
    @Inject(MERKLE_CONFIG) config: MerkleConfig,
    @Inject(MERKLE_STORE) store: MerkleStore,
    @Inject(CHECKPOINT_SIGNER) signer: SignerKey,
    @Inject(CLOCK) clock: Clock,
    @Inject(SCHEDULER) scheduler: Scheduler,
    @Inject(StateHolder) holder: StateHolder,
    @Inject(WorkQueue) queue: WorkQueue,
    @Inject(EventOutbox) outbox: EventOutbox,
  ) {
    this.config = config;
    this.store = store;
    this.signer = signer;
    this.clock = clock;
    this.scheduler = scheduler;
    this.holder = holder;
    this.queue = queue;
    this.outbox = outbox;
    this.subjects = busSubjects(config.bus.subjectPrefix);
    this.origin = config.checkpoint.origin ?? signer.name;
  }

  /** The latest checkpoint of the chain (undefined before the first). */
  get latest(): StoredCheckpoint | undefined {
    return this.head;
  }

  /**
   * Loads the chain head, counts the changes persisted since it, starts the timer.
   * @throws StoreError(DATABASE).
   */
  async start(logSize: number): Promise<void> {
    await this.resync(logSize);
    const period = Math.max(10, Math.floor(this.config.checkpoint.everyMs / 4));
    this.timer?.cancel();
    this.timer = this.scheduler.every(period, () => {
      this.tick().catch((e: unknown) => this.logger.error(`checkpoint tick failed: ${String(e)}`));
    });
  }

  /**
   * Re-reads the chain head from the store (after the state was reloaded: a checkpoint may have been
   * committed by a transaction whose outcome was reported as a failure).
   * @throws StoreError(DATABASE).
   */
  async resync(logSize: number): Promise<void> {
    this.head = await this.store.checkpoints.latest(this.config.checkpoint.logId);
    this.changesSince = logSize - (this.head?.logSize ?? 0);
    this.lastAt = this.clock.now();
  }

  /**
   * Why a checkpoint is due once `pending` more changes are persisted (the count or the time), or undefined.
   * `inFlight`: a group whose transaction is running and whose changes come first (with a checkpoint of its own,
   * the count starts after it and no time has passed since).
   */
  due(pending: number, inFlight?: { readonly changes: number; readonly checkpoint: boolean }): CheckpointTrigger | undefined {
    const fresh = inFlight?.checkpoint === true;
    return checkpointDueBy({
      changesSince: fresh ? pending : this.changesSince + (inFlight?.changes ?? 0) + pending,
      elapsedMs: fresh ? 0 : this.clock.now() - this.lastAt,
      everyChanges: this.config.checkpoint.everyChanges,
      everyMs: this.config.checkpoint.everyMs,
    });
  }

  /**
   * The next checkpoint of the chain over `s`, signed.
   * @throws TypeError / RangeError from signCheckpoint for an invalid origin.
   */
  build(s: CheckpointSubject): CheckpointInput {
    const seq = (this.head?.seq ?? 0) + 1;
    const note = signCheckpoint({ origin: this.origin, size: s.logSize, rootHash: s.logRoot, stateRoot: s.stateRoot, seq }, this.signer);
    return {
      logId: this.config.checkpoint.logId,
      seq,
      logSize: s.logSize,
      logRoot: s.logRoot,
      stateRoot: s.stateRoot,
      note,
      prevHash: this.head?.hash ?? null,
      tables: s.tables.map((t) => ({ source: t.source, table: t.table, root: t.root })),
    };
  }

  /** Records `n` persisted changes. */
  noteApplied(n: number): void {
    this.changesSince += n;
  }

  /** Records a checkpoint that was committed, and publishes it. Never throws (publishing goes through the outbox). */
  async appended(cp: StoredCheckpoint): Promise<void> {
    this.head = cp;
    this.changesSince = 0;
    this.lastAt = this.clock.now();
    this.logger.log(`checkpoint ${cp.seq}: log size ${cp.logSize}`);
    await this.outbox.send([checkpointMessage(this.subjects, this.config.hashSuite, this.origin, cp)]);
  }

  /**
   * Timer path: signs the persisted state when due. Serialised with applies.
   * @returns the new checkpoint, or undefined when none was due.
   * @throws StoreError when the chain cannot be appended to.
   */
  tick(): Promise<StoredCheckpoint | undefined> {
    return this.queue.run(async () => {
      await this.outbox.send([]); // retry earlier failed publishes
      if (this.due(0) === undefined) return undefined;
      const state = this.holder.peek();
      if (state === undefined) return undefined; // reloading after a failure: the next apply or tick will do
      const stored = await this.store.checkpoints.append(this.build({ logSize: state.log.size, logRoot: state.log.root(), stateRoot: state.stateRoot(), tables: state.tableRoots() }));
      await this.appended(stored);
      return stored;
    });
  }

  onApplicationShutdown(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
