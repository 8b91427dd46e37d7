import { createHash } from 'node:crypto';
import { _tables, type StoreConfig } from '../config.ts';
import { _buf, _bytes, _dbError, inTransaction, type PgPool, type Queryable } from '../db.ts';
import { StoreError, StoreErrorCode } from '../errors.ts';

/** A checkpoint to append: the signed note and the values it commits to. */
export interface CheckpointInput {
  readonly logId: string;
  /** Checkpoint sequence number: strictly increasing per log. */
  readonly seq: number;
  /** Log size the note commits to: never decreasing per log. */
  readonly logSize: number;
  readonly logRoot: Uint8Array;
  /** Root over all table roots at this point (the caller's commitment, e.g. databaseRoot). */
  readonly stateRoot: Uint8Array;
  /** The signed note text (C2SP signed-note, libs/crypto). */
  readonly note: string;
  /** `hash` of the previous checkpoint of this log; null for the first. */
  readonly prevHash: Uint8Array | null;
  /**
   * Every table root the state root commits to, stored with the checkpoint (`checkpoint_tables`) so proofs can
   * be anchored in it later ({@link PgCheckpointStore.tableRootsAt}). Omitted: not recorded (tableCount null).
   */
  readonly tables?: readonly CheckpointTableRoot[];
}

/** One table root a checkpoint commits to. */
export interface CheckpointTableRoot {
  readonly source: string;
  readonly table: string;
  readonly root: Uint8Array;
}

/** A stored checkpoint. */
export interface StoredCheckpoint extends CheckpointInput {
  /** SHA-256 of the note's UTF-8 bytes: what the next checkpoint's `prevHash` names. */
  readonly hash: Uint8Array;
  readonly createdAt: Date;
  /** Number of table roots recorded with it; null when none were (appended without `tables`, or before migration 2). */
  readonly tableCount: number | null;
}

interface _Row {
  log_id: string;
  seq: string;
  log_size: string;
  log_root: Buffer;
  state_root: Buffer;
  note: string;
  note_hash: Buffer;
  prev_hash: Buffer | null;
  created_at: Date;
  table_count: number | null;
}

/**
 * SHA-256 of a note's UTF-8 bytes: the chain link.
 * @example checkpointHash(note)
 */
export function checkpointHash(note: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(note, 'utf8').digest());
}

/**
 * The append-only checkpoint chain per log. Appends take a per-log advisory lock and check the chain
 * rules (seq strictly increasing, size never decreasing, prevHash = previous hash); a database trigger
 * enforces the same rules and forbids UPDATE/DELETE for anyone bypassing this class.
 * @example const cp = await checkpoints.append({ logId: 'global', seq: 1, ... , prevHash: null })
 */
export class PgCheckpointStore {
  private readonly _pool: PgPool;
  private readonly _table: string;
  private readonly _tablesTable: string;

  constructor(pool: PgPool, config: StoreConfig) {
    this._pool = pool;
    this._table = _tables(config).checkpoints;
    this._tablesTable = _tables(config).checkpointTables;
  }

