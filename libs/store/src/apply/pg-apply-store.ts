import type { HashSuite, LogTree, MapNodeWithHash } from '@merklesync/merkle';
import type pg from 'pg';
import type { BlockGroup } from '../block/block-chunks.ts';
import type { BlockInput, PgBlockStore } from '../block/pg-block-store.ts';
import type { CheckpointInput, PgCheckpointStore, StoredCheckpoint } from '../checkpoint/pg-checkpoint-store.ts';
import { _tables, type StoreConfig } from '../config.ts';
import { _buf, _bytes, _dbError, inTransaction, type PgPool, type Queryable } from '../db.ts';
import type { PgLogStore } from '../log/pg-log-store.ts';
import { suiteCode, suiteName } from '../map/node-codec.ts';
import type { MapNodeRows } from '../map/node-rows.ts';
import type { PgMapNodeStore } from '../map/pg-map-node-store.ts';

/** The writes of one batch; every call runs inside the batch's transaction. */
export interface BatchWriter {
  /** The transaction's client, for writes this interface does not cover. */
  readonly tx: pg.PoolClient;
  /** Stores map nodes (content-addressed; already stored ones are skipped). @returns rows inserted. */
  putMapNodes(nodes: readonly MapNodeWithHash[] | MapNodeRows): Promise<number>;
  /** Stores the log nodes `tree` completed since the stored size, up to `size` leaves (default all). @returns nodes written. */
  putLogNodes(logId: string, tree: LogTree, size?: number): Promise<number>;
  /** Records the latest map root of a table. */
  /** `streamSeq`: the message that produced the root when it is not the batch's own (≤ the batch's; default the batch's). */
  setTableRoot(source: string, table: string, root: Uint8Array, streamSeq?: number): Promise<void>;
  /** Appends a checkpoint (chain rules as {@link PgCheckpointStore.append}), with its table roots when given. */
  appendCheckpoint(cp: CheckpointInput): Promise<StoredCheckpoint>;
  /**
   * The latest block per row key, stamped with the batch's stream sequence ({@link PgBlockStore.put}): with `group`,
   * as chunks under the group's locator (the merkle service: the locator of the map leaves the group wrote); without,
   * as upserted rows of the `blocks` table.
   * @returns blocks written.
   */
  putBlocks(blocks: readonly BlockInput[], group?: BlockGroup): Promise<number>;
}

/** Outcome of {@link PgApplyStore.applyBatch}. */
export type ApplyResult<T> =
  | { readonly applied: true; readonly result: T; readonly appliedSequence: number }
  /** Redelivery: the stored sequence already covers this batch; nothing ran, nothing was written. */
  | { readonly applied: false; readonly appliedSequence: number };

/** A table's stored root. */
export interface StoredTableRoot {
  readonly source: string;
  readonly table: string;
  readonly suite: HashSuite['name'];
  readonly root: Uint8Array;
  /** Stream sequence of the batch that set it. */
  readonly streamSeq: number;
}

/**
 * The unit of work of the merkle service: one batch's map nodes, log nodes, table roots, checkpoint and
 * the consumer's applied stream sequence, committed in ONE Postgres transaction. The consumer's row is
 * locked first, so two instances of one consumer serialise, and a batch whose stream sequence is not above
 * the stored one is skipped (reported as `applied: false`) without running `work`: redelivery is idempotent.
 *
 * @example
 * const r = await apply.applyBatch('merkle', msg.seq, async (w) => {
 *   await w.putMapNodes(mem.newNodesSince(mark, [root]));
 *   await w.putLogNodes('global', log);
 *   await w.setTableRoot('pg', 'public.users', root);
 * });
 * if (!r.applied) msg.ack(); // duplicate
 */
export class PgApplyStore {
  private readonly _pool: PgPool;
  private readonly _t: ReturnType<typeof _tables>;
  private readonly _maps: PgMapNodeStore;
  private readonly _logs: PgLogStore;
  private readonly _checkpoints: PgCheckpointStore;
  private readonly _blocks: PgBlockStore;

  /** `maps` fixes the hash suite of the map nodes and table roots written through this store. */
  constructor(pool: PgPool, config: StoreConfig, parts: { maps: PgMapNodeStore; logs: PgLogStore; checkpoints: PgCheckpointStore; blocks: PgBlockStore }) {
    this._pool = pool;
    this._t = _tables(config);
    this._maps = parts.maps;
    this._logs = parts.logs;
    this._checkpoints = parts.checkpoints;
    this._blocks = parts.blocks;
  }

