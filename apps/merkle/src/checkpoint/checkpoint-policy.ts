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

/** Which rule makes a checkpoint due: the change count (checked first) or the elapsed time. */
export type CheckpointTrigger = 'changes' | 'time';

/**
 * Why a checkpoint is due, or undefined when it is not.
 * @example checkpointDueBy({ changesSince: 10, elapsedMs: 6000, everyChanges: 10000, everyMs: 5000 }) // 'time'
 */
export function checkpointDueBy(p: CheckpointPolicyInput): CheckpointTrigger | undefined {
  if (p.changesSince <= 0) return undefined;
  if (p.changesSince >= p.everyChanges) return 'changes';
  return p.elapsedMs >= p.everyMs ? 'time' : undefined;
}

/**
 * True when a checkpoint is due.
 * @example checkpointDue({ changesSince: 10, elapsedMs: 6000, everyChanges: 10000, everyMs: 5000 }) // true
 */
export function checkpointDue(p: CheckpointPolicyInput): boolean {
  return checkpointDueBy(p) !== undefined;
}
