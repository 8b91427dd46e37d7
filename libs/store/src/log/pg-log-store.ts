import {
  LogTree,
  equalBytes,
  getHashSuite,
  type HashSuite,
  type HashSuiteName,
  type LogConsistencyProof,
  type LogInclusionProof,
} from '@merklesync/merkle';
import { _tables, type StoreConfig } from '../config.ts';
import { _bytes, _dbError, inTransaction, type PgPool, type Queryable } from '../db.ts';
import { StoreError, StoreErrorCode } from '../errors.ts';
import { suiteCode, suiteName } from '../map/node-codec.ts';
import { logConsistencyPlan, logInclusionPlan, logRootPlan, resolveLogPlan, type LogNodeRef, type LogProofPlan } from './proof-plan.ts';
import { TILE_HEIGHT, TILE_WIDTH, foldSpan, tileKey, tileSpanOf, tilesGrown, type TileRef } from './tiles.ts';

/** A log's stored head. */
export interface StoredLog {
  readonly logId: string;
  readonly suite: HashSuite;
  readonly size: number;
}

/** Options of {@link PgLogStore}. */
export interface PgLogStoreOptions {
  /** Full tiles (immutable, 8 KiB each) kept in memory for proofs; default 1,024 (8 MiB). 0 disables. */
  readonly tileCache?: number;
}

/**
 * The append-only logs' complete-subtree nodes in Postgres, packed in tiles (README "Log tiles"): one row per
 * 256 node hashes of tree levels 0, 8, 16, …, so a batch of n appends writes about n/256 + 3 rows instead of
 * 2n. Written as the in-memory LogTree grows ({@link putLogNodes}); proofs fetch just the tiles a proof needs
 * in one query ({@link proveInclusion}, {@link proveConsistency}), so the prover never loads a tree.
 *
 * @example
 * await logs.putLogNodes('global', tree, tx);           // inside applyBatch
 * const p = await logs.proveInclusion('global', 5, 8);  // verifyLogProof(p) === true
 */
export class PgLogStore {
  private readonly _pool: PgPool;
  private readonly _t: ReturnType<typeof _tables>;
  private readonly _cacheMax: number;
  /** Full tiles by `logId/level/index`, in least-recently-used order. */
  private readonly _cache = new Map<string, Uint8Array>();

  constructor(pool: PgPool, config: StoreConfig, options: PgLogStoreOptions = {}) {
    this._pool = pool;
    this._t = _tables(config);
    this._cacheMax = options.tileCache ?? 1024;
  }

