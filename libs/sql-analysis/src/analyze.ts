// Statement analysis over the real PostgreSQL parser (libpg-query: PostgreSQL 18's parser compiled to
// WebAssembly). Reports what a statement is, which tables it touches and which non-deterministic functions it
// calls, plus the pieces of its text the state capture needs (WHERE / FROM / USING clauses, INSERT values).
// It never rewrites or blocks anything.
import { loadModule, parseSync, scanSync } from 'libpg-query';
import { SqlAnalysisError, SqlAnalysisErrorCode } from './errors.ts';

/** Statement kinds the proxy distinguishes. */
export const StatementKind = { Select: 'select', Insert: 'insert', Update: 'update', Delete: 'delete', Other: 'other' } as const;
export type StatementKind = (typeof StatementKind)[keyof typeof StatementKind];

/** Transaction-control statements (TransactionStmt kinds). */
export const TxControl = {
  Begin: 'begin',
  Commit: 'commit',
  Rollback: 'rollback',
  Savepoint: 'savepoint',
  Release: 'release',
  RollbackTo: 'rollback_to',
  Prepare: 'prepare',
  CommitPrepared: 'commit_prepared',
  RollbackPrepared: 'rollback_prepared',
} as const;
export type TxControl = (typeof TxControl)[keyof typeof TxControl];

/** A table a statement names. `schema` is absent when the statement relies on search_path. */
export interface TableRef {
  readonly schema?: string;
  readonly name: string;
  readonly alias?: string;
  /** `target`: written by the statement; `read`: only read. */
  readonly role: 'target' | 'read';
}

/** One value of an INSERT … VALUES row, as far as the capture needs to know it. */
export type InsertValue =
  | { readonly kind: 'const'; readonly text: string | null }
  | { readonly kind: 'param'; readonly index: number }
  | { readonly kind: 'default' }
  | { readonly kind: 'expr' };

/** What an INSERT writes. */
export interface InsertShape {
  /** Column list as written, or null when omitted (all columns in order). */
  readonly columns: readonly string[] | null;
  /** VALUES rows, or null for INSERT … SELECT / DEFAULT VALUES. */
  readonly rows: readonly (readonly InsertValue[])[] | null;
  readonly defaultValues: boolean;
  readonly onConflict: 'none' | 'nothing' | 'update';
}

/** The analysis of one statement. */
export interface StatementInfo {
  readonly kind: StatementKind;
  /** Parser node name (`SelectStmt`, `TransactionStmt`, `CreateStmt`, …). */
  readonly node: string;
  /** The statement's own text (without the separating semicolon). */
  readonly text: string;
  /** Transaction control, when the statement is one. */
  readonly tx?: TxControl;
  readonly tables: readonly TableRef[];
  /** The table written by INSERT / UPDATE / DELETE. */
  readonly target?: TableRef;
  /** Non-deterministic functions called (lower-case names, `current_timestamp` etc. for SQL value functions). */
  readonly nondeterministic: readonly string[];
  /** `SELECT … FOR UPDATE/SHARE` and data-modifying CTEs make a SELECT a writer; true for INSERT/UPDATE/DELETE/MERGE. */
  readonly writes: boolean;
  /** Text of the WHERE condition of UPDATE/DELETE (may contain $n parameters). */
  readonly whereText?: string;
  /** Text of UPDATE's FROM list or DELETE's USING list. */
  readonly fromText?: string;
  /** Columns UPDATE assigns. */
  readonly setColumns?: readonly string[];
  readonly insert?: InsertShape;
  /** Highest $n the statement references (0 when none). */
  readonly maxParam: number;
  /** Reasons the capture cannot follow this statement exactly (WITH clause, WHERE CURRENT OF, MERGE, COPY FROM …). */
  readonly captureLimits: readonly string[];
}

/** Functions whose result differs between runs (lower-case, unqualified or pg_catalog). */
export const NONDETERMINISTIC_FUNCTIONS: ReadonlySet<string> = new Set([
  'now', 'clock_timestamp', 'statement_timestamp', 'transaction_timestamp', 'timeofday',
  'random', 'random_normal', 'setseed', 'gen_random_uuid', 'uuid_generate_v1', 'uuid_generate_v1mc', 'uuid_generate_v4', 'uuidv4', 'uuidv7',
  'nextval', 'currval', 'lastval', 'setval',
  'txid_current', 'txid_current_if_assigned', 'pg_current_xact_id', 'pg_current_xact_id_if_assigned', 'txid_current_snapshot', 'pg_current_snapshot',
  'pg_backend_pid', 'inet_client_addr', 'inet_client_port', 'inet_server_addr', 'inet_server_port', 'pg_postmaster_start_time', 'pg_conf_load_time',
  'pg_sleep', 'pg_sleep_for', 'pg_sleep_until',
]);

