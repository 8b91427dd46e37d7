/**
 * Codes of the errors raised by `@merklesync/store`. A const object (not a TS enum) so sources stay erasable.
 * Transports map them in one place: all of them are permanent for the request that caused them except
 * `DATABASE` (retry/nak).
 */
export const StoreErrorCode = {
  /** The configuration is invalid (e.g. a schema name that is not a plain identifier). */
  InvalidConfig: 'INVALID_CONFIG',
  /** The database has a migration this code does not know: an older build started against a newer schema. */
  SchemaTooNew: 'SCHEMA_TOO_NEW',
  /** A recorded migration's checksum differs from the code's: the migration was edited after being applied. */
  MigrationChanged: 'MIGRATION_CHANGED',
  /** Stored bytes that do not decode as the documented node encoding. */
  CorruptNode: 'CORRUPT_NODE',
  /** Stored bytes that do not decode as the documented block chunk encoding. */
  CorruptBlock: 'CORRUPT_BLOCK',
  /** A node needed (log node for a proof, map node to load a tree) is not stored. */
  NotFound: 'NOT_FOUND',
  /** A checkpoint whose sequence, size or previous hash does not extend the stored chain. */
  CheckpointOutOfOrder: 'CHECKPOINT_OUT_OF_ORDER',
  /** An argument outside what the store holds (index past the log size, size going backwards, ...). */
  OutOfRange: 'OUT_OF_RANGE',
  /** The database failed (connection, serialization, constraint); usually worth a retry. */
  Database: 'DATABASE',
} as const;
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

/**
 * The one error class of this library; callers switch on `code`.
 * @example try { await migrate(pool, config) } catch (e) { if (e instanceof StoreError && e.code === StoreErrorCode.SchemaTooNew) ... }
 */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}
