/** Why the ingest pipeline stopped. Every code means "nothing after the failing batch was acknowledged". */
export const IngestErrorCode = {
  /** A TRUNCATE reached ingest: the protocol has no table-level clear and ingest keeps no key state. */
  /** A row or key could not be canonically encoded (a value libs/crypto refuses). */
  EncodeFailed: 'ENCODE_FAILED',
  /** A row's canonical encoding is larger than a block may be (protocol limit 256 KiB of ciphertext). */
  RowTooLarge: 'ROW_TOO_LARGE',
  /** An update left TOASTed columns out (the source runs in a mode ingest cannot serve). */
  IncompleteRow: 'INCOMPLETE_ROW',
  /** Key material missing or unusable (key file, key id, versions). */
  KeyMaterial: 'KEY_MATERIAL',
  /** JetStream did not store a batch after the configured attempts, or refused it. */
  PublishFailed: 'PUBLISH_FAILED',
  /** The change source stopped with an error (its SourceError is the cause). */
  SourceFailed: 'SOURCE_FAILED',
  /** Anything unexpected (a bug): logged with its stack; nothing after it was acknowledged. */
  Internal: 'INTERNAL',
} as const;
export type IngestErrorCode = (typeof IngestErrorCode)[keyof typeof IngestErrorCode];

/**
 * A typed ingest failure. Messages name source, table and column but never a value or a primary key
 * (those are plaintext; the batch stays in the replication slot and is redelivered after the fix).
 */
export class IngestError extends Error {
  readonly code: IngestErrorCode;
  constructor(code: IngestErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IngestError';
    this.code = code;
  }
}
