/**
 * A wake-up between a source's reader and the consumer of its batches ("a batch was queued", "room was freed"):
 * `wait()` resolves at the next `notify()`. A notify with nobody waiting is dropped, so a waiter re-checks its
 * condition in a loop around `wait()`. One waiter at a time (a later `wait()` replaces an earlier one's wake-up).
 * @example while (queue.length === 0 && running) await ready.wait();   // elsewhere: queue.push(b); ready.notify();
 */
export class Signal {
  #resolve: (() => void) | null = null;

  /** Resolves at the next {@link notify}, or after `timeoutMs` when given. */
  wait(timeoutMs?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.#resolve === done) this.#resolve = null;
        resolve();
      };
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs);
      this.#resolve = done;
    });
  }

  /** Wakes the current waiter, if any. */
  notify(): void {
    const r = this.#resolve;
    this.#resolve = null;
    r?.();
  }
}