// SQL value functions (CURRENT_TIMESTAMP & co. are grammar, not function calls).
const _SVF: Record<string, string | undefined> = {
  SVFOP_CURRENT_DATE: 'current_date',
  SVFOP_CURRENT_TIME: 'current_time',
  SVFOP_CURRENT_TIME_N: 'current_time',
  SVFOP_CURRENT_TIMESTAMP: 'current_timestamp',
  SVFOP_CURRENT_TIMESTAMP_N: 'current_timestamp',
  SVFOP_LOCALTIME: 'localtime',
  SVFOP_LOCALTIME_N: 'localtime',
  SVFOP_LOCALTIMESTAMP: 'localtimestamp',
  SVFOP_LOCALTIMESTAMP_N: 'localtimestamp',
};

const _TX: Record<string, TxControl | undefined> = {
  TRANS_STMT_BEGIN: 'begin',
  TRANS_STMT_START: 'begin',
  TRANS_STMT_COMMIT: 'commit',
  TRANS_STMT_ROLLBACK: 'rollback',
  TRANS_STMT_SAVEPOINT: 'savepoint',
  TRANS_STMT_RELEASE: 'release',
  TRANS_STMT_ROLLBACK_TO: 'rollback_to',
  TRANS_STMT_PREPARE: 'prepare',
  TRANS_STMT_COMMIT_PREPARED: 'commit_prepared',
  TRANS_STMT_ROLLBACK_PREPARED: 'rollback_prepared',
};

let _ready: Promise<void> | undefined;

/**
 * Loads the WebAssembly parser once; every other function needs it.
 * @example await initSqlAnalysis()
 */
export function initSqlAnalysis(): Promise<void> {
  _ready ??= loadModule();
  return _ready;
}

type _Node = Record<string, unknown>;
const _isObj = (v: unknown): v is _Node => typeof v === 'object' && v !== null;

/**
 * Parses `sql` (one or more statements) and analyses each. Results are cached by text (LRU) because drivers
 * send the same prepared statement text over and over; pass `{ cache: false }` for text that is unlikely to repeat
 * (simple-protocol queries with literals), where a churning cache only feeds the old generation of the heap.
 * @throws SqlAnalysisError(NOT_LOADED) before {@link initSqlAnalysis} finished; SqlAnalysisError(SYNTAX) with the
 *   parser's message for text PostgreSQL would reject; TypeError when sql is not a string.
 * @example analyzeSql('UPDATE users SET n = random() WHERE id = 1')[0].nondeterministic // ['random']
 */
export function analyzeSql(sql: string, options: { cache?: boolean } = {}): readonly StatementInfo[] {
  if (typeof sql !== 'string') throw new TypeError('sql must be a string');
  const useCache = options.cache ?? true;
  const hit = useCache ? _cache.get(sql) : undefined;
  if (hit) {
    _cache.delete(sql);
    _cache.set(sql, hit);
    return hit;
  }
  if (sql.trim() === '') return [];
  let parsed: { stmts?: { stmt?: _Node; stmt_location?: number; stmt_len?: number }[] };
  try {
    parsed = parseSync(sql);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/not (been )?(loaded|initialized)/i.test(msg)) throw new SqlAnalysisError(SqlAnalysisErrorCode.NotLoaded, 'call initSqlAnalysis() first');
    throw new SqlAnalysisError(SqlAnalysisErrorCode.Syntax, msg);
  }
  // Locations are byte offsets into the UTF-8 text; slice bytes, not UTF-16 units.
  const bytes = _utf8.encode(sql);
  const out: StatementInfo[] = [];
  for (const s of parsed.stmts ?? []) {
    const start = s.stmt_location ?? 0;
    const len = s.stmt_len ?? 0;
    const text = _dec.decode(bytes.subarray(start, len === 0 ? bytes.length : start + len)).trim();
    if (!s.stmt) continue;
    out.push(_analyze(s.stmt, text));
  }
  if (!useCache) return out;
  if (_cache.size >= _CACHE_MAX) _cache.delete(_cache.keys().next().value as string);
  _cache.set(sql, out);
  return out;
}

