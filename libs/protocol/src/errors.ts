/**
 * Codes of the domain errors raised by `@merklesync/protocol`. A const object (erasable TS); consumers
 * switch on it to decide ack/nak/term (every code here means "this message will never be valid": term it
 * and dead-letter it, never redeliver).
 */
export const ProtocolErrorCode = {
  /** The bytes are not a protobuf encoding of the expected message (garbage, truncation, invalid UTF-8). */
  MalformedEvent: 'MALFORMED_EVENT',
  /** The message decoded but breaks a rule: missing required field, wrong hash length, unknown enum value... */
  InvalidEvent: 'INVALID_EVENT',
  /** `schema_version` is one this build does not understand (newer producer, or a retired version). */
  UnsupportedVersion: 'UNSUPPORTED_VERSION',
  /** The encoding, or one of its fields or lists, is larger than the documented limit. */
  Oversized: 'OVERSIZED',
  /** A service message (proof, checkpoint) that is not of the documented shape. */
  MalformedMessage: 'MALFORMED_MESSAGE',
  /** A subject (or subject token) that is not of the documented form. */
  InvalidSubject: 'INVALID_SUBJECT',
} as const;
export type ProtocolErrorCode = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode];

/**
 * The one error class of this library; `code` says what went wrong, `field` (when known) names the
 * offending field path in protobuf names, e.g. `events[3].block.map_key`.
 * @example
 * try { decodeEvent('change-batch', bytes) } catch (e) { if (e instanceof ProtocolError) msg.term(e.code) }
 */
export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;
  readonly field: string | undefined;
  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown; field?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProtocolError';
    this.code = code;
    this.field = options?.field;
  }
}
