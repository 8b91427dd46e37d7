// Pre/post-state capture of one transaction, by primary key. Before each writing statement runs, the capture
// reads the rows it is about to touch (UPDATE/DELETE: the target rows its WHERE selects, with the same FROM/USING
// items and the same bound parameters; INSERT: the keys its VALUES name, or the owned sequence's position when the
// key comes from a sequence). The first value seen for a key is its pre-state. When the transaction is about to
// end, every key gathered is read again: that is the post-state. Proxy and replay run this same code.
import { renumberParams, type StatementInfo } from '@merklesync/sql-analysis';
import { type TableMeta, pkIndexes, relationText, type TableCatalog } from './catalog.ts';
import { arrayLiteral, textParam, type SqlParam, type SqlRunner } from './runner.ts';
import { quoteIdent } from './sql.ts';

/** Row texts in the table's column order (null = SQL NULL). */
export type RowTexts = (string | null)[];

/** A sequence's position, as `SELECT last_value, is_called` shows it. */
export interface SequenceState {
  readonly column: string;
  readonly sequence: string;
  readonly lastValue: string;
  readonly isCalled: boolean;
}

/** What the capture knows about one table of the transaction. */
export interface TableCapture {
  readonly meta: TableMeta;
  /** pk key (JSON of the pk texts) → pk texts. */
  readonly keys: Map<string, string[]>;
  /** pk key → row before the transaction (null: absent). */
  readonly pre: Map<string, RowTexts | null>;
  /** pk key → row after (filled by finish). */
  readonly post: Map<string, RowTexts | null>;
  /** Sequences owned by the table's columns, as they were when the transaction first touched the table. */
  sequences: SequenceState[];
  /** Rows with pk > this (single integer pk fed by a sequence) were inserted by the transaction. */
  seqFloor?: { column: string; value: string };
}

/** Limits of one capture. */
export interface CaptureLimits {
  /** Most rows one pre-capture query may return per statement; more marks the capture incomplete. */
  readonly maxRowsPerStatement: number;
}

export const DEFAULT_CAPTURE_LIMITS: CaptureLimits = { maxRowsPerStatement: 10_000 };

/** Parameters of a statement as bound by the client: $1 is index 0. */
export type BoundParams = readonly SqlParam[];

/**
 * The capture of one transaction. Not thread-safe: one per session.
 * @example
 * const cap = new TxCapture(catalog);
 * await cap.before(runner, info, params);   // for each INSERT/UPDATE/DELETE, before it runs
 * await cap.finish(runner);                 // before COMMIT (or after an autocommit statement)
 */
export class TxCapture {
  readonly tables = new Map<string, TableCapture>();
  readonly warnings: string[] = [];
  /** True when the capture knows it missed rows (see warnings). */
  incomplete = false;
  readonly #catalog: TableCatalog;
  readonly #limits: CaptureLimits;
  #statement = 0;

  constructor(catalog: TableCatalog, limits: CaptureLimits = DEFAULT_CAPTURE_LIMITS) {
    this.#catalog = catalog;
    this.#limits = limits;
  }

