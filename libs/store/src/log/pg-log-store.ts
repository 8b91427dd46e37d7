import {
  LogTree,
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
import { logConsistencyPlan, logInclusionPlan, logNodesCompleted, logRootPlan, resolveLogPlan, type LogNodeRef, type LogProofPlan } from './proof-plan.ts';

/** A log's stored head. */
export interface StoredLog {
  readonly logId: string;
  readonly suite: HashSuite;
  readonly size: number;
}

/**
 * The append-only logs' complete-subtree nodes in Postgres, one row per (log, level, index). Written as
 * the in-memory LogTree grows ({@link putLogNodes}); proofs are answered by fetching just the nodes a
 * proof needs in one query ({@link proveInclusion}, {@link proveConsistency}), so the prover never loads a tree.
 *
 * @example
 * await logs.putLogNodes('global', tree, tx);           // inside applyBatch
 * const p = await logs.proveInclusion('global', 5, 8);  // verifyLogProof(p) === true
 */
export class PgLogStore {
  private readonly _pool: PgPool;
  private readonly _t: ReturnType<typeof _tables>;

  constructor(pool: PgPool, config: StoreConfig) {
    this._pool = pool;
    this._t = _tables(config);
  }

  /**
   * Writes the nodes `tree` completed since the stored size and records `tree.size` (creating the log on
   * first use). Locks the log's row, so concurrent writers serialise. Without `tx` it runs in its own
   * transaction. A tree smaller than the stored log is refused (logs never shrink); an equal size writes nothing.
   * @returns the number of nodes written.
   * @throws StoreError(OUT_OF_RANGE) when `tree.size` is below the stored size or the suite differs from
   *   the stored log's; StoreError(DATABASE) when Postgres fails.
   * @example await logs.putLogNodes('global', tree, tx)
   */
  async putLogNodes(logId: string, tree: LogTree, tx?: Queryable): Promise<number> {
    if (tx === undefined) return inTransaction(this._pool, (c) => this.putLogNodes(logId, tree, c));
    const code = suiteCode(tree.suite);
    const head = await this._lockHead(tx, logId, code);
    if (head.suite !== code) throw new StoreError(StoreErrorCode.OutOfRange, `log ${logId} uses ${suiteName(head.suite)}, tree uses ${tree.suite.name}`);
    if (tree.size < head.size) throw new StoreError(StoreErrorCode.OutOfRange, `log ${logId} has ${head.size} leaves stored; tree has ${tree.size}`);
    if (tree.size === head.size) return 0;
    const refs = logNodesCompleted(head.size, tree.size);
    const chunk = 20_000;
    for (let i = 0; i < refs.length; i += chunk) {
      const part = refs.slice(i, i + chunk);
      await tx
        .query(
          `INSERT INTO ${this._t.logNodes} (log_id, level, idx, hash)
           SELECT $1, l, i, h FROM unnest($2::smallint[], $3::bigint[], $4::bytea[]) AS u(l, i, h)`,
          [logId, part.map((r) => r.level), part.map((r) => r.index), part.map((r) => Buffer.from(tree.node(r.level, r.index)))],
        )
        .catch((e: unknown) => {
          throw _dbError('putLogNodes', e);
        });
    }
    await tx.query(`UPDATE ${this._t.logs} SET size = $2, updated_at = now() WHERE log_id = $1`, [logId, tree.size]).catch((e: unknown) => {
      throw _dbError('putLogNodes', e);
    });
    return refs.length;
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
   * Rebuilds the whole in-memory LogTree (what the merkle service does at start-up to keep appending).
   * Reads every node: ≈ 2·size rows. A log never written loads as an empty tree of `fallbackSuite`.
   * @throws StoreError(CORRUPT_NODE) when the stored levels do not form one tree; StoreError(DATABASE).
   * @example const tree = await logs.loadLogTree('global', 'sha256')
   */
  async loadLogTree(logId: string, fallbackSuite: HashSuiteName = 'sha256', options: { verify?: boolean } = {}): Promise<LogTree> {
    const head = await this.head(logId);
    if (head === undefined || head.size === 0) return new LogTree(head?.suite ?? getHashSuite(fallbackSuite));
    const levels: Uint8Array[] = [];
    for (let w = 1; w <= head.size; w *= 2) levels.push(new Uint8Array(32 * Math.floor(head.size / w)));
    const res = await this._pool
      .query<{ level: number; idx: string; hash: Buffer }>(`SELECT level, idx, hash FROM ${this._t.logNodes} WHERE log_id = $1`, [logId])
      .catch((e: unknown) => {
        throw _dbError('loadLogTree', e);
      });
    let count = 0;
    for (const r of res.rows) {
      const lv = levels[r.level];
      const i = Number(r.idx);
      if (lv === undefined || 32 * (i + 1) > lv.length) continue;
      lv.set(r.hash, 32 * i);
      count++;
    }
    const expected = levels.reduce((n, l) => n + l.length / 32, 0);
    if (count !== expected) throw new StoreError(StoreErrorCode.CorruptNode, `log ${logId}: ${count} of ${expected} nodes stored`);
    try {
      return LogTree.fromLevels(head.suite, levels, { verify: options.verify ?? false });
    } catch (e) {
      throw new StoreError(StoreErrorCode.CorruptNode, `log ${logId}: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * Fetches stored nodes by (level, index) in one query, in order.
   * @throws StoreError(NOT_FOUND) when one is missing; StoreError(DATABASE).
   * @example await logs.fetchNodes('global', logRootPlan(8).nodes)
   */
  async fetchNodes(logId: string, refs: readonly LogNodeRef[], db: Queryable = this._pool): Promise<Uint8Array[]> {
    if (refs.length === 0) return [];
    const res = await db
      .query<{ level: number; idx: string; hash: Buffer }>(
        `SELECT n.level, n.idx, n.hash FROM ${this._t.logNodes} n
         JOIN unnest($2::smallint[], $3::bigint[]) AS u(l, i) ON n.level = u.l AND n.idx = u.i
         WHERE n.log_id = $1`,
        [logId, refs.map((r) => r.level), refs.map((r) => r.index)],
      )
      .catch((e: unknown) => {
        throw _dbError('fetchNodes', e);
      });
    const got = new Map(res.rows.map((r) => [`${r.level}/${r.idx}`, _bytes(r.hash)]));
    return refs.map((r) => {
      const h = got.get(`${r.level}/${r.index}`);
      if (h === undefined) throw new StoreError(StoreErrorCode.NotFound, `log ${logId} has no node (${r.level}, ${r.index})`);
      return h;
    });
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
    const fetched = await this.fetchNodes(logId, all);
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
