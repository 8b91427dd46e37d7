import pg from 'pg';
import { _tables, type StoreConfig } from '../config.ts';
import { _buf, _bytes, _dbError, _sortedByBytes, type PgPool, type Queryable } from '../db.ts';
import { copyFromBinary, copyUnlessConflict, inClientTransaction, withStagingTable } from '../map/copy.ts';
import { _takeWriteBuffer, _writeBuffers } from '../scratch.ts';
import { _latestPerKey, blockCopyFile } from './copy-file.ts';
import { blockTableKey } from './table-key.ts';

/** Row operations, numbered as the protocol's `RowOperation` (libs/protocol) so values pass through unchanged. */
export const BlockOp = { Insert: 1, Update: 2, Delete: 3, Snapshot: 4 } as const;
export type BlockOp = (typeof BlockOp)[keyof typeof BlockOp];

/** One row's latest change, as the merkle service writes it. */
export interface BlockInput {
  readonly source: string;
  readonly table: string;
  /** Keyed map key of the row (32 bytes). */
  readonly mapKey: Uint8Array;
  readonly op: BlockOp;
  /** Row version bound into the block's AAD (uint64 on the wire; stored as bigint, so < 2^63). */
  readonly rowVersion: bigint;
  /** 32-byte leaf commitment; null for a delete. */
  readonly leafCommitment: Uint8Array | null;
  /** The ciphertext block (libs/crypto envelope); null for a delete. */
  readonly block: Uint8Array | null;
  /** Index of this change in the global log: unique and increasing, the sync cursor. */
  readonly logIndex: number;
  /**
   * Stream sequence of the message that carried this change, when it differs from the batch's (a group of
   * messages persisted in one {@link PgApplyStore.applyBatch} under the last one's sequence). Default: the
   * batch's `streamSeq`; must not exceed it.
   */
  readonly streamSeq?: number;
}

/** A stored block: the input plus the stream sequence of the message that brought it. */
export interface StoredBlock extends BlockInput {
  readonly streamSeq: number;
  /** True for a tombstone (op DELETE): the key is not in the map; serve a non-membership proof. */
  readonly deleted: boolean;
}

/** One page of {@link PgBlockStore.scan}. */
export interface BlockPage {
  /** Blocks in increasing `logIndex`. */
  readonly blocks: StoredBlock[];
  /** `fromLogIndex` of the next page; undefined when this page is the last. */
  readonly next: number | undefined;
}

/** Options of {@link PgBlockStore.scan}. */
export interface BlockScanOptions {
  /** Only blocks with logIndex ≥ this (a checkpoint's log size: everything changed after it). Default 0. */
  readonly fromLogIndex?: number;
  /** Only blocks with logIndex < this (e.g. the target checkpoint's log size). Default: no bound. */
  readonly toLogIndex?: number;
  /** Page size, 1..10,000 (default 1,000). */
  readonly limit?: number;
  /** Include tombstones (default true: a syncing client must learn about deletes). */
  readonly includeDeleted?: boolean;
}

interface _Row {
  source: string;
  table_name: string;
  map_key: Buffer;
  op: number;
  row_version: string;
  leaf_commitment: Buffer | null;
  block: Buffer | null;
  stream_seq: string;
  log_index: string;
}

const _COLUMNS = 'source, table_name, map_key, op, row_version, leaf_commitment, block, stream_seq, log_index';
/** What writes set: the columns read back, and the scan key (migration 004, {@link blockTableKey}). */
const _WRITE_COLUMNS = `${_COLUMNS}, table_key`;
/** Fewer new rows than this are not worth a COPY of their own (two more round trips for the savepoint). */
const _DIRECT_MIN = 64;
/** Puts that skip the direct COPY after one met a stored row (a workload re-inserting deleted keys). */
const _SKIP_DIRECT_AFTER_CONFLICT = 8;
const _MAX_ROW_VERSION = (1n << 63n) - 1n;
const _CHUNK = 5000;

/**
 * The latest ciphertext block per row key (`blocks` table): written by the merkle service inside its apply
 * transaction, read by the gateway. Deletes are kept as tombstones (`deleted`), so a scan tells a syncing
 * client what went away. A row is only ever replaced by a change with a higher log index, so a replayed
 * older write cannot roll a row back.
 * @example
 * await blocks.put(latestPerKey, streamSeq, tx);
 * const b = await blocks.get('pg', 'public.users', mapKey); // b?.deleted → non-membership proof
 */
