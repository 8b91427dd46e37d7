/**
 * Codes of the domain errors raised by `@merklesync/sources`. A const object (erasable TS) that callers switch on;
 * messages are for people and name the table, slot or publication concerned.
 */
export const SourceErrorCode = {
  /** The configuration object is missing a field or has a bad value. */
  InvalidConfig: 'INVALID_CONFIG',
  /** A captured table does not exist. */
  TableNotFound: 'TABLE_NOT_FOUND',
  /** A captured table has no primary key: rows would have no stable identity in the authenticated map. */
  NoPrimaryKey: 'NO_PRIMARY_KEY',
  /** A captured table's REPLICA IDENTITY is NOTHING or USING INDEX, or TOASTable columns lack REPLICA IDENTITY FULL. */
  ReplicaIdentity: 'REPLICA_IDENTITY',
  /** The existing publication does not publish a captured table, or publishes it without some operation. */
  PublicationMismatch: 'PUBLICATION_MISMATCH',
  /** Postgres is not configured for logical replication (wal_level), or the slot uses another plugin. */
  ServerConfig: 'SERVER_CONFIG',
  /** The replication connection failed or was lost and reconnecting did not succeed. */
  ConnectionLost: 'CONNECTION_LOST',
  /** The server sent something that is not valid pgoutput / streaming-replication protocol. */
  Protocol: 'PROTOCOL',
  /** A column value could not be turned into a typed value (unsupported type or malformed text). */
  Decode: 'DECODE',
  /** `ack` named a position that was never delivered, or went backwards. */
  InvalidAck: 'INVALID_ACK',
  /** The source is not running (not started, or stopped). */
  NotRunning: 'NOT_RUNNING',
  /** The initial snapshot failed; the next start drops the slot and takes it again. */
  SnapshotFailed: 'SNAPSHOT_FAILED',
} as const;
export type SourceErrorCode = (typeof SourceErrorCode)[keyof typeof SourceErrorCode];

/**
 * The one error class of this library; `code` says what went wrong.
 * @example if (e instanceof SourceError && e.code === SourceErrorCode.NoPrimaryKey) log.error(e.message)
 */
export class SourceError extends Error {
  readonly code: SourceErrorCode;
  constructor(code: SourceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SourceError';
    this.code = code;
  }
}
