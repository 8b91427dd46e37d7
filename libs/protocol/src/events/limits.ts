/**
 * Limits every event decoder enforces. They bound memory per message before and after decoding; the
 * README's event catalogue repeats them per field.
 */
export const EventLimits = {
  /** Largest encoded event (NATS' default max_payload): checked before decoding and after encoding. */
  maxEventBytes: 1_048_576,
  /** Largest source or table name, in UTF-8 bytes. */
  maxNameBytes: 255,
  /** Largest transaction id, in UTF-8 bytes. */
  maxTransactionIdBytes: 256,
  /** Largest ciphertext block (and encrypted pre-state / statements). */
  maxBlockBytes: 262_144,
  /** Largest opaque source position (resume token). */
  maxOpaquePositionBytes: 1024,
  /** Largest signed note. */
  maxNoteBytes: 65_536,
  /** Most changes in one batch. */
  maxBatchEvents: 10_000,
  /** Most warnings in a state commitment record, and the longest warning (UTF-8 bytes). */
  maxWarnings: 64,
  maxWarningBytes: 1024,
  /** Most mismatching tables in one verification result, and most mismatching keys per table. */
  maxMismatchTables: 1000,
  maxMismatchKeys: 1000,
  /** Longest verification error text (UTF-8 bytes). */
  maxErrorBytes: 4096,
  /** Largest log size / tree size (what libs/merkle proofs can express). */
  maxTreeSize: 2n ** 53n - 1n,
} as const;

/** The schema_version every event is written with today. */
export const CURRENT_SCHEMA_VERSION = 1;

/** The schema versions this build decodes. A version leaves this list only after no producer writes it. */
export const SUPPORTED_SCHEMA_VERSIONS: readonly number[] = [1];