  #warn(message: string): void {
    if (this.warnings.length < 64 && !this.warnings.includes(message)) this.warnings.push(message.slice(0, 1000));
  }

  /**
   * Adds the keys of a table known from elsewhere (replay seeds the claimed key set, so both sides read the same
   * keys at the end).
   */
  async seed(runner: SqlRunner, relation: string, keys: readonly string[][]): Promise<void> {
    const t = await this.#table(runner, relation);
    if (!t) return;
    for (const k of keys) t.keys.set(JSON.stringify(k), k);
  }

  /**
   * Captures what `info` (an INSERT, UPDATE or DELETE) is about to touch. Other statements are ignored.
   * @param index the statement's 1-based position in the transaction, for warnings.
   * @throws CaptureError(TABLE_NOT_FOUND) and whatever the runner throws (a failed capture query).
   */
  async before(runner: SqlRunner, info: StatementInfo, params: BoundParams): Promise<void> {
    this.#statement++;
    const n = this.#statement;
    for (const l of info.captureLimits) {
      this.#warn(`statement ${n}: ${l}`);
      this.incomplete = true;
    }
    if ((info.kind !== 'insert' && info.kind !== 'update' && info.kind !== 'delete') || !info.target) return;
    if (info.captureLimits.length > 0) return;
    const t = await this.#table(runner, relationText(info.target));
    if (!t) {
      this.#warn(`statement ${n}: table ${info.target.name} has no primary key; its rows are not captured`);
      this.incomplete = true;
      return;
    }
    if (info.kind === 'insert') await this.#beforeInsert(runner, t, info, params, n);
    else await this.#beforeWhere(runner, t, info, params, n);
  }

  async #table(runner: SqlRunner, relation: string): Promise<TableCapture | undefined> {
    const meta = await this.#catalog.get(runner, relation);
    if (meta.pk.length === 0) return undefined;
    let t = this.tables.get(meta.name);
    if (!t) {
      t = { meta, keys: new Map(), pre: new Map(), post: new Map(), sequences: [] };
      this.tables.set(meta.name, t);
      t.sequences = await _sequences(runner, meta);
    }
    return t;
  }

  async #beforeWhere(runner: SqlRunner, t: TableCapture, info: StatementInfo, params: BoundParams, n: number): Promise<void> {
    const target = info.target!;
    const ref = target.alias !== undefined ? quoteIdent(target.alias) : quoteIdent(t.meta.rel);
    const texts = [info.whereText ?? 'true', ...(info.fromText !== undefined ? [info.fromText] : [])];
    const { texts: renumbered, original } = renumberParams(texts);
    const cols = t.meta.columns.map((c) => `${ref}.${quoteIdent(c.name)}`).join(', ');
    const from = `${relationText({ schema: t.meta.schema, name: t.meta.rel })}${target.alias !== undefined ? ` AS ${ref}` : ''}${renumbered[1] !== undefined ? `, ${renumbered[1]}` : ''}`;
    const sql = `SELECT ${cols} FROM ${from} WHERE ${renumbered[0]} LIMIT ${this.#limits.maxRowsPerStatement + 1}`;
    const bound = original.map((i) => params[i - 1] ?? textParam(null));
    const rows = await runner.run(sql, bound);
    if (rows.length > this.#limits.maxRowsPerStatement) {
      this.#warn(`statement ${n}: more than ${this.#limits.maxRowsPerStatement} rows of ${t.meta.name} match; the capture keeps the first ${this.#limits.maxRowsPerStatement}`);
      this.incomplete = true;
      rows.length = this.#limits.maxRowsPerStatement;
    }
    if (info.kind === 'update' && info.setColumns?.some((c) => t.meta.pk.includes(c))) {
      this.#warn(`statement ${n}: UPDATE assigns primary-key columns of ${t.meta.name}; rows under their new keys are not captured`);
      this.incomplete = true;
    }
    this.#addRows(t, rows);
  }

  async #beforeInsert(runner: SqlRunner, t: TableCapture, info: StatementInfo, params: BoundParams, n: number): Promise<void> {
    const shape = info.insert!;
    const colNames = shape.columns ?? t.meta.columns.map((c) => c.name);
    const pkPos = t.meta.pk.map((p) => colNames.indexOf(p));
    const known: string[][] = [];
    let unknown = shape.rows === null;
    for (const row of shape.rows ?? []) {
      const key: string[] = [];
      for (const p of pkPos) {
        const v = p < 0 ? undefined : row[p];
        if (v?.kind === 'const' && v.text !== null) key.push(v.text);
        else if (v?.kind === 'param') {
          const b = params[v.index - 1];
          if (b && b.format === 0 && typeof b.value === 'string') key.push(b.value);
          else break;
        } else break;
      }
      if (key.length === pkPos.length) known.push(key);
      else unknown = true;
    }
    if (known.length > 0) {
      // Literal key texts are input syntax ('007' for an int): read the rows back by value to learn the canonical
      // key texts and whether the keys already exist.
      const canon = await _canonicalKeys(runner, t.meta, known);
      const rows = await _rowsByKeys(runner, t.meta, canon);
      this.#addRows(t, rows);
      for (const k of canon) {
        const id = JSON.stringify(k);
        t.keys.set(id, k);
        if (!t.pre.has(id)) t.pre.set(id, null);
      }
    }
    if (unknown) {
      const seqCol = t.meta.pk.length === 1 ? t.meta.columns.find((c) => c.name === t.meta.pk[0] && c.sequence !== null) : undefined;
      const seq = seqCol ? t.sequences.find((s) => s.column === seqCol.name) : undefined;
      if (seqCol && seq) {
        if (!t.seqFloor) {
          const now = await _sequences(runner, t.meta);
          const s = now.find((x) => x.column === seqCol.name)!;
          t.seqFloor = { column: seqCol.name, value: s.isCalled ? s.lastValue : (BigInt(s.lastValue) - 1n).toString() };
        }
      } else {
        this.#warn(`statement ${n}: the keys this INSERT writes into ${t.meta.name} are not in its text and not from an owned sequence; they are not captured`);
        this.incomplete = true;
      }
      if (shape.onConflict !== 'none') {
        this.#warn(`statement ${n}: INSERT … ON CONFLICT with keys the capture cannot see; conflicting rows are not captured`);
        this.incomplete = true;
      }
    }
  }

  #addRows(t: TableCapture, rows: RowTexts[]): void {
    const idx = pkIndexes(t.meta);
    for (const r of rows) {
      const k = idx.map((i) => r[i] ?? '');
      const id = JSON.stringify(k);
      t.keys.set(id, k);
      // First sight wins: later statements see this transaction's own writes.
      if (!t.pre.has(id)) t.pre.set(id, r);
    }
  }

  /**
   * Reads the post-state of every key gathered (and the rows above a sequence floor, whose pre-state is absent).
   * @throws whatever the runner throws.
   */
  async finish(runner: SqlRunner): Promise<void> {
    for (const t of this.tables.values()) {
      const rows = await _rowsByKeys(runner, t.meta, [...t.keys.values()], t.seqFloor);
      t.post.clear();
      const idx = pkIndexes(t.meta);
      for (const r of rows) {
        const k = idx.map((i) => r[i] ?? '');
        const id = JSON.stringify(k);
        t.keys.set(id, k);
        if (!t.pre.has(id)) t.pre.set(id, null);
        t.post.set(id, r);
      }
      for (const id of t.keys.keys()) if (!t.post.has(id)) t.post.set(id, null);
    }
  }
}

