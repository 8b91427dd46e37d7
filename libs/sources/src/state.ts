/** What the source persists between runs, per slot. */
export interface SourceState {
  slot: string;
  /** True once the consumer acknowledged the last snapshot batch; only then may a restart stream from the slot. */
  snapshotCompleted: boolean;
  /** The consistent point of the slot the snapshot was taken from. */
  consistentPoint: string;
}

/**
 * The small state port the caller provides (a table in the service's own database, a file, ...). A crash between
 * creating the slot and `snapshotCompleted: true` makes the next start drop the slot and take the snapshot again,
 * instead of streaming on top of half a snapshot.
 */
export interface SourceStateStore {
  load(slot: string): Promise<SourceState | null>;
  save(state: SourceState): Promise<void>;
  delete(slot: string): Promise<void>;
}

/**
 * In-memory `SourceStateStore` (tests, tools). Loses everything with the process: a restart re-snapshots.
 * @example const state = new MemorySourceStateStore();
 */
export class MemorySourceStateStore implements SourceStateStore {
  readonly #states = new Map<string, SourceState>();
  load(slot: string): Promise<SourceState | null> {
    const s = this.#states.get(slot);
    return Promise.resolve(s ? { ...s } : null);
  }
  save(state: SourceState): Promise<void> {
    this.#states.set(state.slot, { ...state });
    return Promise.resolve();
  }
  delete(slot: string): Promise<void> {
    this.#states.delete(slot);
    return Promise.resolve();
  }
}