  /**
   * Writes the tiles the log grew since the stored size, up to `size` leaves of `tree` (default: all of them), and
   * records that size (creating the log on first use). A tree that has grown past `size` since is fine: the
   * nodes of a prefix are complete subtrees, which later leaves do not change. Locks the log's row, so concurrent
   * writers serialise. Without `tx` it runs in its own transaction. A size below the stored log's is refused
   * (logs never shrink); an equal size writes nothing.
   * @returns the number of tile rows written (new or widened).
   * @throws RangeError when `size` is not an integer in [0, tree.size]; StoreError(OUT_OF_RANGE) when `size` is
   *   below the stored size or the suite differs from the stored log's; StoreError(DATABASE) when Postgres fails.
   * @example await logs.putLogNodes('global', tree, tx)
   */
  async putLogNodes(logId: string, tree: LogTree, tx?: Queryable, size: number = tree.size): Promise<number> {
    if (!Number.isSafeInteger(size) || size < 0 || size > tree.size) throw new RangeError(`size must be an integer in [0, ${tree.size}], got ${size}`);
    if (tx === undefined) return inTransaction(this._pool, (c) => this.putLogNodes(logId, tree, c, size));
    const code = suiteCode(tree.suite);
    const head = await this._lockHead(tx, logId, code);
    if (head.suite !== code) throw new StoreError(StoreErrorCode.OutOfRange, `log ${logId} uses ${suiteName(head.suite)}, tree uses ${tree.suite.name}`);
    if (size < head.size) throw new StoreError(StoreErrorCode.OutOfRange, `log ${logId} has ${head.size} leaves stored; tree has ${size}`);
    if (size === head.size) return 0;
    const tiles = tilesGrown(head.size, size);
    const chunk = 2_000;
    for (let i = 0; i < tiles.length; i += chunk) {
      const part = tiles.slice(i, i + chunk);
      const hashes = part.map((t) => {
        const out = Buffer.allocUnsafe(32 * t.width);
        for (let j = 0; j < t.width; j++) out.set(tree.node(TILE_HEIGHT * t.level, t.index * TILE_WIDTH + j), 32 * j);
        return out;
      });
      await tx
        .query(
          `INSERT INTO ${this._t.logTiles} (log_id, tile_level, tile_index, width, hashes)
           SELECT $1, l, i, w, h FROM unnest($2::smallint[], $3::bigint[], $4::smallint[], $5::bytea[]) AS u(l, i, w, h)
           ON CONFLICT (log_id, tile_level, tile_index) DO UPDATE SET width = EXCLUDED.width, hashes = EXCLUDED.hashes
           WHERE ${this._t.logTiles}.width < EXCLUDED.width`,
          [logId, part.map((t) => t.level), part.map((t) => t.index), part.map((t) => t.width), hashes],
        )
        .catch((e: unknown) => {
          throw _dbError('putLogNodes', e);
        });
    }
    await tx.query(`UPDATE ${this._t.logs} SET size = $2, updated_at = now() WHERE log_id = $1`, [logId, size]).catch((e: unknown) => {
      throw _dbError('putLogNodes', e);
    });
    return tiles.length;
  }

  /**
   * The stored head of a log, or undefined when the log was never written.
   * @throws StoreError(DATABASE) when Postgres fails.
   * @example (await logs.head('global'))?.size
   */
  async head(logId: string, db: Queryable = this._pool): Promise<StoredLog | undefined> {
    const res = await db
      .query<{ suite: number; size: string }>(`SELECT suite, size FROM ${this._t.logs} WHERE log_id = $1`, [logId])
      .catch((e: unknown) => {
        throw _dbError('log head', e);
      });
    const r = res.rows[0];
    return r === undefined ? undefined : { logId, suite: getHashSuite(suiteName(r.suite)), size: Number(r.size) };
  }

  /**
   * Rebuilds the whole in-memory LogTree (what the merkle service does at start-up to keep appending) from
   * the level-0 tiles (the leaf hashes): size/256 rows, one hash per node to recompute the levels. With
   * `verify`, the stored upper tile levels must equal the recomputed nodes. A log never written loads as an
   * empty tree of `fallbackSuite`.
   * @throws StoreError(CORRUPT_NODE) when tiles are missing, have the wrong width, or (with `verify`) disagree
   *   with the leaves; StoreError(DATABASE).
   * @example const tree = await logs.loadLogTree('global', 'sha256')
   */
  async loadLogTree(logId: string, fallbackSuite: HashSuiteName = 'sha256', options: { verify?: boolean } = {}): Promise<LogTree> {
    const head = await this.head(logId);
    if (head === undefined || head.size === 0) return new LogTree(head?.suite ?? getHashSuite(fallbackSuite));
    const res = await this._pool
      .query<{ tile_level: number; tile_index: string; width: number; hashes: Buffer }>(
        `SELECT tile_level, tile_index, width, hashes FROM ${this._t.logTiles} WHERE log_id = $1 ${options.verify ? '' : 'AND tile_level = 0'}`,
        [logId],
      )
      .catch((e: unknown) => {
        throw _dbError('loadLogTree', e);
      });
    const leaves = new Uint8Array(32 * head.size);
    let count = 0;
    const upper: { level: number; index: number; hashes: Uint8Array }[] = [];
    for (const r of res.rows) {
      const index = Number(r.tile_index);
      if (r.tile_level !== 0) {
        upper.push({ level: r.tile_level, index, hashes: _bytes(r.hashes) });
        continue;
      }
      const first = index * TILE_WIDTH;
      const width = Math.min(r.width, head.size - first);
      if (width <= 0) continue; // beyond the recorded size (cannot happen through putLogNodes)
      leaves.set(r.hashes.subarray(0, 32 * width), 32 * first);
      count += width;
    }
    if (count !== head.size) throw new StoreError(StoreErrorCode.CorruptNode, `log ${logId}: ${count} of ${head.size} leaf hashes stored`);
    const tree = new LogTree(head.suite);
    tree.appendLeafHashes(leaves);
    for (const u of upper) {
      const level = TILE_HEIGHT * u.level;
      const n = Math.min(u.hashes.length / 32, tree.levelSize(level) - u.index * TILE_WIDTH);
      for (let j = 0; j < n; j++) {
        if (!equalBytes(tree.node(level, u.index * TILE_WIDTH + j), u.hashes.subarray(32 * j, 32 * j + 32))) {
          throw new StoreError(StoreErrorCode.CorruptNode, `log ${logId}: tile (${u.level}, ${u.index}) disagrees with the leaves at ${j}`);
        }
      }
    }
    return tree;
  }

