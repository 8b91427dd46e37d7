/** One query parameter: text (format 0) or binary (format 1) bytes as a client bound them, with its type OID (0 = infer). */
export interface SqlParam {
  readonly value: string | Uint8Array | null;
  readonly format: 0 | 1;
  readonly type: number;
}

/**
 * The port the capture runs its SELECTs through: the SQL proxy runs them inside the client's own backend session
 * (so they see the transaction's uncommitted writes); replay runs them on its throw-away database. Results come
 * back in text format, one array of column texts per row (null for SQL NULL).
 */
export interface SqlRunner {
  run(sql: string, params: readonly SqlParam[]): Promise<(string | null)[][]>;
}

/** A parameter of text format (what the capture's own parameters always are). */
export function textParam(value: string | null, type = 0): SqlParam {
  return { value, format: 0, type };
}

/** PostgreSQL array literal of texts: `{"a","b\"c",NULL}`. @example arrayLiteral(['1', null]) // '{"1",NULL}' */
export function arrayLiteral(values: readonly (string | null)[]): string {
  return `{${values.map((v) => (v === null ? 'NULL' : `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`)).join(',')}}`;
}
