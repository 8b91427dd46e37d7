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

/**
 * Statements (with parameters) that recreate one captured table and fill it with its pre-state rows.
 * @throws CaptureError(MALFORMED_STATE) for a sequence name that is not a qualified identifier.
 */
export function restoreSql(t: PreStateTable): { sql: string; params: SqlParam[] }[] {
  const m = t.meta;
  const rel = qualified(m.schema, m.rel);
  const out: { sql: string; params: SqlParam[] }[] = [{ sql: `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(m.schema)}`, params: [] }];
  for (const c of m.columns) {
    if (c.sequence === null || c.identity !== '') continue;
    if (!_SEQ.test(c.sequence)) throw new CaptureError(CaptureErrorCode.MalformedState, `sequence name ${JSON.stringify(c.sequence)}`);
    out.push({ sql: `CREATE SEQUENCE IF NOT EXISTS ${c.sequence}`, params: [] });
  }
  const cols = m.columns.map((c) => {
    let d = `${quoteIdent(c.name)} ${c.sqlType}`;
    if (c.notNull) d += ' NOT NULL';
    if (c.identity !== '') d += ` GENERATED ${c.identity === 'a' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY`;
    else if (c.generated === 's' && c.default !== null) d += ` GENERATED ALWAYS AS (${c.default}) STORED`;
    else if (c.default !== null) d += ` DEFAULT ${c.default}`;
    return d;
  });
  cols.push(`PRIMARY KEY (${m.pk.map(quoteIdent).join(', ')})`);
  out.push({ sql: `CREATE TABLE ${rel} (${cols.join(', ')})`, params: [] });
  for (const s of t.sequences) {
    out.push({ sql: 'SELECT setval($1::regclass, $2::bigint, $3::boolean)', params: [textParam(s.sequence), textParam(s.lastValue), textParam(s.isCalled ? 't' : 'f')] });
  }
  if (t.rows.length > 0) {
    const writable = m.columns.map((c, i) => ({ c, i })).filter(({ c }) => c.generated === '');
    const overriding = m.columns.some((c) => c.identity === 'a') ? ' OVERRIDING SYSTEM VALUE' : '';
    const sql =
      `INSERT INTO ${rel} (${writable.map(({ c }) => quoteIdent(c.name)).join(', ')})${overriding} ` +
      `SELECT ${writable.map(({ c }, j) => `k.c${j}::${c.sqlType}`).join(', ')} FROM unnest(${writable.map((_, j) => `$${j + 1}::text[]`).join(', ')}) AS k(${writable.map((_, j) => `c${j}`).join(', ')})`;
    out.push({ sql, params: writable.map(({ i }) => textParam(arrayLiteral(t.rows.map((r) => r[i] ?? null)))) });
  }
  return out;
}