async function _sequences(runner: SqlRunner, meta: TableMeta): Promise<SequenceState[]> {
  const out: SequenceState[] = [];
  for (const c of meta.columns) {
    if (c.sequence === null) continue;
    // pg_sequences.last_value is NULL until the first nextval (is_called false): then the next value is start_value.
    const r = await runner.run(
      `SELECT s.last_value::text, s.start_value::text FROM pg_sequences s
        WHERE format('%I.%I', s.schemaname, s.sequencename)::regclass = $1::regclass`,
      [textParam(c.sequence)],
    );
    const row = r[0];
    if (row) out.push({ column: c.name, sequence: c.sequence, lastValue: row[0] ?? row[1] ?? '1', isCalled: row[0] !== null });
  }
  return out;
}

/** Casts key texts through the column types and back to text: input syntax → canonical output text. */
async function _canonicalKeys(runner: SqlRunner, meta: TableMeta, keys: readonly string[][]): Promise<string[][]> {
  const pkCols = pkIndexes(meta).map((i) => meta.columns[i]!);
  const sel = pkCols.map((c, i) => `(k.c${i}::${c.sqlType})::text`).join(', ');
  const sql = `SELECT ${sel} FROM unnest(${pkCols.map((_, i) => `$${i + 1}::text[]`).join(', ')}) AS k(${pkCols.map((_, i) => `c${i}`).join(', ')})`;
  const rows = await runner.run(sql, pkCols.map((_, i) => textParam(arrayLiteral(keys.map((k) => k[i] ?? null)))));
  return rows.map((r) => r.map((v) => v ?? ''));
}

/** Rows of `meta` whose primary key is one of `keys` (texts), plus those above a sequence floor. */
async function _rowsByKeys(runner: SqlRunner, meta: TableMeta, keys: readonly string[][], floor?: { column: string; value: string }): Promise<RowTexts[]> {
  if (keys.length === 0 && !floor) return [];
  const pkCols = pkIndexes(meta).map((i) => meta.columns[i]!);
  const cols = meta.columns.map((c) => `t.${quoteIdent(c.name)}`).join(', ');
  const rel = `${relationText({ schema: meta.schema, name: meta.rel })} AS t`;
  const params: SqlParam[] = [];
  const conds: string[] = [];
  if (keys.length > 0) {
    const lhs = `(${pkCols.map((c) => `t.${quoteIdent(c.name)}`).join(', ')})`;
    const unnest = pkCols.map((_, i) => `$${i + 1}::text[]`).join(', ');
    const casts = pkCols.map((c, i) => `k.c${i}::${c.sqlType}`).join(', ');
    conds.push(`${lhs} IN (SELECT ${casts} FROM unnest(${unnest}) AS k(${pkCols.map((_, i) => `c${i}`).join(', ')}))`);
    for (let i = 0; i < pkCols.length; i++) params.push(textParam(arrayLiteral(keys.map((k) => k[i] ?? null))));
  }
  if (floor) {
    const c = meta.columns.find((x) => x.name === floor.column)!;
    params.push(textParam(floor.value));
    conds.push(`t.${quoteIdent(c.name)} > $${params.length}::${c.sqlType}`);
  }
  return runner.run(`SELECT ${cols} FROM ${rel} WHERE ${conds.join(' OR ')}`, params);
}