  /**
   * Runs `work` and advances `consumer`'s applied sequence to `streamSeq`, atomically; skips when
   * `streamSeq` ≤ the stored sequence. If `work` throws, nothing of the batch is kept and the error propagates.
   * @throws RangeError when `streamSeq` is not a positive safe integer; whatever `work` throws;
   *   StoreError(DATABASE) when Postgres fails.
   * @example await apply.applyBatch('merkle', 42, async (w) => { ... })
   */
  async applyBatch<T>(consumer: string, streamSeq: number, work: (w: BatchWriter) => Promise<T>): Promise<ApplyResult<T>> {
    if (typeof consumer !== 'string' || consumer === '') throw new TypeError('consumer must be a non-empty string');
    if (!Number.isSafeInteger(streamSeq) || streamSeq < 1) throw new RangeError(`streamSeq must be a positive safe integer, got ${streamSeq}`);
    return inTransaction(this._pool, async (tx) => {
      let stored: number;
      try {
        await tx.query(`INSERT INTO ${this._t.appliedSequences} (consumer, stream_seq) VALUES ($1, 0) ON CONFLICT DO NOTHING`, [consumer]);
        const res = await tx.query<{ stream_seq: string }>(`SELECT stream_seq FROM ${this._t.appliedSequences} WHERE consumer = $1 FOR UPDATE`, [consumer]);
        stored = Number(res.rows[0]!.stream_seq);
      } catch (e) {
        throw _dbError('lock applied sequence', e);
      }
      // Nothing was written yet, so committing the (no-op) transaction is the same as rolling back.
      if (streamSeq <= stored) return { applied: false, appliedSequence: stored } as const;
      const writer: BatchWriter = {
        tx,
        putMapNodes: (nodes) => this._maps.putNodes(nodes, tx),
        putLogNodes: (logId, tree, size) => this._logs.putLogNodes(logId, tree, tx, size),
        setTableRoot: async (source, table, root, seq = streamSeq) => {
          if (!(root instanceof Uint8Array) || root.length !== 32) throw new RangeError('root must be 32 bytes');
          if (!Number.isSafeInteger(seq) || seq < 1 || seq > streamSeq) throw new RangeError(`table root streamSeq must be a positive safe integer ≤ ${streamSeq}, got ${seq}`);
          await tx
            .query(
              `INSERT INTO ${this._t.tableRoots} (source, table_name, suite, root, stream_seq) VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (source, table_name) DO UPDATE SET suite = EXCLUDED.suite, root = EXCLUDED.root,
                 stream_seq = EXCLUDED.stream_seq, updated_at = now()`,
              [source, table, suiteCode(this._maps.suite), _buf(root), seq],
            )
            .catch((e: unknown) => {
              throw _dbError('setTableRoot', e);
            });
        },
        appendCheckpoint: (cp) => this._checkpoints.append(cp, tx),
        putBlocks: (blocks, group) => this._blocks.put(blocks, streamSeq, tx, group),
      };
      const result = await work(writer);
      await tx.query(`UPDATE ${this._t.appliedSequences} SET stream_seq = $2, updated_at = now() WHERE consumer = $1`, [consumer, streamSeq]).catch((e: unknown) => {
        throw _dbError('set applied sequence', e);
      });
      return { applied: true, result, appliedSequence: streamSeq } as const;
    });
  }

  /**
   * The highest stream sequence applied for `consumer` (0 when none): where a restart resumes.
   * @throws StoreError(DATABASE).
   * @example const from = (await apply.appliedSequence('merkle')) + 1
   */
  async appliedSequence(consumer: string, db: Queryable = this._pool): Promise<number> {
    const res = await db
      .query<{ stream_seq: string }>(`SELECT stream_seq FROM ${this._t.appliedSequences} WHERE consumer = $1`, [consumer])
      .catch((e: unknown) => {
        throw _dbError('appliedSequence', e);
      });
    return res.rows[0] === undefined ? 0 : Number(res.rows[0].stream_seq);
  }

  /**
   * Every stored table root (what the merkle service loads at start-up).
   * @throws StoreError(DATABASE).
   * @example for (const t of await apply.tableRoots()) await loadMapIntoMemory(...)
   */
  async tableRoots(db: Queryable = this._pool): Promise<StoredTableRoot[]> {
    const res = await db
      .query<{ source: string; table_name: string; suite: number; root: Buffer; stream_seq: string }>(
        `SELECT source, table_name, suite, root, stream_seq FROM ${this._t.tableRoots} ORDER BY source, table_name`,
      )
      .catch((e: unknown) => {
        throw _dbError('tableRoots', e);
      });
    return res.rows.map((r) => ({ source: r.source, table: r.table_name, suite: suiteName(r.suite), root: _bytes(r.root), streamSeq: Number(r.stream_seq) }));
  }
}
