// Public API of @merklesync/sql-analysis: the real PostgreSQL parser (libpg-query, WebAssembly) behind a small
// analysis of what each statement does. See libs/sql-analysis/README.md.
export {
  NONDETERMINISTIC_FUNCTIONS,
  StatementKind,
  TxControl,
  analyzeSql,
  initSqlAnalysis,
  needsAnalysis,
  renumberParams,
  type InsertShape,
  type InsertValue,
  type StatementInfo,
  type TableRef,
} from './analyze.ts';
export { nondeterminismWarnings } from './warnings.ts';
export { SqlAnalysisError, SqlAnalysisErrorCode } from './errors.ts';
