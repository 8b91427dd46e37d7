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
  /** Tables written without a primary key: not captured, but replay recreates them (empty) so statements run. */
  readonly untracked = new Map<string, TableMeta>();
  readonly warnings: string[] = [];
  /** True when the capture knows it missed rows (see warnings). */
  incomplete = false;
  /**
   * The transaction's timestamp (`now()` as text) when {@link pinTimestamp} read it inside the transaction, so
   * replay can pin `now()` / `transaction_timestamp()` to it; null otherwise.
   */
  txTimestamp: string | null = null;
  #timestampRequested = false;
  readonly #catalog: TableCatalog;
  readonly #limits: CaptureLimits;
  #statement = 0;
  /**
   * Capture queries sent and not yet answered. The capture does not wait for its pre-state reads before the
   * statement is sent: the backend answers in order, so they read the state before the statement all the same,
   * and the round trip overlaps with the statement's own.
   */
  #pending: Promise<void>[] = [];
  #failure: Error | undefined;

  constructor(catalog: TableCatalog, limits: CaptureLimits = DEFAULT_CAPTURE_LIMITS) {
    this.#catalog = catalog;
    this.#limits = limits;
  }

  #warn(message: string): void {
    if (this.warnings.length < 64 && !this.warnings.includes(message)) this.warnings.push(message.slice(0, 1000));
  }

  /** Registers a capture query in flight; its continuation runs in answer order. */
  #track(p: Promise<void>): void {
    this.#pending.push(
      p.catch((e: unknown) => {
        this.#failure ??= e instanceof Error ? e : new Error(String(e));
      }),
    );
  }

  /**
   * Waits for every capture query in flight.
   * @throws the first capture query's failure.
   */
  async settle(): Promise<void> {
    while (this.#pending.length > 0) await Promise.all(this.#pending.splice(0));
    if (this.#failure !== undefined) throw this.#failure;
  }

  /**
   * Reads `now()` once, through a runner that runs inside the transaction being captured (pipelined like the
   * pre-state reads). Call it only when that holds: in a separate transaction `now()` is another instant.
   */
  pinTimestamp(runner: SqlRunner): void {
    if (this.#timestampRequested) return;
    this.#timestampRequested = true;
    this.#track(
      runner.run('SELECT now()::text', []).then((rows) => {
        this.txTimestamp = rows[0]?.[0] ?? null;
      }),
    );
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
      const meta = await this.#catalog.get(runner, relationText(info.target));
      this.untracked.set(meta.name, meta);
      this.#warn(`statement ${n}: table ${info.target.name} has no primary key; its rows are not captured`);
      this.incomplete = true;
      return;
    }
    if (info.kind === 'insert') this.#beforeInsert(runner, t, info, params, n);
    else this.#beforeWhere(runner, t, info, params, n);
  }

  async #table(runner: SqlRunner, relation: string): Promise<TableCapture | undefined> {
    const meta = await this.#catalog.get(runner, relation);
    if (meta.pk.length === 0) return undefined;
    let t = this.tables.get(meta.name);
    if (!t) {
      const created: TableCapture = { meta, keys: new Map(), pre: new Map(), post: new Map(), sequences: [] };
      t = created;
      this.tables.set(meta.name, t);
      if (meta.columns.some((c) => c.sequence !== null)) {
        this.#track(
          _sequences(runner, meta).then((s) => {
            created.sequences = s;
          }),
        );
      }
    }
    return t;
  }

  #beforeWhere(runner: SqlRunner, t: TableCapture, info: StatementInfo, params: BoundParams, n: number): void {
    const target = info.target!;
    const ref = target.alias !== undefined ? quoteIdent(target.alias) : quoteIdent(t.meta.rel);
    const texts = [info.whereText ?? 'true', ...(info.fromText !== undefined ? [info.fromText] : [])];
    const { texts: renumbered, original } = renumberParams(texts);
    const cols = t.meta.columns.map((c) => `${ref}.${quoteIdent(c.name)}`).join(', ');
    const from = `${relationText({ schema: t.meta.schema, name: t.meta.rel })}${target.alias !== undefined ? ` AS ${ref}` : ''}${renumbered[1] !== undefined ? `, ${renumbered[1]}` : ''}`;
    const sql = `SELECT ${cols} FROM ${from} WHERE ${renumbered[0]} LIMIT ${this.#limits.maxRowsPerStatement + 1}`;
    const bound = original.map((i) => params[i - 1] ?? textParam(null));
    if (info.kind === 'update' && info.setColumns?.some((c) => t.meta.pk.includes(c))) {
      this.#warn(`statement ${n}: UPDATE assigns primary-key columns of ${t.meta.name}; rows under their new keys are not captured`);
      this.incomplete = true;
    }
    this.#track(
      runner.run(sql, bound).then((rows) => {
        if (rows.length > this.#limits.maxRowsPerStatement) {
          this.#warn(`statement ${n}: more than ${this.#limits.maxRowsPerStatement} rows of ${t.meta.name} match; the capture keeps the first ${this.#limits.maxRowsPerStatement}`);
          this.incomplete = true;
          rows.length = this.#limits.maxRowsPerStatement;
        }
        this.#addRows(t, rows);
      }),
    );
  }

  #beforeInsert(runner: SqlRunner, t: TableCapture, info: StatementInfo, params: BoundParams, n: number): void {
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
      // Literal key texts are input syntax ('007' for an int): one query casts them to the canonical key texts and
      // reads the rows that already have those keys.
      this.#track(
        _rowsByInputKeys(runner, t.meta, known).then(({ keys, rows }) => {
          this.#addRows(t, rows);
          for (const k of keys) {
            const id = JSON.stringify(k);
            t.keys.set(id, k);
            if (!t.pre.has(id)) t.pre.set(id, null);
          }
        }),
      );
    }
    if (unknown) {
      const seqCol = t.meta.pk.length === 1 ? t.meta.columns.find((c) => c.name === t.meta.pk[0] && c.sequence !== null) : undefined;
      if (seqCol) {
        if (!t.seqFloor) {
          // Placeholder until the sequence read answers (it is read before the INSERT runs).
          t.seqFloor = { column: seqCol.name, value: '' };
          const floor = t.seqFloor;
          this.#track(
            _sequences(runner, t.meta).then((now) => {
              const s = now.find((x) => x.column === seqCol.name);
              floor.value = s ? (s.isCalled ? s.lastValue : (BigInt(s.lastValue) - 1n).toString()) : '0';
            }),
          );
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
   * When no capture query is in flight the reads are sent before this returns its promise, so a caller may send
   * the COMMIT right behind them without waiting.
   * @throws whatever the runner throws.
   */
  finish(runner: SqlRunner): Promise<void> {
    if (this.#pending.length > 0 || this.#failure !== undefined) return this.settle().then(() => this.#post(runner));
    return this.#post(runner);
  }

  async #post(runner: SqlRunner): Promise<void> {
    const reads = [...this.tables.values()].map((t) => ({ t, rows: _rowsByKeys(runner, t.meta, [...t.keys.values()], t.seqFloor) }));
    for (const { t, rows: pending } of reads) {
      const rows = await pending;
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

/**
 * Casts literal key texts through the column types (input syntax → canonical output text) and reads the rows that
 * have those keys, in one query: per key its canonical texts, then the row's columns (all NULL when absent).
 */
async function _rowsByInputKeys(runner: SqlRunner, meta: TableMeta, keys: readonly string[][]): Promise<{ keys: string[][]; rows: RowTexts[] }> {
  const pkCols = pkIndexes(meta).map((i) => meta.columns[i]!);
  const canon = pkCols.map((c, i) => `(k.c${i}::${c.sqlType})::text`).join(', ');
  const cols = meta.columns.map((c) => `t.${quoteIdent(c.name)}`).join(', ');
  const on = pkCols.map((c, i) => `t.${quoteIdent(c.name)} = k.c${i}::${c.sqlType}`).join(' AND ');
  const sql =
    `SELECT ${canon}, t.${quoteIdent(pkCols[0]!.name)} IS NOT NULL, ${cols} FROM unnest(${pkCols.map((_, i) => `$${i + 1}::text[]`).join(', ')}) ` +
    `AS k(${pkCols.map((_, i) => `c${i}`).join(', ')}) LEFT JOIN ${relationText({ schema: meta.schema, name: meta.rel })} AS t ON ${on}`;
  const res = await runner.run(sql, pkCols.map((_, i) => textParam(arrayLiteral(keys.map((k) => k[i] ?? null)))));
  const n = pkCols.length;
  return {
    keys: res.map((r) => r.slice(0, n).map((v) => v ?? '')),
    rows: res.filter((r) => r[n] === 't').map((r) => r.slice(n + 1)),
  };
}

/** Rows of `meta` whose primary key is one of `keys` (texts), plus those above a sequence floor. */
async function _rowsByKeys(runner: SqlRunner, meta: TableMeta, keys: readonly string[][], floor?: { column: string; value: string }): Promise<RowTexts[]> {
  if (keys.length === 0 && (!floor || floor.value === '')) return [];
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
  if (floor && floor.value !== '') {
    const c = meta.columns.find((x) => x.name === floor.column)!;
    params.push(textParam(floor.value));
    conds.push(`t.${quoteIdent(c.name)} > $${params.length}::${c.sqlType}`);
  }
  return runner.run(`SELECT ${cols} FROM ${rel} WHERE ${conds.join(' OR ')}`, params);
}
