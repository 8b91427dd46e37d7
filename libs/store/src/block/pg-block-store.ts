import pg from 'pg';
import { _tables, type StoreConfig } from '../config.ts';
import { _buf, _bytes, _dbError, _sortedByBytes, type PgPool, type Queryable } from '../db.ts';
import { copyFromBinary, copyUnlessConflict, inClientTransaction, withStagingTable } from '../map/copy.ts';
import { _takeWriteBuffer, _writeBuffers } from '../scratch.ts';
import { blockChunkFile, chunkBlocks, decodeBlockEntry, type BlockGroup } from './block-chunks.ts';
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

/**
 * Where {@link PgBlockStore.scan} goes on: rows of the `blocks` table from a log index, then the chunks of the groups
 * after a (log end, smallest key) pair. Opaque to callers: pass a page's `next` back as `after`.
 */
export type BlockScanCursor =
  | { readonly phase: 'rows'; readonly fromLogIndex: number }
  | { readonly phase: 'chunks'; readonly logEnd: number; readonly lo: Uint8Array };

/** One page of {@link PgBlockStore.scan}. */
export interface BlockPage {
  /**
   * Blocks of the `blocks` table in increasing `logIndex`, then blocks of chunks by group (increasing log end) and
   * key. A page may be short, even empty, while `next` is set.
   */
  readonly blocks: StoredBlock[];
  /** `after` of the next page; undefined when this page is the last. */
  readonly next: BlockScanCursor | undefined;
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
  /** The previous page's `next` (default: the first page). */
  readonly after?: BlockScanCursor;
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
/** Chunk rows a scan page reads per `limit` blocks (a chunk of 7,600 bytes holds ≈ 20 rows of 350 bytes). */
const _BLOCKS_PER_CHUNK_ROW = 16;
const _EMPTY = Buffer.alloc(0);

/**
 * Ciphertext blocks, read by the gateway: chunks under each merkle group's locator (`block_chunks`, README "Block
 * chunks"; `put` with a group, found by a leaf's locator with `getAt`), and the latest block per row key of the
 * `blocks` table (written before migration 008, and by `put` without a group). Deletes are kept as tombstones
 * (`deleted`), so a scan tells a syncing client what went away. A `blocks` row is only ever replaced by a change with
 * a higher log index, so a replayed older write cannot roll a row back.
 * @example
 * await blocks.put(groupBlocks, streamSeq, tx, { at: streamSeq, logEnd });
 * const b = await blocks.getAt('pg', 'public.users', mapKey, leafAt);
 */
export class PgBlockStore {
  private readonly _db: Queryable;
  private readonly _table: string;
  private readonly _chunks: string;
  private readonly _chunkEntry: string;
  private readonly _copyThreshold: number;
  /** Puts left that stage every row after a direct COPY met a stored one. */
  private _skipDirect = 0;

  /** `copyThreshold`: from this many rows on, on a client (in a transaction or not), write by binary COPY (default 200; Infinity: never). */
  constructor(db: PgPool | Queryable, config: StoreConfig, options: { copyThreshold?: number } = {}) {
    this._db = db;
    this._table = _tables(config).blocks;
    this._chunks = _tables(config).blockChunks;
    this._chunkEntry = _tables(config).chunkNodeFn;
    this._copyThreshold = options.copyThreshold ?? 200;
  }

