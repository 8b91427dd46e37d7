/** Why a replay could not produce a verdict from the replayed state (the codes go into VerificationResult.error). */
export const ReplayErrorCode = {
  /** The encrypted pre-state or statements do not open or do not have the documented shape. */
  MalformedRecord: 'MALFORMED_RECORD',
  /** The pre-state rows do not hash to the record's pre_root. */
  PreStateMismatch: 'PRE_STATE_MISMATCH',
  /** The claimed post-state leaves do not hash to post_root_claimed. */
  ClaimInconsistent: 'CLAIM_INCONSISTENT',
  /** Restoring the pre-state failed. */
  RestoreFailed: 'RESTORE_FAILED',
  /** A statement failed in replay where it had succeeded at the proxy, or the other way round. */
  StatementDiverged: 'STATEMENT_DIVERGED',
  /** The post-state capture failed. */
  CaptureFailed: 'CAPTURE_FAILED',
  /** Key material missing. */
  KeyMaterial: 'KEY_MATERIAL',
} as const;
export type ReplayErrorCode = (typeof ReplayErrorCode)[keyof typeof ReplayErrorCode];

/**
 * A replay failure. `message` is for replay's own logs (it may quote row values from PostgreSQL's error);
 * `publicDetail` is what goes into the published result: codes, statement numbers and SQLSTATEs only.
 */
export class ReplayError extends Error {
  readonly code: ReplayErrorCode;
  readonly publicDetail: string;
  constructor(code: ReplayErrorCode, publicDetail: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReplayError';
    this.code = code;
    this.publicDetail = publicDetail;
  }
}
