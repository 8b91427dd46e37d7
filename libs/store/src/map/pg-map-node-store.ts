import { getHashSuite, type AsyncMapNodeSource, type HashSuite, type HashSuiteName, type MapNode, type MapNodeWithHash } from '@merklesync/merkle';
import { _tables, type StoreConfig } from '../config.ts';
import pg from 'pg';
import { _buf, _bytes, _dbError, type Queryable } from '../db.ts';
import { copyFromBinary, copyUnlessConflict, withStagingTable } from './copy.ts';
import { decodeMapNode, suiteCode } from './node-codec.ts';
import { MapNodeRows } from './node-rows.ts';

const _SKIP_DIRECT_AFTER_CONFLICT = 8;

/** Options of {@link PgMapNodeStore}. */
export interface PgMapNodeStoreOptions {
  /** Rows per INSERT statement (default 5,000; measured: larger statements gain nothing). */
  readonly insertChunk?: number;
  /** Hashes per SELECT (default 10,000). */
  readonly selectChunk?: number;
  /**
   * From this many nodes on, write by binary COPY: first straight into the table (inside a savepoint; measured
   * 1.1–1.8× the rows/s of the next path), and if a node was already stored, into a session temp table and one
   * INSERT … SELECT … ON CONFLICT DO NOTHING (measured ≈ 2× the rows/s of unnest for 200k nodes);
   * below it, unnest (fewer round trips for small batches). Default 2,000; Infinity disables COPY.
   * COPY needs a dedicated client: it is used when `db` is a client (a transaction) or the store's pool.
   */
  readonly copyThreshold?: number;
}

/**
 * The content-addressed map node table of one hash suite: `putNodes` writes, `getNodes` reads in one
 * round trip per chunk. Implements the merkle library's AsyncMapNodeSource, so
 * `runMapReadAsync(mapProve(suite, root, key), store)` proves straight from Postgres.
 *
 * @example
 * const nodes = new PgMapNodeStore(pool, config, 'sha256');
 * await nodes.putNodes(memStore.newNodesSince(mark, [root]));
 * const proof = await runMapReadAsync(mapProve(nodes.suite, root, key), nodes);
 */
export class PgMapNodeStore implements AsyncMapNodeSource {
  readonly suite: HashSuite;
  private readonly _db: Queryable;
  private readonly _table: string;
  private readonly _code: number;
  private readonly _insertChunk: number;
  private readonly _selectChunk: number;
  private readonly _copyThreshold: number;
  /** Writes left that go through the deduplicating path after a direct COPY met a stored node. */
  private _skipDirect = 0;

  /** @throws MerkleError(UNKNOWN_HASH_SUITE) for an unknown suite name. */
  constructor(db: Queryable, config: StoreConfig, suite: HashSuite | HashSuiteName, options: PgMapNodeStoreOptions = {}) {
    this._db = db;
    this._table = _tables(config).mapNodes;
    this.suite = typeof suite === 'string' ? getHashSuite(suite) : suite;
    this._code = suiteCode(this.suite);
    this._insertChunk = options.insertChunk ?? 5000;
    this._selectChunk = options.selectChunk ?? 10_000;
    this._copyThreshold = options.copyThreshold ?? 2000;
  }