export class PgBlockStore {
  private readonly _db: Queryable;
  private readonly _table: string;
  private readonly _copyThreshold: number;
  /** Puts left that stage every row after a direct COPY met a stored one. */
  private _skipDirect = 0;

  /** `copyThreshold`: from this many rows on, on a client (in a transaction or not), write by binary COPY (default 200; Infinity: never). */
  constructor(db: PgPool | Queryable, config: StoreConfig, options: { copyThreshold?: number } = {}) {
    this._db = db;
    this._table = _tables(config).blocks;
    this._copyThreshold = options.copyThreshold ?? 200;
  }

  /**
   * Upserts blocks (one statement per 5,000 rows, `unnest` of column arrays). When one key appears more than
   * once, the entry with the highest log index wins (callers may pass every change of a key: one pass picks the latest).
   * @returns rows inserted or replaced.
   * @throws TypeError / RangeError for malformed entries (naming the index); StoreError(DATABASE).
   * @example await blocks.put([{ source, table, mapKey, op: BlockOp.Insert, rowVersion: 7n, leafCommitment, block, logIndex: 41 }], 12, tx)
   */
  async put(blocks: readonly BlockInput[], streamSeq: number, db: Queryable = this._db): Promise<number> {
    if (!Number.isSafeInteger(streamSeq) || streamSeq < 1) throw new RangeError(`streamSeq must be a positive safe integer, got ${streamSeq}`);
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i]!;
      _check(b, i);
      if (b.streamSeq !== undefined && (!Number.isSafeInteger(b.streamSeq) || b.streamSeq < 1 || b.streamSeq > streamSeq)) {
        throw new RangeError(`blocks[${i}].streamSeq must be a positive safe integer ≤ ${streamSeq}, got ${b.streamSeq}`);
      }
    }
    // Sorted by (source, table, key) so concurrent writers lock rows in one order (sort is stable: by key, then by name).
    const rows = _sortedByBytes(_latestPerKey(blocks), (b) => b.mapKey).sort((a, b) => _cmp(a.source, b.source) || _cmp(a.table, b.table));
    if (rows.length >= this._copyThreshold && db instanceof pg.Client) return this._putByCopy(rows, streamSeq, db);
    let n = 0;
    for (let i = 0; i < rows.length; i += _CHUNK) {
      const part = rows.slice(i, i + _CHUNK);
      const res = await db
        .query(
          `INSERT INTO ${this._table} (${_WRITE_COLUMNS})
           SELECT s, t, k, o, v, c, b, q, x, y
             FROM unnest($1::text[], $2::text[], $3::bytea[], $4::smallint[], $5::bigint[], $6::bytea[], $7::bytea[], $8::bigint[], $9::bigint[], $10::bigint[]) AS u(s, t, k, o, v, c, b, q, x, y)
           ON CONFLICT (map_key, source, table_name) DO UPDATE SET
             op = EXCLUDED.op, row_version = EXCLUDED.row_version, leaf_commitment = EXCLUDED.leaf_commitment,
             block = EXCLUDED.block, stream_seq = EXCLUDED.stream_seq, log_index = EXCLUDED.log_index
           WHERE ${this._table}.log_index < EXCLUDED.log_index`,
          [
            part.map((b) => b.source),
            part.map((b) => b.table),
            part.map((b) => _buf(b.mapKey)),
            part.map((b) => b.op),
            part.map((b) => b.rowVersion.toString()),
            part.map((b) => (b.leafCommitment === null ? null : _buf(b.leafCommitment))),
            part.map((b) => (b.block === null ? null : _buf(b.block))),
            part.map((b) => b.streamSeq ?? streamSeq),
            part.map((b) => b.logIndex),
            part.map((b) => blockTableKey(b.source, b.table).toString()),
          ],
        )
        .catch((e: unknown) => {
          throw _dbError('putBlocks', e);
        });
      n += res.rowCount ?? 0;
    }
    return n;
  }

  // Rows of new keys (INSERT and SNAPSHOT changes: their keys have no block yet, unless a tombstone is left from a
  // delete) are copied straight into the table, as one COPY inside a savepoint: no staging, no upsert. If one meets a
  // stored row, that COPY is undone and they join the rest, which are staged in a session temp table and upserted.
  // Both happen in one transaction (the caller's, or one opened here).
  private async _putByCopy(rows: readonly BlockInput[], streamSeq: number, c: pg.ClientBase): Promise<number> {
    return inClientTransaction(c, async () => {
      let written = 0;
      let rest = rows;
      if (this._skipDirect > 0) this._skipDirect--;
      else {
        const fresh = rows.filter(_isNewKeyOp);
        if (fresh.length >= _DIRECT_MIN) {
          const sql = `COPY ${this._table} (${_WRITE_COLUMNS}) FROM STDIN (FORMAT binary)`;
          // The file in a reused buffer, given back once the server has read it (README "Reused write buffers").
          const file = blockCopyFile(fresh, streamSeq, _takeWriteBuffer);
          const copied = await copyUnlessConflict(c, sql, file, 'ms_blocks');
          _writeBuffers.give(file);
          if (copied) {
            written = fresh.length;
            rest = rows.filter((b) => !_isNewKeyOp(b));
          } else this._skipDirect = _SKIP_DIRECT_AFTER_CONFLICT;
        }
      }
      if (rest.length > 0) written += await this._upsertStaged(rest, streamSeq, c);
      return written;
    }).catch((e: unknown) => {
      throw _dbError('putBlocks', e);
    });
  }

  private async _upsertStaged(rows: readonly BlockInput[], streamSeq: number, c: pg.ClientBase): Promise<number> {
    // Staged in a session temp table emptied at commit (as the map nodes' deduplicating path), then upserted.
    const res = await withStagingTable(
      c,
      '_ms_blocks_staged',
      `(source text, table_name text, map_key bytea, op smallint, row_version bigint, leaf_commitment bytea, block bytea, stream_seq bigint, log_index bigint, table_key bigint)`,
      async () => {
        const file = blockCopyFile(rows, null, _takeWriteBuffer);
        await copyFromBinary(c, `COPY _ms_blocks_staged (${_WRITE_COLUMNS}) FROM STDIN (FORMAT binary)`, file);
        _writeBuffers.give(file);
        // Taken out of the staging table as they are upserted: a second use in the same transaction starts empty.
        return c.query(
          `WITH staged AS (DELETE FROM _ms_blocks_staged RETURNING *)
           INSERT INTO ${this._table} (${_WRITE_COLUMNS})
           SELECT source, table_name, map_key, op, row_version, leaf_commitment, block, coalesce(stream_seq, $1), log_index, table_key FROM staged
           ON CONFLICT (map_key, source, table_name) DO UPDATE SET
             op = EXCLUDED.op, row_version = EXCLUDED.row_version, leaf_commitment = EXCLUDED.leaf_commitment,
             block = EXCLUDED.block, stream_seq = EXCLUDED.stream_seq, log_index = EXCLUDED.log_index
           WHERE ${this._table}.log_index < EXCLUDED.log_index`,
          [streamSeq],
        );
      },
    );
    return res.rowCount ?? 0;
  }

  /**
   * The latest block of one row key (a tombstone when deleted), or undefined when the key was never seen.
   * @throws RangeError when `mapKey` is not 32 bytes; StoreError(DATABASE).
   * @example const b = await blocks.get('pg', 'public.users', mapKey)
   */
  async get(source: string, table: string, mapKey: Uint8Array, db: Queryable = this._db): Promise<StoredBlock | undefined> {
    return (await this.getMany(source, table, [mapKey], db))[0];
  }

  /**
   * The latest blocks of several keys of one table, in the order of `mapKeys` (undefined where never seen);
   * one query per 10,000 keys.
   * @throws RangeError when a key is not 32 bytes; StoreError(DATABASE).
   * @example const [a, b] = await blocks.getMany('pg', 'public.users', [k1, k2])
   */
  async getMany(source: string, table: string, mapKeys: readonly Uint8Array[], db: Queryable = this._db): Promise<(StoredBlock | undefined)[]> {
    _checkName(source, 'source');
    _checkName(table, 'table');
    mapKeys.forEach((k, i) => _checkKey(k, `mapKeys[${i}]`));
    const found = new Map<string, StoredBlock>();
    for (let i = 0; i < mapKeys.length; i += 10_000) {
      const res = await db
        .query<_Row>(`SELECT ${_COLUMNS} FROM ${this._table} WHERE source = $1 AND table_name = $2 AND map_key = ANY($3::bytea[])`, [
          source,
          table,
          mapKeys.slice(i, i + 10_000).map(_buf),
        ])
        .catch((e: unknown) => {
          throw _dbError('getBlocks', e);
        });
      for (const r of res.rows) found.set(r.map_key.toString('latin1'), _fromRow(r));
    }
    return mapKeys.map((k) => found.get(_buf(k).toString('latin1')));
  }

  /**
   * One page of a table's blocks in log order, from a log index on: the incremental sync of a client that
   * holds a checkpoint of log size L is `scan(source, table, { fromLogIndex: L, toLogIndex: target.logSize })`,
   * page after page (`next`). Rows changed again after `toLogIndex` are NOT in the range (only their latest
   * version is stored): see the store README "Blocks".
   * @throws RangeError for a bad range or limit; StoreError(DATABASE).
   * @example let from = cp.logSize; do { const p = await blocks.scan('pg', 'public.users', { fromLogIndex: from }); send(p.blocks); from = p.next } while (from !== undefined)
   */
  async scan(source: string, table: string, options: BlockScanOptions = {}, db: Queryable = this._db): Promise<BlockPage> {
    _checkName(source, 'source');
    _checkName(table, 'table');
    const from = options.fromLogIndex ?? 0;
    const to = options.toLogIndex ?? Number.MAX_SAFE_INTEGER;
    const limit = options.limit ?? 1000;
    if (!Number.isSafeInteger(from) || from < 0) throw new RangeError(`fromLogIndex must be a non-negative safe integer, got ${from}`);
    if (!Number.isSafeInteger(to) || to < from) throw new RangeError(`toLogIndex must be a safe integer ≥ fromLogIndex, got ${to}`);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) throw new RangeError(`limit must be 1..10000, got ${limit}`);
    const res = await db
      .query<_Row>(
        `SELECT ${_COLUMNS} FROM ${this._table}
          WHERE table_key = $6 AND source = $1 AND table_name = $2 AND log_index >= $3 AND log_index < $4 ${options.includeDeleted === false ? 'AND op <> 3' : ''}
          ORDER BY log_index LIMIT $5`,
        [source, table, from, to, limit, blockTableKey(source, table).toString()],
      )
      .catch((e: unknown) => {
        throw _dbError('scanBlocks', e);
      });
    const blocks = res.rows.map(_fromRow);
    return { blocks, next: blocks.length === limit ? blocks[blocks.length - 1]!.logIndex + 1 : undefined };
  }
}

