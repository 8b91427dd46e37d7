// Public API of @merklesync/state-capture: the capture of a transaction's pre/post-state by primary key and the
// commitments over it, shared by the SQL proxy and replay. See libs/state-capture/README.md.
export { CaptureError, CaptureErrorCode } from './errors.ts';
export { quoteIdent, qualified } from './sql.ts';
export { arrayLiteral, textParam, type SqlParam, type SqlRunner } from './runner.ts';
export { TableCatalog, describeTable, pkIndexes, relationText, type ColumnMeta, type TableMeta } from './catalog.ts';
export { DEFAULT_CAPTURE_LIMITS, TxCapture, type BoundParams, type CaptureLimits, type RowTexts, type SequenceState, type TableCapture } from './tx-capture.ts';
export { StateHasher, type CommitmentSettings, type KeyCommitment, type TableCommitments } from './commitments.ts';
export {
  PRE_STATE_TABLE,
  RecordSealer,
  STATEMENTS_TABLE,
  asPreStateDocument,
  asStatementsDocument,
  preStateDocument,
  type PreStateDocument,
  type PreStateTable,
  type RecordedStatement,
  type StatementsDocument,
} from './record.ts';
export { commitCapture, type CapturedCommitments } from './roots.ts';
export { compareCommitments, type TableDiff } from './compare.ts';
export { DETERMINISTIC_SESSION, PIN_SCHEMA, restorePlan, restoreSql, sessionSql } from './restore.ts';