  /**
   * With `group` (the merkle service): appends the group's blocks as chunks under its locator (README "Block chunks";
   * one binary COPY; a repeated write of the same group finds its chunks stored and writes nothing). Every block of a
   * group goes in one call: two calls under one locator would store chunks that overlap, and a lookup could land on
   * the one without the key. Without: upserts
   * rows of the `blocks` table (one statement per 5,000 rows, `unnest` of column arrays). Either way, when one key
   * appears more than once, the entry with the highest log index wins (callers may pass every change of a key).
   * @returns blocks written (chunk entries, or rows inserted or replaced).
   * @throws TypeError / RangeError for malformed entries (naming the index) or a bad group; StoreError(DATABASE).
   * @example await blocks.put([{ source, table, mapKey, op: BlockOp.Insert, rowVersion: 7n, leafCommitment, block, logIndex: 41 }], 12, tx, { at: 12, logEnd: 42 })
   */
  async put(blocks: readonly BlockInput[], streamSeq: number, db: Queryable = this._db, group?: BlockGroup): Promise<number> {
    if (!Number.isSafeInteger(streamSeq) || streamSeq < 1) throw new RangeError(`streamSeq must be a positive safe integer, got ${streamSeq}`);
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i]!;
      _check(b, i);
      if (b.streamSeq !== undefined && (!Number.isSafeInteger(b.streamSeq) || b.streamSeq < 1 || b.streamSeq > streamSeq)) {
        throw new RangeError(`blocks[${i}].streamSeq must be a positive safe integer ≤ ${streamSeq}, got ${b.streamSeq}`);
      }
    }
    if (group !== undefined) return this._putChunks(blocks, streamSeq, group, db);
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

  // The group's chunks straight into the table (COPY); when one is stored already (the same group written again after
  // an ambiguous commit or a retry), that COPY is undone and the chunks are inserted with ON CONFLICT DO NOTHING.
  private async _putChunks(blocks: readonly BlockInput[], streamSeq: number, group: BlockGroup, db: Queryable): Promise<number> {
    if (!Number.isSafeInteger(group.at) || group.at < 1) throw new RangeError(`group.at must be a positive safe integer, got ${group.at}`);
    if (!Number.isSafeInteger(group.logEnd) || group.logEnd < 1) throw new RangeError(`group.logEnd must be a positive safe integer, got ${group.logEnd}`);
    for (let i = 0; i < blocks.length; i++) {
      if (blocks[i]!.logIndex >= group.logEnd) throw new RangeError(`blocks[${i}].logIndex ${blocks[i]!.logIndex} is not below group.logEnd ${group.logEnd}`);
    }
    if (blocks.length === 0) return 0;
    const { file, entries } = blockChunkFile(blocks, streamSeq, group, _takeWriteBuffer);
    const write = async (c: pg.ClientBase): Promise<number> =>
      inClientTransaction(c, async () => {
        const cols = 'table_key, at, lo, log_end, source, table_name, blocks';
        if (await copyUnlessConflict(c, `COPY ${this._chunks} (${cols}) FROM STDIN (FORMAT binary)`, file, 'ms_block_chunks')) return entries;
        const res = await withStagingTable(c, '_ms_block_chunks_staged', '(table_key bigint, at bigint, lo bytea, log_end bigint, source text, table_name text, blocks bytea)', async () => {
          await copyFromBinary(c, `COPY _ms_block_chunks_staged (${cols}) FROM STDIN (FORMAT binary)`, file);
          return c.query<{ n: string }>(
            `WITH staged AS (DELETE FROM _ms_block_chunks_staged RETURNING *),
                  ins AS (INSERT INTO ${this._chunks} (${cols}) SELECT ${cols} FROM staged ORDER BY table_key, at, lo ON CONFLICT DO NOTHING RETURNING blocks)
             SELECT coalesce(sum(get_byte(blocks, 0) << 8 | get_byte(blocks, 1)), 0) AS n FROM ins`,
          );
        });
        return Number(res.rows[0]?.n ?? 0);
      });
    const pool = db as Queryable & { connect?: () => Promise<pg.PoolClient> };
    if (!(db instanceof pg.Client) && typeof pool.connect !== 'function') throw new TypeError('block chunks are written through a pg.Client or a pg.Pool');
    let written: number;
    try {
      if (db instanceof pg.Client) written = await write(db);
      else {
        const c = await pool.connect!();
        try {
          written = await write(c);
        } finally {
          c.release();
        }
      }
    } catch (e) {
      throw _dbError('putBlocks', e);
    }
    // The file in a reused buffer, given back once the server has read it all (after a failure, left to the collector).
    _writeBuffers.give(file);
    return written;
  }