const _cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function _checkName(v: unknown, field: string): void {
  if (typeof v !== 'string' || v === '') throw new TypeError(`${field} must be a non-empty string`);
}

function _checkKey(k: unknown, field: string): void {
  if (!(k instanceof Uint8Array) || k.length !== 32) throw new RangeError(`${field} must be 32 bytes`);
}

function _check(b: BlockInput, i: number): void {
  if (typeof b !== 'object' || b === null) throw new TypeError(`blocks[${i}] must be an object`);
  _checkName(b.source, `blocks[${i}].source`);
  _checkName(b.table, `blocks[${i}].table`);
  _checkKey(b.mapKey, `blocks[${i}].mapKey`);
  if (!Number.isInteger(b.op) || b.op < 1 || b.op > 4) throw new RangeError(`blocks[${i}].op must be 1..4`);
  if (typeof b.rowVersion !== 'bigint' || b.rowVersion < 0n || b.rowVersion > _MAX_ROW_VERSION) throw new RangeError(`blocks[${i}].rowVersion must be a bigint in [0, 2^63)`);
  if (!Number.isSafeInteger(b.logIndex) || b.logIndex < 0) throw new RangeError(`blocks[${i}].logIndex must be a non-negative safe integer`);
  const del = b.op === BlockOp.Delete;
  if (del ? b.leafCommitment !== null : !(b.leafCommitment instanceof Uint8Array) || b.leafCommitment.length !== 32) {
    throw new RangeError(`blocks[${i}].leafCommitment must be ${del ? 'null for a delete' : '32 bytes'}`);
  }
  if (del ? b.block !== null : !(b.block instanceof Uint8Array)) throw new RangeError(`blocks[${i}].block must be ${del ? 'null for a delete' : 'bytes'}`);
}

function _fromRow(r: _Row): StoredBlock {
  return {
    source: r.source,
    table: r.table_name,
    mapKey: _bytes(r.map_key),
    op: r.op as BlockOp,
    rowVersion: BigInt(r.row_version),
    leafCommitment: r.leaf_commitment === null ? null : _bytes(r.leaf_commitment),
    block: r.block === null ? null : _bytes(r.block),
    streamSeq: Number(r.stream_seq),
    logIndex: Number(r.log_index),
    deleted: r.op === BlockOp.Delete,
  };
}

/** A change that gives its key a block it may not have had: an insert or a snapshot row. */
function _isNewKeyOp(b: BlockInput): boolean {
  return b.op === BlockOp.Insert || b.op === BlockOp.Snapshot;
}
