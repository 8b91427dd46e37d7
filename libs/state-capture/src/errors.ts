/** Why a capture, a restore or a commitment failed. */
export const CaptureErrorCode = {
  /** A table the statement writes does not exist (to_regclass found nothing). */
  TableNotFound: 'TABLE_NOT_FOUND',
  /** A captured value is not in the canonical encoding's domain (unsupported type, bad text). */
  Decode: 'DECODE',
  /** The captured state or statements exceed the record limits. */
  TooLarge: 'TOO_LARGE',
  /** A pre-state or statement document that does not have the documented shape. */
  MalformedState: 'MALFORMED_STATE',
  /** Key material missing for the configured key id / commitment version. */
  KeyMaterial: 'KEY_MATERIAL',
} as const;
export type CaptureErrorCode = (typeof CaptureErrorCode)[keyof typeof CaptureErrorCode];

/** A typed capture failure. @example if (e instanceof CaptureError && e.code === 'DECODE') warn(e.message) */
export class CaptureError extends Error {
  readonly code: CaptureErrorCode;
  constructor(code: CaptureErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CaptureError';
    this.code = code;
  }
}
