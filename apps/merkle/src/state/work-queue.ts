// One lane for everything that reads or changes the live state (applies and checkpoint ticks), so a timer
// tick never sees a half-applied batch and two batches never interleave.
import { Injectable } from '@nestjs/common';

/**
 * Runs tasks one at a time, in call order. A failed task does not stop later ones.
 * @example await queue.run(() => applyOne(batch))
 */
@Injectable()
export class WorkQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every task queued before it; resolves or rejects with its outcome. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Resolves once every task queued so far has settled. */
  async idle(): Promise<void> {
    await this.tail;
  }
}