  /**
   * Stores nodes (already-stored hashes are skipped: content addressing makes a re-write a no-op, so a
   * replayed batch is harmless). Rows are sorted by hash so concurrent writers lock in the same order.
   * `nodes` are objects, or rows collected straight from the in-memory store ({@link MapNodeRows}, the hot path).
   * Pass `db` (a transaction client) to write inside a unit of work.
   * @returns the number of rows actually inserted.
   * @throws StoreError(DATABASE) when Postgres fails; RangeError when `nodes` are rows of another hash suite or a
   *   hash is not 32 bytes.
   * @example await store.putNodes(memStore.newNodesSince(mark, roots), tx)
   */
  async putNodes(nodes: readonly MapNodeWithHash[] | MapNodeRows, db: Queryable = this._db): Promise<number> {
    let collected: MapNodeRows;
    if (nodes instanceof MapNodeRows) {
      if (nodes.suiteCode !== this._code) throw new RangeError(`map node rows of suite code ${nodes.suiteCode} given to a store of suite code ${this._code}`);
      collected = nodes;
    } else {
      collected = new MapNodeRows(this._code, nodes.length);
      for (const n of nodes) collected.add(n);
    }
    if (collected.count >= this._copyThreshold) {
      if (db instanceof pg.Client) return this._putByCopy(collected, db);
      if (db instanceof pg.Pool) {
        const c = await db.connect().catch((e: unknown) => {
          throw _dbError('putNodes', e);
        });
        try {
          return await this._putByCopy(collected, c);
        } finally {
          c.release();
        }
      }
    }
    const rows = collected.sortedPairs().map((r) => ({ h: r.hash, n: r.node }));
    let inserted = 0;
    for (let i = 0; i < rows.length; i += this._insertChunk) {
      const part = rows.slice(i, i + this._insertChunk);
      // unnest of two arrays: one statement, three parameters, whatever the row count.
      const res = await db
        .query(
          `INSERT INTO ${this._table} (suite, hash, node)
           SELECT $1, h, n FROM unnest($2::bytea[], $3::bytea[]) AS u(h, n)
           ON CONFLICT DO NOTHING`,
          [this._code, part.map((r) => r.h), part.map((r) => r.n)],
        )
        .catch((e: unknown) => {
          throw _dbError('putNodes', e);
        });
      inserted += res.rowCount ?? 0;
    }
    return inserted;
  }

  private async _putByCopy(nodes: MapNodeRows, c: pg.ClientBase): Promise<number> {
    // Rows in hash order (concurrent writers take index locks in one order); one file for either path.
    const file = nodes.copyFiles(1)[0]!;
    if (this._skipDirect > 0) this._skipDirect--;
    else {
      const direct = await this._copyDirect(file, nodes.count, c);
      if (direct !== undefined) return direct;
      // A workload that re-creates stored nodes (values flipping back and forth) would pay for two writes every
      // time: take the deduplicating path for a while before trying the direct one again.
      this._skipDirect = _SKIP_DIRECT_AFTER_CONFLICT;
    }
    try {
      const res = await withStagingTable(c, '_ms_nodes_staged', '(suite smallint, hash bytea, node bytea)', async () => {
        await copyFromBinary(c, 'COPY _ms_nodes_staged (suite, hash, node) FROM STDIN (FORMAT binary)', file);
        // ORDER BY: concurrent writers take index locks in one order. The rows leave the staging table as they are
        // read, so a second use in the same transaction starts empty.
        return c.query(
          `WITH staged AS (DELETE FROM _ms_nodes_staged RETURNING suite, hash, node)
           INSERT INTO ${this._table} (suite, hash, node) SELECT suite, hash, node FROM staged ORDER BY hash ON CONFLICT DO NOTHING`,
        );
      });
      return res.rowCount ?? 0;
    } catch (e) {
      throw _dbError('putNodes', e);
    }
  }

  // COPY straight into the table: no temp table, no INSERT … SELECT, no per-row conflict check. A node that is
  // already stored (content addressing: e.g. a key deleted and re-added with its old value) makes the COPY fail
  // as a whole; it is undone and undefined returned, so the deduplicating path runs instead.
  private async _copyDirect(file: Buffer, count: number, c: pg.ClientBase): Promise<number | undefined> {
    try {
      return (await copyUnlessConflict(c, `COPY ${this._table} (suite, hash, node) FROM STDIN (FORMAT binary)`, file, 'ms_map_nodes')) ? count : undefined;
    } catch (e) {
      throw _dbError('putNodes', e);
    }
  }

