import { getHashSuite, type AsyncMapNodeSource, type HashSuite, type HashSuiteName, type MapNode, type MapNodeWithHash } from '@merklesync/merkle';
import { _tables, type StoreConfig } from '../config.ts';
import pg from 'pg';
import { _buf, _bytes, _dbError, type Queryable } from '../db.ts';
import { copyFromBinary, copyUnlessConflict, withStagingTable } from './copy.ts';
import { checkLocator, chunkNode, decodeMapNode, suiteCode } from './node-codec.ts';
import { MapNodeRows } from './node-rows.ts';
import { readTrieBreadthFirst } from './load.ts';
import { _takeWriteBuffer, _writeBuffers } from '../scratch.ts';

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
  private readonly _roots: string;
  private readonly _chunkNode: string;
  private readonly _code: number;
  private readonly _insertChunk: number;
  private readonly _selectChunk: number;
  private readonly _copyThreshold: number;
  /** Writes left that go through the deduplicating path after a direct COPY met a stored node. */
  private _skipDirect = 0;

  /** @throws MerkleError(UNKNOWN_HASH_SUITE) for an unknown suite name. */
  constructor(db: Queryable, config: StoreConfig, suite: HashSuite | HashSuiteName, options: PgMapNodeStoreOptions = {}) {
    this._db = db;
    this._table = _tables(config).mapNodeChunks;
    this._chunkNode = _tables(config).chunkNodeFn;
    this._roots = _tables(config).mapRoots;
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
    const n = await this._putNodes(nodes, db);
    if (nodes instanceof MapNodeRows && nodes.roots.length > 0) await this.putRoots(nodes.roots, db);
    return n;
  }

  /**
   * Records where map roots are stored (`map_roots`: a root's hash → its node's locator), so a reader with only a
   * root's hash finds the node. A root already recorded keeps its row (its node stays where it was written).
   * @throws StoreError(DATABASE); RangeError for a hash that is not 32 bytes or a locator that is not a safe integer ≥ 0.
   * @example await store.putRoots([{ hash: root, at: 42 }], tx)
   */
  async putRoots(roots: readonly { readonly hash: Uint8Array; readonly at: number }[], db: Queryable = this._db): Promise<void> {
    roots.forEach((r, i) => {
      if (!(r.hash instanceof Uint8Array) || r.hash.length !== 32) throw new RangeError(`roots[${i}].hash must be 32 bytes`);
      checkLocator(r.at, `roots[${i}].at`);
    });
    if (roots.length === 0) return;
    await db
      .query(
        `INSERT INTO ${this._roots} (suite, hash, at) SELECT $1, h, a FROM unnest($2::bytea[], $3::bigint[]) AS u(h, a) ORDER BY h ON CONFLICT DO NOTHING`,
        [this._code, roots.map((r) => _buf(r.hash)), roots.map((r) => r.at)],
      )
      .catch((e: unknown) => {
        throw _dbError('putRoots', e);
      });
  }

  private async _putNodes(nodes: readonly MapNodeWithHash[] | MapNodeRows, db: Queryable): Promise<number> {
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
    const chunks = collected.chunkPairs();
    let inserted = 0;
    for (let i = 0; i < chunks.length; i += this._insertChunk) {
      const part = chunks.slice(i, i + this._insertChunk);
      // unnest of two arrays: one statement, four parameters, whatever the row count.
      const res = await db
        .query<{ n: number }>(
          `WITH ins AS (
             INSERT INTO ${this._table} (suite, at, lo, nodes)
             SELECT $1, $2, l, c FROM unnest($3::bytea[], $4::bytea[]) AS u(l, c)
             ON CONFLICT DO NOTHING RETURNING nodes)
           SELECT ${_nodesIn('ins')} AS n FROM ins`,
          [this._code, collected.at, part.map((r) => r.lo), part.map((r) => r.nodes)],
        )
        .catch((e: unknown) => {
          throw _dbError('putNodes', e);
        });
      inserted += res.rows[0]?.n ?? 0;
    }
    return inserted;
  }

  private async _putByCopy(nodes: MapNodeRows, c: pg.ClientBase): Promise<number> {
    // Rows in hash order (concurrent writers take index locks in one order); one file for either path, in a reused
    // buffer given back once the server has read it all (after a failure, it is left to the collector).
    const file = nodes.copyFiles(1, _takeWriteBuffer)[0]!;
    const written = await this._putFile(nodes, file, c);
    _writeBuffers.give(file);
    return written;
  }

  private async _putFile(nodes: MapNodeRows, file: Buffer, c: pg.ClientBase): Promise<number> {
    if (this._skipDirect > 0) this._skipDirect--;
    else {
      const direct = await this._copyDirect(file, nodes.count, c);
      if (direct !== undefined) return direct;
      // A workload that re-creates stored nodes (values flipping back and forth) would pay for two writes every
      // time: take the deduplicating path for a while before trying the direct one again.
      this._skipDirect = _SKIP_DIRECT_AFTER_CONFLICT;
    }
    try {
      const res = await withStagingTable(c, '_ms_chunks_staged', '(suite smallint, at bigint, lo bytea, nodes bytea)', async () => {
        await copyFromBinary(c, 'COPY _ms_chunks_staged (suite, at, lo, nodes) FROM STDIN (FORMAT binary)', file);
        // ORDER BY: concurrent writers take index locks in one order. The rows leave the staging table as they are
        // read, so a second use in the same transaction starts empty.
        return c.query<{ n: number }>(
          `WITH staged AS (DELETE FROM _ms_chunks_staged RETURNING suite, at, lo, nodes),
                ins AS (INSERT INTO ${this._table} (suite, at, lo, nodes) SELECT suite, at, lo, nodes FROM staged ORDER BY at, lo ON CONFLICT DO NOTHING RETURNING nodes)
           SELECT ${_nodesIn('ins')} AS n FROM ins`,
        );
      });
      return res.rows[0]?.n ?? 0;
    } catch (e) {
      throw _dbError('putNodes', e);
    }
  }

  // COPY straight into the table: no temp table, no INSERT … SELECT, no per-row conflict check. A node that is
  // already stored (content addressing: e.g. a key deleted and re-added with its old value) makes the COPY fail
  // as a whole; it is undone and undefined returned, so the deduplicating path runs instead.
  private async _copyDirect(file: Buffer, count: number, c: pg.ClientBase): Promise<number | undefined> {
    try {
      return (await copyUnlessConflict(c, `COPY ${this._table} (suite, at, lo, nodes) FROM STDIN (FORMAT binary)`, file, 'ms_map_nodes')) ? count : undefined;
    } catch (e) {
      throw _dbError('putNodes', e);
    }
  }

  /**
   * Every node of the trie below `root` ({@link readTrieBreadthFirst}: one {@link getNodesAt} query per trie level),
   * the root at its `map_roots` locator (0 when it has none). Keys of the result are the hashes as latin1 strings;
   * branches carry their children's locators. Missing nodes are simply absent (the caller's import reports them).
   * @throws StoreError(DATABASE) when Postgres fails; StoreError(CORRUPT_NODE) for undecodable bytes.
   * @example const nodes = await store.fetchTrie(root)
   */
  async fetchTrie(root: Uint8Array, db: Queryable = this._db): Promise<Map<string, MapNode>> {
    return (await readTrieBreadthFirst({ getNodes: (h) => this.getNodesAt(h, [], db), getNodesAt: (h, a) => this.getNodesAt(h, a, db) }, root)).nodes;
  }

  /**
   * The locator of root `root`'s node: its `map_roots` row, or 0 (nodes stored without a locator) when it has none.
   * @throws StoreError(DATABASE).
   * @example mem.importTree(root, fetched, { rootAt: await store.rootAt(root) })
   */
  async rootAt(root: Uint8Array, db: Queryable = this._db): Promise<number> {
    const res = await db
      .query<{ at: string }>(`SELECT at::text FROM ${this._roots} WHERE suite = $1 AND hash = $2`, [this._code, _buf(root)])
      .catch((e: unknown) => {
        throw _dbError('rootAt', e);
      });
    return res.rows.length === 0 ? 0 : Number(res.rows[0]!.at);
  }

  /**
   * The nodes on `key`'s path below `from` (a root or any node of a trie), in ONE round trip: a recursive CTE
   * follows the key's bit at each branch (bit `b` = bit `7 − b mod 8` of byte `b div 8`, as the map reads it) down
   * to a leaf, each child at the locator its parent names. What a single-key proof reads, without a round trip per
   * trie level. Missing nodes end the path. `fromAt` is `from`'s locator; without it, `from` is looked up as a root.
   * @returns the nodes found, from `from` downwards, with their hashes.
   * @throws RangeError when `from` or `key` is not 32 bytes or `fromAt` not a safe integer ≥ 0; StoreError(DATABASE);
   *   StoreError(CORRUPT_NODE).
   * @example for (const { hash, node } of await store.fetchPath(root, key)) cache.set(hash, node)
   */
  async fetchPath(from: Uint8Array, key: Uint8Array, fromAt?: number, db: Queryable = this._db): Promise<{ hash: Uint8Array; node: MapNode }[]> {
    if (!(from instanceof Uint8Array) || from.length !== 32) throw new RangeError('from must be 32 bytes');
    if (!(key instanceof Uint8Array) || key.length !== 32) throw new RangeError('key must be 32 bytes');
    if (fromAt !== undefined) checkLocator(fromAt, 'fromAt');
    const res = await db
      .query<{ hash: Buffer; node: Buffer }>(
        `WITH RECURSIVE p(hash, node, depth) AS (
           SELECT $2::bytea, ${this._chunkNode}(c.nodes, $2::bytea), 0
             FROM (SELECT c.nodes FROM ${this._table} c
                    WHERE c.at = coalesce($4::bigint, (SELECT r.at FROM ${this._roots} r WHERE r.suite = $1 AND r.hash = $2), 0)
                      AND c.lo <= $2 AND c.suite = $1
                    ORDER BY c.lo DESC LIMIT 1) c
           UNION ALL
           SELECT k.h, ${this._chunkNode}(c.nodes, k.h), p.depth + 1 FROM p
             CROSS JOIN LATERAL (SELECT (get_byte($3::bytea, get_byte(p.node, 1) / 8) >> (7 - get_byte(p.node, 1) % 8)) & 1 AS side) AS s
             CROSS JOIN LATERAL (SELECT CASE WHEN s.side = 0 THEN substring(p.node FROM 3 FOR 32) ELSE substring(p.node FROM 35 FOR 32) END AS h,
                                        CASE WHEN s.side = 0 THEN ${_childAt('p.node', 99)} ELSE ${_childAt('p.node', 107)} END AS a) AS k
             CROSS JOIN LATERAL (SELECT c.nodes FROM ${this._table} c WHERE c.at = k.a AND c.lo <= k.h AND c.suite = $1 ORDER BY c.lo DESC LIMIT 1) AS c
           WHERE ((get_byte(p.node, 0) = 1 AND length(p.node) = 98) OR (get_byte(p.node, 0) = 2 AND length(p.node) = 114)) AND p.depth < 256)
         SELECT hash, node FROM p WHERE node IS NOT NULL ORDER BY depth`,
        [this._code, _buf(from), _buf(key), fromAt ?? null],
      )
      .catch((e: unknown) => {
        throw _dbError('fetchPath', e);
      });
    return res.rows.map((r) => ({ hash: _bytes(r.hash), node: decodeMapNode(_bytes(r.node)) }));
  }

  /**
   * The nodes for `hashes`, in order; undefined where not stored. Without locators a node is found only if it is a
   * root recorded in `map_roots` or was stored with locator 0: readers walk down from roots and give each child's
   * locator ({@link getNodesAt}; `runMapReadAsync` does).
   * @throws StoreError(DATABASE) when Postgres fails; StoreError(CORRUPT_NODE) for undecodable bytes.
   * @example const [root] = await store.getNodes([rootHash])
   */
  async getNodes(hashes: readonly Uint8Array[], db: Queryable = this._db): Promise<(MapNode | undefined)[]> {
    return this.getNodesAt(hashes, [], db);
  }

  /**
   * The nodes for `hashes`, in order, each looked up at its locator `ats[i]` (from its parent branch's
   * `leftAt`/`rightAt`); where `ats[i]` is undefined, as {@link getNodes} does (a root: its `map_roots` locator, else 0).
   * One round trip per `selectChunk` hashes; undefined where not stored.
   * @throws RangeError for a locator that is not a non-negative safe integer; StoreError(DATABASE);
   *   StoreError(CORRUPT_NODE) for undecodable bytes.
   * @example await runMapReadAsync(mapProve(suite, root, key), store) // uses getNodesAt
   */
  async getNodesAt(hashes: readonly Uint8Array[], ats: readonly (number | undefined)[], db: Queryable = this._db): Promise<(MapNode | undefined)[]> {
    const out = new Array<MapNode | undefined>(hashes.length);
    for (let i = 0; i < hashes.length; i += this._selectChunk) {
      const end = Math.min(hashes.length, i + this._selectChunk);
      const hs: Buffer[] = [];
      const as: (number | null)[] = [];
      for (let j = i; j < end; j++) {
        const at = ats[j];
        if (at !== undefined) checkLocator(at, `ats[${j}]`);
        hs.push(_buf(hashes[j]!));
        as.push(at ?? null);
      }
      // Each hash's chunk: the one of its locator with the greatest lo ≤ the hash (README "Node chunks"); each chunk
      // comes back once however many of the hashes it holds.
      const res = await db
        .query<{ i: string | null; at: string; lo: Buffer; nodes: Buffer | null }>(
          `WITH q AS (
             SELECT u.i, k.at, k.lo
               FROM unnest($2::bytea[], $3::bigint[]) WITH ORDINALITY AS u(h, a, i)
               LEFT JOIN ${this._roots} r ON u.a IS NULL AND r.suite = $1 AND r.hash = u.h
               CROSS JOIN LATERAL (SELECT c.at, c.lo FROM ${this._table} c
                                    WHERE c.at = coalesce(u.a, r.at, 0) AND c.lo <= u.h AND c.suite = $1
                                    ORDER BY c.lo DESC LIMIT 1) k)
           SELECT q.i::text AS i, q.at::text AS at, q.lo, NULL::bytea AS nodes FROM q
           UNION ALL
           SELECT NULL, d.at::text, d.lo, c.nodes FROM (SELECT DISTINCT at, lo FROM q) d
             JOIN ${this._table} c ON c.at = d.at AND c.lo = d.lo AND c.suite = $1`,
          [this._code, hs, as],
        )
        .catch((e: unknown) => {
          throw _dbError('getNodes', e);
        });
      const chunks = new Map<string, Uint8Array>();
      for (const r of res.rows) if (r.nodes !== null) chunks.set(r.at + ':' + r.lo.toString('latin1'), _bytes(r.nodes));
      for (const r of res.rows) {
        if (r.i === null) continue;
        const j = i + Number(r.i) - 1;
        const chunk = chunks.get(r.at + ':' + r.lo.toString('latin1'));
        const bytes = chunk === undefined ? undefined : chunkNode(chunk, hashes[j]!);
        if (bytes !== undefined) out[j] = decodeMapNode(bytes);
      }
    }
    return out;
  }
}

/** SQL for the number of nodes in the chunks (`nodes` column) of the rows of `from`. */
function _nodesIn(from: string): string {
  return `coalesce(sum(get_byte(${from}.nodes, 0) << 8 | get_byte(${from}.nodes, 1)), 0)::int`;
}

/** SQL for the child locator stored at 1-based byte `from` of a 0x02 branch `node` (0 for a 0x01 branch). */
function _childAt(node: string, from: number): string {
  return `(CASE WHEN get_byte(${node}, 0) = 2 THEN ('x' || encode(substring(${node} FROM ${from} FOR 8), 'hex'))::bit(64)::bigint ELSE 0 END)`;
}
