// When to sign: every N changes or T ms, whichever comes first, and never without a change since the last
// checkpoint. Pure, so the rule is tested without timers.

/** The policy's inputs. */
export interface CheckpointPolicyInput {
  /** Changes applied (and persisted) since the last checkpoint, plus those about to be. */
  readonly changesSince: number;
  /** ms since the last checkpoint (or since start-up when there is none yet). */
  readonly elapsedMs: number;
  readonly everyChanges: number;
  readonly everyMs: number;
}

/**
 * True when a checkpoint is due.
 * @example checkpointDue({ changesSince: 10, elapsedMs: 6000, everyChanges: 10000, everyMs: 5000 }) // true
 */
export function checkpointDue(p: CheckpointPolicyInput): boolean {
  if (p.changesSince <= 0) return false;
  return p.changesSince >= p.everyChanges || p.elapsedMs >= p.everyMs;
}