  /**
   * Stored complete-subtree nodes by (level, index), in order, from the tiles that hold them (one query for
   * the tiles not cached).
   * @throws StoreError(NOT_FOUND) when one is missing (beyond the stored size, or an unknown log); StoreError(DATABASE).
   * @example await logs.fetchNodes('global', logRootPlan(8).nodes)
   */
  async fetchNodes(logId: string, refs: readonly LogNodeRef[], db: Queryable = this._pool): Promise<Uint8Array[]> {
    if (refs.length === 0) return [];
    const head = await this.head(logId, db);
    if (head === undefined) throw new StoreError(StoreErrorCode.NotFound, `log ${logId} does not exist`);
    return this._fetchNodes(logId, head.suite, refs, db);
  }

  private async _fetchNodes(logId: string, suite: HashSuite, refs: readonly LogNodeRef[], db: Queryable): Promise<Uint8Array[]> {
    const spans = refs.map(tileSpanOf);
    const tiles = new Map<string, Uint8Array>();
    const missing = new Map<string, TileRef>();
    for (const s of spans) {
      const k = tileKey(s.tile);
      if (tiles.has(k) || missing.has(k)) continue;
      const cached = this._cached(`${logId}/${k}`);
      if (cached !== undefined) tiles.set(k, cached);
      else missing.set(k, s.tile);
    }
    if (missing.size > 0) {
      const want = [...missing.values()];
      const res = await db
        .query<{ tile_level: number; tile_index: string; hashes: Buffer }>(
          `SELECT t.tile_level, t.tile_index, t.hashes FROM ${this._t.logTiles} t
           JOIN unnest($2::smallint[], $3::bigint[]) AS u(l, i) ON t.tile_level = u.l AND t.tile_index = u.i
           WHERE t.log_id = $1`,
          [logId, want.map((t) => t.level), want.map((t) => t.index)],
        )
        .catch((e: unknown) => {
          throw _dbError('fetchNodes', e);
        });
      for (const r of res.rows) {
        const k = `${r.tile_level}/${r.tile_index}`;
        const hashes = _bytes(r.hashes);
        tiles.set(k, hashes);
        if (hashes.length === 32 * TILE_WIDTH) this._remember(`${logId}/${k}`, hashes);
      }
    }
    return spans.map((s, i) => {
      const tile = tiles.get(tileKey(s.tile));
      const end = 32 * (s.offset + s.count);
      if (tile === undefined || tile.length < end) {
        throw new StoreError(StoreErrorCode.NotFound, `log ${logId} has no node (${refs[i]!.level}, ${refs[i]!.index})`);
      }
      return foldSpan(suite, tile.subarray(32 * s.offset, end), s.fold);
    });
  }

  private _cached(key: string): Uint8Array | undefined {
    const hit = this._cache.get(key);
    if (hit !== undefined) {
      this._cache.delete(key);
      this._cache.set(key, hit);
    }
    return hit;
  }

  private _remember(key: string, tile: Uint8Array): void {
    if (this._cacheMax <= 0) return;
    this._cache.set(key, tile);
    while (this._cache.size > this._cacheMax) this._cache.delete(this._cache.keys().next().value!);
  }

