/** Why a wire message was refused. */
export const PgWireErrorCode = {
  /** A length field, a missing terminator, a count that overruns the message. */
  Malformed: 'MALFORMED',
  /** A message longer than the configured limit. */
  TooLarge: 'TOO_LARGE',
  /** A message type not valid in this direction or state. */
  UnexpectedMessage: 'UNEXPECTED_MESSAGE',
  /** A startup packet with a protocol version other than 3.0 (or the special request codes). */
  UnsupportedProtocol: 'UNSUPPORTED_PROTOCOL',
} as const;
export type PgWireErrorCode = (typeof PgWireErrorCode)[keyof typeof PgWireErrorCode];

/** A typed protocol error; the proxy answers it with an ErrorResponse (SQLSTATE 08P01) and closes the connection. */
export class PgWireError extends Error {
  readonly code: PgWireErrorCode;
  constructor(code: PgWireErrorCode, message: string) {
    super(message);
    this.name = 'PgWireError';
    this.code = code;
  }
}
