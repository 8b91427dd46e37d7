/** Why an analysis failed. A const object (erasable), used as the error's `code`. */
export const SqlAnalysisErrorCode = {
  /** The WebAssembly parser was not loaded yet (call initSqlAnalysis()). */
  NotLoaded: 'NOT_LOADED',
  /** PostgreSQL's parser rejected the text. */
  Syntax: 'SYNTAX',
} as const;
export type SqlAnalysisErrorCode = (typeof SqlAnalysisErrorCode)[keyof typeof SqlAnalysisErrorCode];

/** A typed analysis failure. @example if (e instanceof SqlAnalysisError && e.code === 'SYNTAX') … */
export class SqlAnalysisError extends Error {
  readonly code: SqlAnalysisErrorCode;
  constructor(code: SqlAnalysisErrorCode, message: string) {
    super(message);
    this.name = 'SqlAnalysisError';
    this.code = code;
  }
}