const _CACHE_MAX = 2048;
const _cache = new Map<string, readonly StatementInfo[]>();
const _utf8 = new TextEncoder();
const _dec = new TextDecoder();

function _analyze(stmt: _Node, text: string): StatementInfo {
  const node = Object.keys(stmt)[0] ?? 'Unknown';
  const body = _isObj(stmt[node]) ? stmt[node] : {};
  const tables: TableRef[] = [];
  const nondet = new Set<string>();
  const ctes = new Set<string>();
  let maxParam = 0;
  let dataModifyingCte = false;
  // One generic walk: RangeVars are tables, FuncCall / SQLValueFunction non-determinism, ParamRef params.
  const walk = (v: unknown, parentKey: string): void => {
    if (Array.isArray(v)) {
      for (const x of v) walk(x, parentKey);
      return;
    }
    if (!_isObj(v)) return;
    for (const [k, child] of Object.entries(v)) {
      if (k === 'RangeVar' && _isObj(child)) {
        const name = String(child.relname);
        const schema = typeof child.schemaname === 'string' ? child.schemaname : undefined;
        const alias = _isObj(child.alias) && typeof child.alias.aliasname === 'string' ? child.alias.aliasname : undefined;
        if (!(schema === undefined && ctes.has(name)) && parentKey !== 'relation') tables.push({ ...(schema ? { schema } : {}), name, ...(alias ? { alias } : {}), role: 'read' });
      } else if (k === 'FuncCall' && _isObj(child) && Array.isArray(child.funcname)) {
        const parts = (child.funcname as unknown[]).map((p) => (_isObj(p) && _isObj(p.String) ? String(p.String.sval) : ''));
        const fn = parts[parts.length - 1]?.toLowerCase() ?? '';
        if (NONDETERMINISTIC_FUNCTIONS.has(fn) && (parts.length === 1 || parts[0] === 'pg_catalog')) nondet.add(fn);
      } else if (k === 'SQLValueFunction' && _isObj(child)) {
        const f = _SVF[String(child.op)];
        if (f) nondet.add(f);
      } else if (k === 'ParamRef' && _isObj(child) && typeof child.number === 'number') {
        maxParam = Math.max(maxParam, child.number);
      } else if (k === 'CommonTableExpr' && _isObj(child)) {
        if (typeof child.ctename === 'string') ctes.add(child.ctename);
        const q = _isObj(child.ctequery) ? Object.keys(child.ctequery)[0] : undefined;
        if (q === 'InsertStmt' || q === 'UpdateStmt' || q === 'DeleteStmt' || q === 'MergeStmt') dataModifyingCte = true;
      }
      walk(child, k);
    }
  };
  // CTE names first, so references to them are not reported as tables.
  if (_isObj(body.withClause)) walk(body.withClause, 'withClause');
  walk(body, node);

  const captureLimits: string[] = [];
  const relation = _isObj(body.relation) ? body.relation : undefined;
  const target: TableRef | undefined = relation
    ? {
        ...(typeof relation.schemaname === 'string' ? { schema: relation.schemaname } : {}),
        name: String(relation.relname),
        ...(_isObj(relation.alias) && typeof relation.alias.aliasname === 'string' ? { alias: relation.alias.aliasname } : {}),
        role: 'target',
      }
    : undefined;
  if (body.withClause !== undefined) captureLimits.push('WITH clause: the capture does not evaluate common table expressions');

  const base = { node, text, nondeterministic: [...nondet], maxParam, captureLimits };
  switch (node) {
    case 'SelectStmt': {
      const locking = Array.isArray(body.lockingClause) && body.lockingClause.length > 0;
      return { ...base, kind: 'select', tables: _dedupe(tables), writes: locking || dataModifyingCte };
    }
    case 'InsertStmt':
      return { ...base, kind: 'insert', tables: _dedupe([target!, ...tables]), target: target!, writes: true, insert: _insertShape(body) };
    case 'UpdateStmt': {
      const clauses = _clauses(text, 'update');
      if (_isObj(body.whereClause) && _isObj(body.whereClause.CurrentOfExpr)) captureLimits.push('WHERE CURRENT OF: rows of a cursor cannot be captured');
      const setColumns = Array.isArray(body.targetList)
        ? (body.targetList as unknown[]).map((t) => (_isObj(t) && _isObj(t.ResTarget) ? String(t.ResTarget.name) : '')).filter((n) => n !== '')
        : [];
      return { ...base, kind: 'update', tables: _dedupe([target!, ...tables]), target: target!, writes: true, setColumns, ...clauses };
    }
    case 'DeleteStmt': {
      const clauses = _clauses(text, 'delete');
      if (_isObj(body.whereClause) && _isObj(body.whereClause.CurrentOfExpr)) captureLimits.push('WHERE CURRENT OF: rows of a cursor cannot be captured');
      return { ...base, kind: 'delete', tables: _dedupe([target!, ...tables]), target: target!, writes: true, ...clauses };
    }
    case 'MergeStmt':
      captureLimits.push('MERGE is not captured');
      return { ...base, kind: 'other', tables: _dedupe(target ? [target, ...tables] : tables), ...(target ? { target } : {}), writes: true };
    case 'CopyStmt': {
      const from = body.is_from === true;
      if (from) captureLimits.push('COPY FROM is passed through but not captured');
      return { ...base, kind: 'other', tables: _dedupe(target ? [{ ...target, role: from ? 'target' : 'read' }, ...tables] : tables), writes: from };
    }
    case 'TransactionStmt': {
      const tx = _TX[String(body.kind)];
      return { ...base, kind: 'other', tables: [], writes: false, ...(tx ? { tx } : {}) };
    }
    default:
      return { ...base, kind: 'other', tables: _dedupe(target ? [{ ...target, role: 'target' }, ...tables] : tables), writes: false };
  }
}

