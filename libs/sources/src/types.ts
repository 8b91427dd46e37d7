import type { PgValue } from '@merklesync/crypto';

/** What happened to a row. `snapshot` is a row read by the initial snapshot (an upsert for the consumer). */
export type RowOp = 'snapshot' | 'insert' | 'update' | 'delete';

/** One row-level change, with typed values ready for `encodeRow` / `encodePrimaryKey`. */
export interface RowChange {
  op: RowOp;
  schema: string;
  table: string;
  /** The primary key's typed values in primary-key column order (`pg_index.indkey`), never NULL. */
  primaryKey: PgValue[];
  /**
   * The row after the change (snapshot, insert, update), column name → typed value, every column.
   * For a delete: the old row when the table has REPLICA IDENTITY FULL, else `null` (only the key is known).
   */
  row: Record<string, PgValue> | null;
  /** Update only, when the primary key itself changed: the old key (the consumer must remove that row). */
  oldPrimaryKey?: PgValue[];
  /**
   * Update only, in `toast: 'mark-unchanged'` mode: columns whose TOASTed value did not change and was not sent.
   * They are absent from `row`; the consumer keeps its previous value. Never set in 'require-full' mode.
   */
  unchanged?: string[];
  /**
   * MongoDB sources: the document as canonical Extended JSON v2 text. When set, the document is what is committed
   * (`encodeMongoDocument`, not `encodeRow`), `row` is null and `primaryKey` is the `_id` as one `ejson` value.
   * On a delete it is the pre-image, when the server sent one.
   */
  document?: string;
}

/** A TRUNCATE of one table (one per truncated table, in the order Postgres lists them). */
export interface TruncateChange {
  op: 'truncate';
  schema: string;
  table: string;
  cascade: boolean;
  restartIdentity: boolean;
}

export type Change = RowChange | TruncateChange;

/**
 * A bounded batch of changes: a whole transaction, one part of a large transaction, or one chunk of the
 * initial snapshot. Batches are delivered in commit order, parts in order; `(kind, commitLsn, part)` is unique
 * and stable across redeliveries (same batch bounds), so it can name the bus message (`Nats-Msg-Id`).
 */
export interface ChangeBatch {
  kind: 'snapshot' | 'transaction';
  /** Transaction id; `null` for snapshot chunks. */
  xid: number | null;
  /**
   * The LSN of the transaction's commit record (known from its Begin message, so every part carries it).
   * Snapshot chunks carry the slot's consistent point: streaming resumes after it.
   */
  commitLsn: string;
  /** End of the commit record; set on the last part of a transaction only (the slot's confirmed position after it). */
  endLsn: string | null;
  /** Commit time in microseconds since 1970-01-01 UTC; `null` for snapshot chunks. */
  commitTimeMicros: bigint | null;
  /** 0-based part index within the transaction (or within the whole snapshot). */
  part: number;
  /** True on the final part of the transaction (or the final chunk of the snapshot). The count is known only then. */
  last: boolean;
  changes: Change[];
  /**
   * Set by sources whose batches are not named by `(kind, commitLsn, part)` alone: Debezium snapshot chunks (the
   * Kafka topic/partition/offset range they came from) and MongoDB (the change's position). When set, it names the
   * batch in bus message ids instead of `commitLsn` and must be equally stable across redeliveries. Never set by
   * PgLogicalSource.
   */
  sourcePosition?: string;
}

/** What `ack` needs to know about a delivered batch (a `ChangeBatch` fits). */
export type BatchPosition = Pick<ChangeBatch, 'kind' | 'commitLsn' | 'part' | 'last' | 'sourcePosition'>;
