// The client's typed error: every failure of a prover request, with a code that is a gRPC canonical name so
// transports map it 1:1 (the prover's `Ms-Status` values plus what only the requester can see).

/** Error codes of {@link ProverClientError}. A const object, not a TS enum. */
export const ProverClientErrorCode = {
  /** The prover refused the request as malformed or impossible (`Ms-Status: INVALID_ARGUMENT`). */
  InvalidArgument: 'INVALID_ARGUMENT',
  /** Unknown table, checkpoint, log or map root (`NOT_FOUND`). */
  NotFound: 'NOT_FOUND',
  /** A tree size beyond the stored log (`OUT_OF_RANGE`). */
  OutOfRange: 'OUT_OF_RANGE',
  /** The reply would exceed the bus's message size (`RESOURCE_EXHAUSTED`): ask for fewer keys. */
  ResourceExhausted: 'RESOURCE_EXHAUSTED',
  /** The prover's store is down (`UNAVAILABLE`), no prover subscribes the subject, or NATS is not connected. */
  Unavailable: 'UNAVAILABLE',
  /** No reply within the timeout. */
  DeadlineExceeded: 'DEADLINE_EXCEEDED',
  /** The prover failed (`INTERNAL`), sent an unknown status, or a reply that does not decode. */
  Internal: 'INTERNAL',
} as const;
export type ProverClientErrorCode = (typeof ProverClientErrorCode)[keyof typeof ProverClientErrorCode];

const _CODES = new Set<string>(Object.values(ProverClientErrorCode));

/**
 * A failed prover request.
 * @example if (e instanceof ProverClientError && e.code === ProverClientErrorCode.NotFound) return 404
 */
export class ProverClientError extends Error {
  readonly code: ProverClientErrorCode;
  /** The request subject. */
  readonly subject: string;
  constructor(code: ProverClientErrorCode, subject: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProverClientError';
    this.code = code;
    this.subject = subject;
  }
}

/**
 * The error code of a reply status other than OK; an unknown status is INTERNAL (a newer prover, or a bug).
 * @example statusToCode('NOT_FOUND') // 'NOT_FOUND'
 */
export function statusToCode(status: string): ProverClientErrorCode {
  return status !== 'OK' && _CODES.has(status) ? (status as ProverClientErrorCode) : ProverClientErrorCode.Internal;
}