function _dedupe(list: TableRef[]): TableRef[] {
  const seen = new Set<string>();
  const out: TableRef[] = [];
  for (const t of list) {
    const k = `${t.schema ?? ''}\u0000${t.name}\u0000${t.alias ?? ''}\u0000${t.role}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(t);
    }
  }
  return out;
}

function _insertShape(body: _Node): InsertShape {
  const columns = Array.isArray(body.cols) ? (body.cols as unknown[]).map((c) => (_isObj(c) && _isObj(c.ResTarget) ? String(c.ResTarget.name) : '')) : null;
  const oc = _isObj(body.onConflictClause) ? String(body.onConflictClause.action) : '';
  const onConflict = oc === 'ONCONFLICT_NOTHING' ? 'nothing' : oc === 'ONCONFLICT_UPDATE' ? 'update' : 'none';
  const sel = _isObj(body.selectStmt) && _isObj(body.selectStmt.SelectStmt) ? body.selectStmt.SelectStmt : undefined;
  if (!sel) return { columns, rows: null, defaultValues: true, onConflict };
  if (!Array.isArray(sel.valuesLists)) return { columns, rows: null, defaultValues: false, onConflict };
  const rows = (sel.valuesLists as unknown[]).map((l) => {
    const items = _isObj(l) && _isObj(l.List) && Array.isArray(l.List.items) ? (l.List.items as unknown[]) : [];
    return items.map(_insertValue);
  });
  return { columns, rows, defaultValues: false, onConflict };
}

function _insertValue(v: unknown): InsertValue {
  if (!_isObj(v)) return { kind: 'expr' };
  if (_isObj(v.SetToDefault)) return { kind: 'default' };
  if (_isObj(v.ParamRef) && typeof v.ParamRef.number === 'number') return { kind: 'param', index: v.ParamRef.number };
  // 'x'::type and CAST(… AS type) keep the literal's text; the column type decides the value.
  if (_isObj(v.TypeCast)) return _insertValue(v.TypeCast.arg);
  if (_isObj(v.A_Const)) {
    const c = v.A_Const;
    if (c.isnull === true) return { kind: 'const', text: null };
    if (_isObj(c.ival)) return { kind: 'const', text: typeof c.ival.ival === 'number' ? String(c.ival.ival) : '0' };
    if (_isObj(c.fval)) return { kind: 'const', text: String(c.fval.fval) };
    if (_isObj(c.sval)) return { kind: 'const', text: typeof c.sval.sval === 'string' ? c.sval.sval : '' };
    if (_isObj(c.boolval)) return { kind: 'const', text: c.boolval.boolval === true ? 't' : 'f' };
  }
  return { kind: 'expr' };
}

/**
 * Finds the top-level (parenthesis depth 0) FROM/USING, WHERE and RETURNING keywords of an UPDATE/DELETE with the
 * parser's own scanner, and returns the text between them.
 */
function _clauses(text: string, kind: 'update' | 'delete'): { whereText?: string; fromText?: string } {
  const tokens = scanSync(text).tokens;
  const bytes = _utf8.encode(text);
  let depth = 0;
  let sawSet = false;
  let sawFromOfDelete = false;
  let fromAt = -1;
  let whereAt = -1;
  let whereKw = -1;
  let endAt = bytes.length;
  for (const t of tokens) {
    const word = t.keywordKind > 0 ? _dec.decode(bytes.subarray(t.start, t.end)).toUpperCase() : '';
    if (t.tokenName === 'ASCII_40' || t.tokenName === 'ASCII_91') depth++;
    else if (t.tokenName === 'ASCII_41' || t.tokenName === 'ASCII_93') depth--;
    if (depth !== 0 || word === '') continue;
    if (word === 'SET') sawSet = true;
    else if (word === 'FROM' && kind === 'update' && sawSet && fromAt < 0 && whereAt < 0) {
      fromAt = t.end;
    } else if (word === 'FROM' && kind === 'delete') sawFromOfDelete = true;
    else if (word === 'USING' && kind === 'delete' && sawFromOfDelete && fromAt < 0 && whereAt < 0) {
      fromAt = t.end;
    } else if (word === 'WHERE' && whereAt < 0) {
      whereKw = t.start;
      whereAt = t.end;
    } else if (word === 'RETURNING') {
      endAt = t.start;
      break;
    }
  }
  const slice = (a: number, b: number): string => _dec.decode(bytes.subarray(a, b)).trim();
  const out: { whereText?: string; fromText?: string } = {};
  if (whereAt >= 0) out.whereText = slice(whereAt, endAt);
  if (fromAt >= 0) out.fromText = slice(fromAt, whereKw >= 0 ? whereKw : endAt);
  return out;
}

/**
 * Renumbers the `$n` parameters of SQL fragments so that only the referenced ones are passed on: returns the
 * fragments with `$1..$k` and, for each new number, the original parameter number. Uses the parser's scanner, so
 * `$1` inside a string literal or a comment is left alone.
 * @throws SqlAnalysisError(NOT_LOADED) before initSqlAnalysis().
 * @example renumberParams(['a = $3', 'b = $1 OR c = $3']) // { texts: ['a = $1', 'b = $2 OR c = $1'], original: [3, 1] }
 */
export function renumberParams(texts: readonly string[]): { texts: string[]; original: number[] } {
  const original: number[] = [];
  const index = new Map<number, number>();
  const out = texts.map((text) => {
    const bytes = _utf8.encode(text);
    const parts: string[] = [];
    let at = 0;
    for (const t of scanSync(text).tokens) {
      if (t.tokenName !== 'PARAM') continue;
      const n = Number(_dec.decode(bytes.subarray(t.start + 1, t.end)));
      let k = index.get(n);
      if (k === undefined) {
        original.push(n);
        k = original.length;
        index.set(n, k);
      }
      parts.push(_dec.decode(bytes.subarray(at, t.start)), `$${k}`);
      at = t.end;
    }
    parts.push(_dec.decode(bytes.subarray(at)));
    return parts.join('');
  });
  return { texts: out, original };
}

// Words whose presence means a statement may write, lock, call something non-deterministic or be more than one
// read: any of them and the text is parsed for real.
const _ATTENTION = new Set([
  ...NONDETERMINISTIC_FUNCTIONS,
  'insert', 'update', 'delete', 'merge', 'into', 'copy', 'call', 'do', 'for', 'lock', 'execute', 'prepare', 'set',
  'current_date', 'current_time', 'current_timestamp', 'localtime', 'localtimestamp', 'begin', 'commit', 'rollback',
]);
const _READ_START = /^\s*(select|show|values|table)\b/i;

/**
 * A cheap, conservative pre-check for the hot path: false only for text that starts as a read (SELECT, SHOW,
 * VALUES, TABLE), is one statement and contains none of the words that could make it write, lock or call a
 * non-deterministic function — text whose analysis could only say "a plain read, no warning". Anything else
 * (including such a word inside a literal) answers true and goes to {@link analyzeSql}.
 * @example needsAnalysis('SELECT abalance FROM pgbench_accounts WHERE aid = 7') // false
 */
export function needsAnalysis(sql: string): boolean {
  if (!_READ_START.test(sql)) return true;
  const semi = sql.indexOf(';');
  if (semi >= 0 && sql.slice(semi + 1).trim() !== '') return true;
  for (const w of sql.toLowerCase().split(/[^a-z0-9_]+/)) if (_ATTENTION.has(w)) return true;
  return false;
}