  /**
   * Appends a checkpoint (inside `tx` when given, e.g. an applyBatch unit of work).
   * @throws StoreError(CHECKPOINT_OUT_OF_ORDER) when it does not extend the chain; RangeError/TypeError for
   *   malformed fields; StoreError(DATABASE) when Postgres fails.
   * @example await checkpoints.append({ ...cp, prevHash: (await checkpoints.latest('global'))?.hash ?? null })
   */
  async append(cp: CheckpointInput, tx?: Queryable): Promise<StoredCheckpoint> {
    if (tx === undefined) return inTransaction(this._pool, (c) => this.append(cp, c));
    _check(cp);
    const hash = checkpointHash(cp.note);
    try {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`${this._table}:${cp.logId}`]);
    } catch (e) {
      throw _dbError('lock checkpoint chain', e);
    }
    const last = await this.latest(cp.logId, tx);
    const why =
      last === undefined
        ? cp.prevHash !== null
          ? 'the first checkpoint must have prevHash null'
          : null
        : cp.seq <= last.seq
          ? `seq ${cp.seq} does not follow ${last.seq}`
          : cp.logSize < last.logSize
            ? `log size ${cp.logSize} is below ${last.logSize}`
            : cp.prevHash === null || Buffer.compare(_buf(cp.prevHash), _buf(last.hash)) !== 0
              ? 'prevHash does not name the previous checkpoint'
              : null;
    if (why !== null) throw new StoreError(StoreErrorCode.CheckpointOutOfOrder, `checkpoint for ${cp.logId}: ${why}`);
    const tables = cp.tables;
    const res = await tx
      .query<_Row>(
        `INSERT INTO ${this._table} (log_id, seq, log_size, log_root, state_root, note, note_hash, prev_hash, table_count)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
        [
          cp.logId,
          cp.seq,
          cp.logSize,
          _buf(cp.logRoot),
          _buf(cp.stateRoot),
          cp.note,
          _buf(hash),
          cp.prevHash === null ? null : _buf(cp.prevHash),
          tables === undefined ? null : tables.length,
        ],
      )
      .catch((e: unknown) => {
        throw _dbError('append checkpoint', e);
      });
    if (tables !== undefined && tables.length > 0) {
      await tx
        .query(
          `INSERT INTO ${this._tablesTable} (log_id, seq, source, table_name, root)
           SELECT $1, $2, s, t, r FROM unnest($3::text[], $4::text[], $5::bytea[]) AS u(s, t, r)`,
          [cp.logId, cp.seq, tables.map((t) => t.source), tables.map((t) => t.table), tables.map((t) => _buf(t.root))],
        )
        .catch((e: unknown) => {
          throw _dbError('append checkpoint tables', e);
        });
    }
    return _fromRow(res.rows[0]!);
  }

  /**
   * The table roots checkpoint `seq` commits to, sorted by source then table; undefined when the checkpoint
   * does not exist or was stored without them (tableCount null). Old map nodes are never deleted, so every
   * root returned here can still be proven against.
   * @throws StoreError(CORRUPT_NODE) when fewer rows than the recorded count are stored; StoreError(DATABASE).
   * @example const roots = await checkpoints.tableRootsAt('global', 7)
   */
  async tableRootsAt(logId: string, seq: number, db: Queryable = this._pool): Promise<CheckpointTableRoot[] | undefined> {
    const res = await db
      .query<{ table_count: number | null; source: string | null; table_name: string | null; root: Buffer | null }>(
        `SELECT c.table_count, t.source, t.table_name, t.root
           FROM ${this._table} c LEFT JOIN ${this._tablesTable} t ON t.log_id = c.log_id AND t.seq = c.seq
          WHERE c.log_id = $1 AND c.seq = $2
          ORDER BY t.source, t.table_name`,
        [logId, seq],
      )
      .catch((e: unknown) => {
        throw _dbError('tableRootsAt', e);
      });
    const first = res.rows[0];
    if (first === undefined || first.table_count === null) return undefined;
    const out = res.rows.filter((r) => r.source !== null).map((r) => ({ source: r.source!, table: r.table_name!, root: _bytes(r.root!) }));
    if (out.length !== first.table_count) {
      throw new StoreError(StoreErrorCode.CorruptNode, `checkpoint ${logId}/${seq} records ${first.table_count} tables, ${out.length} stored`);
    }
    return out;
  }

  /**
   * The latest checkpoint of a log, or undefined.
   * @throws StoreError(DATABASE).
   * @example (await checkpoints.latest('global'))?.seq
   */
  async latest(logId: string, db: Queryable = this._pool): Promise<StoredCheckpoint | undefined> {
    const res = await db
      .query<_Row>(`SELECT * FROM ${this._table} WHERE log_id = $1 ORDER BY seq DESC LIMIT 1`, [logId])
      .catch((e: unknown) => {
        throw _dbError('latest checkpoint', e);
      });
    return res.rows[0] === undefined ? undefined : _fromRow(res.rows[0]);
  }

  /**
   * The checkpoint with sequence `seq`, or undefined.
   * @throws StoreError(DATABASE).
   * @example await checkpoints.bySeq('global', 7)
   */
  async bySeq(logId: string, seq: number, db: Queryable = this._pool): Promise<StoredCheckpoint | undefined> {
    const res = await db.query<_Row>(`SELECT * FROM ${this._table} WHERE log_id = $1 AND seq = $2`, [logId, seq]).catch((e: unknown) => {
      throw _dbError('checkpoint by seq', e);
    });
    return res.rows[0] === undefined ? undefined : _fromRow(res.rows[0]);
  }

  /**
   * Checkpoints with seq ≥ `fromSeq`, ascending, at most `limit`.
   * @throws StoreError(DATABASE).
   * @example await checkpoints.list('global', 0, 100)
   */
  async list(logId: string, fromSeq = 0, limit = 100): Promise<StoredCheckpoint[]> {
    const res = await this._pool
      .query<_Row>(`SELECT * FROM ${this._table} WHERE log_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3`, [logId, fromSeq, limit])
      .catch((e: unknown) => {
        throw _dbError('list checkpoints', e);
      });
    return res.rows.map(_fromRow);
  }
}

function _check(cp: CheckpointInput): void {
  if (typeof cp !== 'object' || cp === null) throw new TypeError('checkpoint must be an object');
  if (typeof cp.logId !== 'string' || cp.logId === '') throw new TypeError('logId must be a non-empty string');
  for (const [k, v] of [['seq', cp.seq], ['logSize', cp.logSize]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${k} must be a non-negative safe integer`);
  }
  for (const [k, v] of [['logRoot', cp.logRoot], ['stateRoot', cp.stateRoot]] as const) {
    if (!(v instanceof Uint8Array) || v.length !== 32) throw new RangeError(`${k} must be 32 bytes`);
  }
  if (cp.prevHash !== null && (!(cp.prevHash instanceof Uint8Array) || cp.prevHash.length !== 32)) throw new RangeError('prevHash must be 32 bytes or null');
  if (typeof cp.note !== 'string' || cp.note === '') throw new TypeError('note must be a non-empty string');
  if (cp.tables !== undefined) {
    if (!Array.isArray(cp.tables)) throw new TypeError('tables must be an array');
    const seen = new Set<string>();
    cp.tables.forEach((t: CheckpointTableRoot, i: number) => {
      if (typeof t.source !== 'string' || t.source === '' || typeof t.table !== 'string' || t.table === '') throw new TypeError(`tables[${i}] needs a source and a table`);
      if (!(t.root instanceof Uint8Array) || t.root.length !== 32) throw new RangeError(`tables[${i}].root must be 32 bytes`);
      const k = `${t.source}\u0000${t.table}`;
      if (seen.has(k)) throw new RangeError(`tables[${i}]: duplicate table ${t.source}/${t.table}`);
      seen.add(k);
    });
  }
}

function _fromRow(r: _Row): StoredCheckpoint {
  return {
    logId: r.log_id,
    seq: Number(r.seq),
    logSize: Number(r.log_size),
    logRoot: _bytes(r.log_root),
    stateRoot: _bytes(r.state_root),
    note: r.note,
    hash: _bytes(r.note_hash),
    prevHash: r.prev_hash === null ? null : _bytes(r.prev_hash),
    createdAt: r.created_at,
    tableCount: r.table_count ?? null,
  };
}