  /**
   * Self-contained inclusion proof of leaf `index` in the log at `size` (take `size` from a checkpoint),
   * from one query for the path, leaf and root nodes.
   * @throws RangeError unless index < size; StoreError(OUT_OF_RANGE) when the log has fewer than `size`
   *   leaves (or does not exist); StoreError(DATABASE).
   * @example verifyLogProof(await logs.proveInclusion('global', 3, 10))
   */
  async proveInclusion(logId: string, index: number, size: number): Promise<LogInclusionProof> {
    const plan = logInclusionPlan(index, size);
    const head = await this._headFor(logId, size);
    const r = await this._resolve(logId, head.suite, [plan, { nodes: [{ level: 0, index }], hashes: [[0]] }, logRootPlan(size)]);
    return { kind: 'log-inclusion', hash: head.suite.name, treeSize: size, leafIndex: index, leafHash: r[1]![0]!, root: r[2]![0]!, path: r[0]! };
  }

  /**
   * Self-contained consistency proof between sizes `size1` and `size2` of the log.
   * @throws RangeError unless 0 < size1 ≤ size2; StoreError(OUT_OF_RANGE) beyond the stored size; StoreError(DATABASE).
   * @example verifyLogProof(await logs.proveConsistency('global', 4, 10))
   */
  async proveConsistency(logId: string, size1: number, size2: number): Promise<LogConsistencyProof> {
    const plan = logConsistencyPlan(size1, size2);
    const head = await this._headFor(logId, size2);
    const r = await this._resolve(logId, head.suite, [plan, logRootPlan(size1), logRootPlan(size2)]);
    return { kind: 'log-consistency', hash: head.suite.name, size1, size2, root1: r[1]![0]!, root2: r[2]![0]!, path: r[0]! };
  }

  /**
   * Root of the log at `size` (≤ stored size; size 0 gives H("")).
   * @throws StoreError(OUT_OF_RANGE) beyond the stored size; StoreError(DATABASE).
   * @example await logs.root('global', 10)
   */
  async root(logId: string, size: number): Promise<Uint8Array> {
    const head = await this._headFor(logId, size);
    if (size === 0) return head.suite.digest(new Uint8Array(0));
    const [hashes] = await this._resolve(logId, head.suite, [logRootPlan(size)]);
    return hashes![0]!;
  }

  private async _headFor(logId: string, size: number): Promise<StoredLog> {
    const head = await this.head(logId);
    if (head === undefined || !(size <= head.size)) {
      throw new StoreError(StoreErrorCode.OutOfRange, `log ${logId} has ${head?.size ?? 0} leaves, asked for size ${size}`);
    }
    return head;
  }

  /** Fetches the union of the plans' nodes in one query and resolves each plan. */
  private async _resolve(logId: string, suite: HashSuite, plans: readonly LogProofPlan[]): Promise<Uint8Array[][]> {
    const all: LogNodeRef[] = [];
    const pos = new Map<string, number>();
    const maps = plans.map((p) =>
      p.nodes.map((r) => {
        const k = `${r.level}/${r.index}`;
        let i = pos.get(k);
        if (i === undefined) {
          i = all.push(r) - 1;
          pos.set(k, i);
        }
        return i;
      }),
    );
    const fetched = await this._fetchNodes(logId, suite, all, this._pool);
    return plans.map((p, j) => resolveLogPlan(suite, p, maps[j]!.map((i) => fetched[i]!)));
  }

  private async _lockHead(tx: Queryable, logId: string, code: number): Promise<{ suite: number; size: number }> {
    try {
      await tx.query(`INSERT INTO ${this._t.logs} (log_id, suite) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [logId, code]);
      const res = await tx.query<{ suite: number; size: string }>(`SELECT suite, size FROM ${this._t.logs} WHERE log_id = $1 FOR UPDATE`, [logId]);
      const r = res.rows[0]!;
      return { suite: r.suite, size: Number(r.size) };
    } catch (e) {
      throw _dbError('lock log head', e);
    }
  }
}