  /**
   * Every node of the trie below `root`, in ONE round trip: a recursive CTE walks the branches inside
   * Postgres (children are bytes 2..33 and 34..65 of a branch's encoding). Keys of the result are the
   * hashes as latin1 strings. Missing nodes are simply absent (the caller's import reports them).
   * Measured ≈ 3× faster than breadth-first batched reads for a 100k-key map.
   * @throws StoreError(DATABASE) when Postgres fails; StoreError(CORRUPT_NODE) for undecodable bytes.
   * @example const nodes = await store.fetchTrie(root)
   */
  async fetchTrie(root: Uint8Array, db: Queryable = this._db): Promise<Map<string, MapNode>> {
    const res = await db
      .query<{ hash: Buffer; node: Buffer }>(
        `WITH RECURSIVE t(hash, node) AS (
           SELECT hash, node FROM ${this._table} WHERE suite = $1 AND hash = $2
           UNION ALL
           SELECT c.hash, c.node FROM t
             CROSS JOIN LATERAL (VALUES (substring(t.node FROM 3 FOR 32)), (substring(t.node FROM 35 FOR 32))) AS k(h)
             JOIN ${this._table} c ON c.suite = $1 AND c.hash = k.h
           WHERE get_byte(t.node, 0) = 1)
         SELECT hash, node FROM t`,
        [this._code, _buf(root)],
      )
      .catch((e: unknown) => {
        throw _dbError('fetchTrie', e);
      });
    const out = new Map<string, MapNode>();
    for (const r of res.rows) out.set(r.hash.toString('latin1'), decodeMapNode(_bytes(r.node)));
    return out;
  }

  /**
   * The nodes on `key`'s path below `from` (a root or any node of a trie), in ONE round trip: a recursive CTE
   * follows the key's bit at each branch (bit `b` = bit `7 − b mod 8` of byte `b div 8`, as the map reads it) down
   * to a leaf. What a single-key proof reads, without a round trip per trie level. Missing nodes end the path.
   * @returns the nodes found, from `from` downwards, with their hashes.
   * @throws RangeError when `from` or `key` is not 32 bytes; StoreError(DATABASE); StoreError(CORRUPT_NODE).
   * @example for (const { hash, node } of await store.fetchPath(root, key)) cache.set(hash, node)
   */
  async fetchPath(from: Uint8Array, key: Uint8Array, db: Queryable = this._db): Promise<{ hash: Uint8Array; node: MapNode }[]> {
    if (!(from instanceof Uint8Array) || from.length !== 32) throw new RangeError('from must be 32 bytes');
    if (!(key instanceof Uint8Array) || key.length !== 32) throw new RangeError('key must be 32 bytes');
    const res = await db
      .query<{ hash: Buffer; node: Buffer }>(
        `WITH RECURSIVE p(hash, node, depth) AS (
           SELECT hash, node, 0 FROM ${this._table} WHERE suite = $1 AND hash = $2
           UNION ALL
           SELECT c.hash, c.node, p.depth + 1 FROM p
             JOIN ${this._table} c ON c.suite = $1 AND c.hash = CASE
               WHEN (get_byte($3::bytea, get_byte(p.node, 1) / 8) >> (7 - get_byte(p.node, 1) % 8)) & 1 = 0
               THEN substring(p.node FROM 3 FOR 32) ELSE substring(p.node FROM 35 FOR 32) END
           WHERE get_byte(p.node, 0) = 1 AND length(p.node) = 98 AND p.depth < 256)
         SELECT hash, node FROM p ORDER BY depth`,
        [this._code, _buf(from), _buf(key)],
      )
      .catch((e: unknown) => {
        throw _dbError('fetchPath', e);
      });
    return res.rows.map((r) => ({ hash: _bytes(r.hash), node: decodeMapNode(_bytes(r.node)) }));
  }

  /**
   * The nodes for `hashes`, in order; undefined where not stored.
   * @throws StoreError(DATABASE) when Postgres fails; StoreError(CORRUPT_NODE) for undecodable bytes.
   * @example const [root] = await store.getNodes([rootHash])
   */
  async getNodes(hashes: readonly Uint8Array[], db: Queryable = this._db): Promise<(MapNode | undefined)[]> {
    const found = new Map<string, MapNode>();
    for (let i = 0; i < hashes.length; i += this._selectChunk) {
      const part = hashes.slice(i, i + this._selectChunk).map(_buf);
      const res = await db
        .query<{ hash: Buffer; node: Buffer }>(`SELECT hash, node FROM ${this._table} WHERE suite = $1 AND hash = ANY($2::bytea[])`, [
          this._code,
          part,
        ])
        .catch((e: unknown) => {
          throw _dbError('getNodes', e);
        });
      for (const r of res.rows) found.set(r.hash.toString('latin1'), decodeMapNode(_bytes(r.node)));
    }
    return hashes.map((h) => found.get(_buf(h).toString('latin1')));
  }
}
