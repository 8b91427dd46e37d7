// Errors of the merkle service. Malformed bus input is not one of them: it raises the messaging library's
// MalformedPayloadError (dead-letter at once); transient store/bus failures raise RetryableError.

/** Codes of {@link MerkleServiceError}. */
export const MerkleServiceErrorCode = {
  /** An environment variable is missing or invalid; the message names it. Start-up fails. */
  InvalidConfig: 'INVALID_CONFIG',
  /** The stored state does not fit the configuration (another hash suite, a log that does not load). */
  StateMismatch: 'STATE_MISMATCH',
  /** The service was used before its state was loaded (start-up not finished). */
  NotReady: 'NOT_READY',
} as const;
export type MerkleServiceErrorCode = (typeof MerkleServiceErrorCode)[keyof typeof MerkleServiceErrorCode];

/**
 * The merkle service's own error; `code` says what went wrong.
 * @example throw new MerkleServiceError(MerkleServiceErrorCode.InvalidConfig, 'MERKLE_DATABASE_URL: required')
 */
export class MerkleServiceError extends Error {
  readonly code: MerkleServiceErrorCode;
  constructor(code: MerkleServiceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MerkleServiceError';
    this.code = code;
  }
}
