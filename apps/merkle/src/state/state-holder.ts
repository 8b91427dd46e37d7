// Owns the live MerkleState: loads it from the store at start-up and again whenever a batch could not be
// persisted (the in-memory log was appended to, or the database turned out to be ahead of memory).
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { MerkleStore } from '@merklesync/store';
import type { MerkleConfig } from '../config.ts';
import { MERKLE_CONFIG, MERKLE_STORE } from '../ports.ts';
import { MerkleState } from './merkle-state.ts';

/**
 * The current state, reloaded on demand. Callers serialise through the WorkQueue.
 * @example const state = await holder.current()   // loads when absent or broken
 */
@Injectable()
export class StateHolder {
  private readonly logger = new Logger('MerkleState');
  private readonly store: MerkleStore;
  private readonly config: MerkleConfig;
  private state: MerkleState | undefined;
  /** Loads done so far (1 at start-up; more after persist failures). For tests and metrics. */
  loads = 0;

  constructor(@Inject(MERKLE_STORE) store: MerkleStore, @Inject(MERKLE_CONFIG) config: MerkleConfig) {
    this.store = store;
    this.config = config;
  }

  /**
   * The live state; (re)loads it from the store when there is none or the last one was abandoned.
   * @throws StoreError / MerkleServiceError(STATE_MISMATCH) when loading fails.
   */
  async current(): Promise<MerkleState> {
    if (this.state === undefined || this.state.isBroken) {
      const started = Date.now();
      this.state = undefined;
      const s = await MerkleState.load(this.store, { consumer: this.config.bus.consumer, logId: this.config.checkpoint.logId, suite: this.config.hashSuite });
      this.loads++;
      this.logger.log(`loaded state at stream sequence ${s.sequence}: ${s.tableRoots().length} tables, log size ${s.log.size} (${Date.now() - started} ms)`);
      this.state = s;
    }
    return this.state;
  }

  /** The loaded state without loading (undefined before start-up or after a failure). */
  peek(): MerkleState | undefined {
    return this.state?.isBroken === false ? this.state : undefined;
  }
}
