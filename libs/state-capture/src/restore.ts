// What replay runs to rebuild a table's pre-state in its throw-away transaction: schema, owned sequences,
// columns with types, defaults, identity/generation and the primary key (not: other constraints, indexes,
// triggers, policies — see the README), then the pre-state rows in one INSERT … SELECT FROM unnest.
import { CaptureError, CaptureErrorCode } from './errors.ts';
import type { PreStateTable } from './record.ts';
import { arrayLiteral, textParam, type SqlParam } from './runner.ts';
import { qualified, quoteIdent } from './sql.ts';

/** Session settings replay pins inside its transaction (SET LOCAL), so text output and plans do not vary. */
export const DETERMINISTIC_SESSION: readonly string[] = [
  "SET LOCAL TimeZone = 'UTC'",
  "SET LOCAL DateStyle = 'ISO, MDY'",
  "SET LOCAL IntervalStyle = 'postgres'",
  'SET LOCAL extra_float_digits = 1',
  "SET LOCAL bytea_output = 'hex'",
  'SET LOCAL max_parallel_workers_per_gather = 0',
  'SET LOCAL max_parallel_maintenance_workers = 0',
  'SET LOCAL jit = off',
];

// A sequence name as pg_get_serial_sequence prints it: identifiers, quoted where needed, schema-qualified.
const _SEQ = /^("([^"]|"")+"|[a-z_][a-z0-9_$]*)\.("([^"]|"")+"|[a-z_][a-z0-9_$]*)$/;

const _INT = /^-?\d{1,20}$/;
const _literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/**
 * The session settings of a replay transaction as one multi-statement text (one round trip): the pinned
 * settings, the statement timeout and the recorded search_path (as a literal; the batch turns
 * standard_conforming_strings on first, so doubling quotes is the whole escaping).
 * @throws RangeError for a timeout that is not a positive integer.
 */
export function sessionSql(searchPath: string, statementTimeoutMs: number, txTimestamp: string | null = null): string {
  if (!Number.isSafeInteger(statementTimeoutMs) || statementTimeoutMs < 1) throw new RangeError('statementTimeoutMs must be a positive integer');
  const out = ['SET LOCAL standard_conforming_strings = on', ...DETERMINISTIC_SESSION, `SET LOCAL statement_timeout = ${statementTimeoutMs}`];
  if (txTimestamp !== null && _TIMESTAMP.test(txTimestamp)) {
    // Pin the transaction timestamp where PostgreSQL lets us: now() and transaction_timestamp() are resolved through
    // the search_path, and a schema listed before an explicit pg_catalog shadows them (also in DEFAULT expressions
    // of the tables created next). CURRENT_TIMESTAMP & co. are grammar, not functions: they cannot be pinned.
    for (const fn of ['now', 'transaction_timestamp']) {
      out.push(`CREATE FUNCTION ${PIN_SCHEMA}.${fn}() RETURNS timestamptz LANGUAGE sql STABLE AS $pin$SELECT ${_literal(txTimestamp)}::timestamptz$pin$`);
    }
    out.unshift(`CREATE SCHEMA ${PIN_SCHEMA}`);
    out.push(`SELECT set_config('search_path', ${_literal(`${PIN_SCHEMA}, pg_catalog, ${searchPath}`)}, true)`);
  } else {
    out.push(`SELECT set_config('search_path', ${_literal(searchPath)}, true)`);
  }
  return out.join('; ');
}

/** Schema of the pinned now() / transaction_timestamp() in replay's throw-away transaction. */
export const PIN_SCHEMA = 'merklesync_pin';
// PostgreSQL's ISO timestamptz output: digits, separators, an offset, optionally BC; nothing to escape.
const _TIMESTAMP = /^\d{4,}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2}( BC)?$/;

/**
 * DDL (no parameters, so several tables' DDL can travel as one multi-statement text) that recreates one table —
 * schema, owned sequences and their positions, columns, primary key (none for an uncaptured table) — and the
 * INSERT of its pre-state rows (with parameters), if it has any.
 * @throws CaptureError(MALFORMED_STATE) for a sequence name that is not a qualified identifier or a bad position.
 */
export function restorePlan(t: Pick<PreStateTable, 'meta' | 'sequences' | 'rows'>): { ddl: string[]; rows?: { sql: string; params: SqlParam[] } } {
  const m = t.meta;
  const rel = qualified(m.schema, m.rel);
  const ddl: string[] = [`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(m.schema)}`];
  for (const c of m.columns) {
    if (c.sequence === null || c.identity !== '') continue;
    if (!_SEQ.test(c.sequence)) throw new CaptureError(CaptureErrorCode.MalformedState, `sequence name ${JSON.stringify(c.sequence)}`);
    ddl.push(`CREATE SEQUENCE IF NOT EXISTS ${c.sequence}`);
  }
  const cols = m.columns.map((c) => {
    let d = `${quoteIdent(c.name)} ${c.sqlType}`;
    if (c.notNull) d += ' NOT NULL';
    if (c.identity !== '') d += ` GENERATED ${c.identity === 'a' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY`;
    else if (c.generated === 's' && c.default !== null) d += ` GENERATED ALWAYS AS (${c.default}) STORED`;
    else if (c.default !== null) d += ` DEFAULT ${c.default}`;
    return d;
  });
  if (m.pk.length > 0) cols.push(`PRIMARY KEY (${m.pk.map(quoteIdent).join(', ')})`);
  ddl.push(`CREATE TABLE ${rel} (${cols.join(', ')})`);
  for (const s of t.sequences) {
    if (!_SEQ.test(s.sequence) || !_INT.test(s.lastValue)) throw new CaptureError(CaptureErrorCode.MalformedState, `sequence position of ${JSON.stringify(s.sequence)}`);
    ddl.push(`SELECT setval(${_literal(s.sequence)}::regclass, ${s.lastValue}, ${s.isCalled ? 'true' : 'false'})`);
  }
  if (t.rows.length === 0) return { ddl };
  const writable = m.columns.map((c, i) => ({ c, i })).filter(({ c }) => c.generated === '');
  const overriding = m.columns.some((c) => c.identity === 'a') ? ' OVERRIDING SYSTEM VALUE' : '';
  const sql =
    `INSERT INTO ${rel} (${writable.map(({ c }) => quoteIdent(c.name)).join(', ')})${overriding} ` +
    `SELECT ${writable.map(({ c }, j) => `k.c${j}::${c.sqlType}`).join(', ')} FROM unnest(${writable.map((_, j) => `$${j + 1}::text[]`).join(', ')}) AS k(${writable.map((_, j) => `c${j}`).join(', ')})`;
  return { ddl, rows: { sql, params: writable.map(({ i }) => textParam(arrayLiteral(t.rows.map((r) => r[i] ?? null)))) } };
}

/**
 * {@link restorePlan} as a list of statements to run one by one.
 * @throws as restorePlan.
 */
export function restoreSql(t: Pick<PreStateTable, 'meta' | 'sequences' | 'rows'>): { sql: string; params: SqlParam[] }[] {
  const p = restorePlan(t);
  return [...p.ddl.map((sql) => ({ sql, params: [] as SqlParam[] })), ...(p.rows ? [p.rows] : [])];
}