  /**
   * The block of one row key as of the map leaf whose locator is `at` (its parent branch's `leftAt`/`rightAt`, or the
   * root's `map_roots` locator): the entry of the chunk of group `at` that holds the key; for `at` 0, or a group that
   * wrote no chunks (before migration 008), the key's row in the `blocks` table. Undefined when neither holds it.
   * @throws RangeError for a bad key or locator; StoreError(DATABASE, CORRUPT_BLOCK).
   * @example const b = await blocks.getAt('pg', 'public.users', key, leafAt)
   */
  async getAt(source: string, table: string, mapKey: Uint8Array, at: number, db: Queryable = this._db): Promise<StoredBlock | undefined> {
    return (await this.getManyAt(source, table, [mapKey], [at], db))[0];
  }

  /**
   * {@link getAt} for several keys of one table (`ats[i]` is `mapKeys[i]`'s leaf locator): one query for the entries
   * (each taken out of its chunk in Postgres), one more for the keys found in none.
   * @throws RangeError for bad keys or locators, or lengths that differ; StoreError(DATABASE, CORRUPT_BLOCK).
   * @example const [a, b] = await blocks.getManyAt('pg', 'public.users', [k1, k2], [at1, at2])
   */
  async getManyAt(source: string, table: string, mapKeys: readonly Uint8Array[], ats: readonly number[], db: Queryable = this._db): Promise<(StoredBlock | undefined)[]> {
    _checkName(source, 'source');
    _checkName(table, 'table');
    if (ats.length !== mapKeys.length) throw new RangeError(`ats has ${ats.length} locators for ${mapKeys.length} keys`);
    mapKeys.forEach((k, i) => _checkKey(k, `mapKeys[${i}]`));
    ats.forEach((a, i) => {
      if (!Number.isSafeInteger(a) || a < 0) throw new RangeError(`ats[${i}] must be a non-negative safe integer, got ${a}`);
    });
    const out = new Array<StoredBlock | undefined>(mapKeys.length);
    const located = mapKeys.map((_, i) => i).filter((i) => ats[i]! > 0);
    if (located.length > 0) {
      // Each key's entry is taken out of its chunk in Postgres (ms_chunk_node: the chunk layout is the node chunks'),
      // so only the entries cross the wire, not chunks of ≈ 7.6 kB.
      const res = await db
        .query<{ i: number; entry: Buffer | null }>(
          `SELECT u.i::int AS i, ${this._chunkEntry}(c.blocks, u.k) AS entry
             FROM unnest($3::bigint[], $4::bytea[]) WITH ORDINALITY AS u(at, k, i)
             CROSS JOIN LATERAL (
               SELECT blocks FROM ${this._chunks}
                WHERE table_key = $5 AND at = u.at AND lo <= u.k AND source = $1 AND table_name = $2
                ORDER BY lo DESC LIMIT 1) c`,
          [source, table, located.map((i) => ats[i]!), located.map((i) => _buf(mapKeys[i]!)), blockTableKey(source, table).toString()],
        )
        .catch((e: unknown) => {
          throw _dbError('getBlocks', e);
        });
      for (const r of res.rows) {
        if (r.entry === null) continue;
        const i = located[r.i - 1]!;
        out[i] = decodeBlockEntry(_bytes(r.entry), mapKeys[i]!.slice(), source, table);
      }
    }
    const rest = mapKeys.map((_, i) => i).filter((i) => out[i] === undefined);
    if (rest.length > 0) {
      const rows = await this.getMany(source, table, rest.map((i) => mapKeys[i]!), db);
      rest.forEach((i, j) => (out[i] = rows[j]));
    }
    return out;
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
   * One page of what changed in a table after a log index: the `blocks` table's rows with `logIndex` ≥ `fromLogIndex`
   * (written before migration 008, only each key's latest), then the blocks of every chunk of the groups that end after
   * it (a key changed in several groups appears once per group; within one group, only its last change). The
   * incremental sync of a client that holds a checkpoint of log size L is `scan(source, table, { fromLogIndex: L })`,
   * page after page (`after: page.next`); checkpoints fall on group ends, so every block of those groups is after L.
   * Blocks with `logIndex` outside [fromLogIndex, toLogIndex) are left out. A page of chunks holds whole chunks: it
   * ends with the chunk that brings it to `limit` blocks, so it may exceed `limit` by less than one chunk's blocks.
   * @throws RangeError for a bad range, limit or cursor; StoreError(DATABASE, CORRUPT_BLOCK).
   * @example let after; do { const p = await blocks.scan('pg', 'public.users', { fromLogIndex: cp.logSize, after }); send(p.blocks); after = p.next } while (after)
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
    const after = options.after ?? { phase: 'rows', fromLogIndex: from };
    const deleted = options.includeDeleted !== false;
    const tableKey = blockTableKey(source, table).toString();
    if (after.phase === 'rows') {
      if (!Number.isSafeInteger(after.fromLogIndex) || after.fromLogIndex < from) throw new RangeError('after is not a cursor of this scan');
      const res = await db
        .query<_Row>(
          `SELECT ${_COLUMNS} FROM ${this._table}
            WHERE table_key = $6 AND source = $1 AND table_name = $2 AND log_index >= $3 AND log_index < $4 ${deleted ? '' : 'AND op <> 3'}
            ORDER BY log_index LIMIT $5`,
          [source, table, after.fromLogIndex, to, limit, tableKey],
        )
        .catch((e: unknown) => {
          throw _dbError('scanBlocks', e);
        });
      const blocks = res.rows.map(_fromRow);
      const next: BlockScanCursor =
        blocks.length === limit ? { phase: 'rows', fromLogIndex: blocks[blocks.length - 1]!.logIndex + 1 } : { phase: 'chunks', logEnd: from, lo: _EMPTY };
      return { blocks, next };
    }
    if (!Number.isSafeInteger(after.logEnd) || after.logEnd < 0 || !(after.lo instanceof Uint8Array)) throw new RangeError('after is not a cursor of this scan');
    const rows = Math.max(1, Math.ceil(limit / _BLOCKS_PER_CHUNK_ROW));
    const res = await db
      .query<{ log_end: string; lo: Buffer; blocks: Buffer }>(
        `SELECT log_end, lo, blocks FROM ${this._chunks}
          WHERE table_key = $1 AND (log_end, lo) > ($2, $3) AND log_end > $4 AND source = $5 AND table_name = $6
          ORDER BY log_end, lo LIMIT $7`,
        [tableKey, after.logEnd, _buf(after.lo), from, source, table, rows],
      )
      .catch((e: unknown) => {
        throw _dbError('scanBlocks', e);
      });
    // Whole chunks, up to the one that brings the page to `limit` blocks (chunks of short rows hold more than the
    // estimate: the rows read after that one are read again by the next page). Once a group ending at or after
    // `toLogIndex` has been read, a later group holds nothing before it: the scan ends there.
    const blocks: StoredBlock[] = [];
    let bound = after.logEnd >= to ? after.logEnd : undefined;
    let used = 0;
    for (; used < res.rows.length && blocks.length < limit; used++) {
      const r = res.rows[used]!;
      const end = Number(r.log_end);
      if (bound !== undefined && end > bound) break;
      if (bound === undefined && end >= to) bound = end;
      for (const b of chunkBlocks(_bytes(r.blocks), source, table)) {
        if (b.logIndex >= from && b.logIndex < to && (deleted || !b.deleted)) blocks.push(b);
      }
    }
    const following = res.rows[used];
    const done = following === undefined ? res.rows.length < rows : bound !== undefined && Number(following.log_end) > bound;
    const last = res.rows[used - 1];
    if (last === undefined) return { blocks, next: undefined };
    return { blocks, next: done ? undefined : { phase: 'chunks', logEnd: Number(last.log_end), lo: _bytes(last.lo) } };
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
