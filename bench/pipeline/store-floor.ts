// The store's share of bench:floor: what Postgres spends writing, group by group, the rows the merkle service
// writes — the map nodes each group creates (under the group's locator) and one block row per change — through libs/store's own write paths
// (binary COPY, one transaction per group), with nothing else running. And, for comparison, what it would spend if
// the same trees were stored as nibble-aligned 16-way pages instead of binary nodes packed in chunks (libs/store
// README "Node chunks"; the node layout of Jellyfish-style trees): the pages each group touches are computed exactly from the real trees; their rows are
// written with the byte size such a page would have, through the same COPY path. Used by bench/pipeline-floor.ts.
import pg from 'pg';
import { BlockOp, MapNodeRows, blockTableKey, createStore, storeConfig, type BlockInput, type MerkleStore } from '@merklesync/store';
import type { MapNode, MapNodeSource, MemoryMapStore, MapStoreMark } from '@merklesync/merkle';
import { procCpu } from './cpu.ts';

/** Bytes a page would take: a small header, per branch its bit and shape, per child outside the page its hash,
 * per leaf inside it (leaves are stored in their parent's page) its key and value. */
const PAGE_HEADER = 4;
const PAGE_BRANCH = 2;
const PAGE_REF = 32;
const PAGE_LEAF = 64;

/** One page that a group rewrites: the hash of its top node (its address) and its size. */
export interface PageRow {
  readonly top: Uint8Array;
  readonly bytes: number;
}

const _latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/** Page of a branch: its 4-bit region of the key and the key prefix above that region. */
function _pageKey(bit: number, minKey: Uint8Array): string {
  const region = bit >> 2;
  const bits = region * 4;
  let prefix = '';
  for (let i = 0; i < bits >> 3; i++) prefix += minKey[i]!.toString(16).padStart(2, '0');
  if (bits & 7) prefix += (minKey[bits >> 3]! >> 4).toString(16);
  return `${region}:${prefix}`;
}

/**
 * The pages of the trie below `root` that contain a node of `isNew` (each such page is rewritten whole: the nodes
 * it keeps and the new ones). A page holds the branches whose bit lies in one 4-bit region under one key prefix,
 * with their leaves; its top node's hash addresses it. A new node's ancestors are new, so every rewritten page's
 * top is new, and only new nodes and the other nodes of rewritten pages are visited.
 * @throws Error when a node below `root` is missing from `nodes`.
 */
export function pagesToWrite(nodes: MapNodeSource, root: Uint8Array, isNew: ReadonlySet<string>): PageRow[] {
  const pages = new Map<string, { top: Uint8Array; bytes: number }>();
  const get = (h: Uint8Array): MapNode => {
    const n = nodes.getNode(h);
    if (n === undefined) throw new Error('pagesToWrite: a node of the trie is missing');
    return n;
  };
  const walk = (hash: Uint8Array, inPage: string | undefined): void => {
    const node = get(hash);
    if (node.type === 'leaf') {
      if (inPage === undefined) pages.set(`leaf:${_latin1(hash)}`, { top: hash, bytes: PAGE_HEADER + PAGE_LEAF });
      else pages.get(inPage)!.bytes += PAGE_LEAF;
      return;
    }
    const key = _pageKey(node.bit, node.minKey);
    if (key !== inPage) {
      if (inPage !== undefined) pages.get(inPage)!.bytes += PAGE_REF;
      if (!isNew.has(_latin1(hash))) return;
      pages.set(key, { top: hash, bytes: PAGE_HEADER });
    }
    pages.get(key)!.bytes += PAGE_BRANCH;
    walk(node.left, key);
    walk(node.right, key);
  };
  walk(root, undefined);
  return [...pages.values()];
}

/** Postgres CPU (seconds) and rows written by each kind of store write (map nodes: nodes, and the chunk rows holding them). */
export interface StoreFloorResult {
  readonly nodes: { cpu: number; rows: number; chunks: number };
  readonly blocks: { cpu: number; rows: number; chunks: number };
  readonly pages: { cpu: number; rows: number; bytes: number };
}

/**
 * Two fresh stores in database `url` (schemas `<prefix>_nodes` and `<prefix>_pages`), each with its own
 * connection whose backend CPU is read around every write.
 */
export class StoreFloor {
  readonly #clients: { nodes: pg.Client; pages: pg.Client };
  readonly #stores: { nodes: MerkleStore; pages: MerkleStore };
  readonly #pools: pg.Pool[];
  readonly #pids = { nodes: 0, pages: 0 };
  readonly #source: string;
  readonly #table: string;
  readonly result = { nodes: { cpu: 0, rows: 0, chunks: 0 }, blocks: { cpu: 0, rows: 0, chunks: 0 }, pages: { cpu: 0, rows: 0, bytes: 0 } };
  #seq = 0;

  private constructor(url: string, prefix: string, source: string, table: string) {
    const pool = (): pg.Pool => new pg.Pool({ connectionString: url, max: 1 });
    this.#pools = [pool(), pool()];
    this.#stores = {
      nodes: createStore(this.#pools[0]!, storeConfig({ schema: `${prefix}_nodes` }), { suite: 'sha256' }),
      pages: createStore(this.#pools[1]!, storeConfig({ schema: `${prefix}_pages` }), { suite: 'sha256' }),
    };
    this.#clients = { nodes: new pg.Client({ connectionString: url }), pages: new pg.Client({ connectionString: url }) };
    this.#source = source;
    this.#table = table;
  }

  /** Creates both stores (migrations) and connects. */
  static async open(url: string, prefix: string, source: string, table: string): Promise<StoreFloor> {
    const f = new StoreFloor(url, prefix, source, table);
    for (const s of Object.values(f.#stores)) await s.migrate();
    for (const k of ['nodes', 'pages'] as const) {
      await f.#clients[k].connect();
      await f.#clients[k].query(`SET search_path TO ${f.#stores[k].config.schema}`);
      f.#pids[k] = (await f.#clients[k].query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    }
    return f;
  }

  /**
   * Writes one group as the merkle service would (its new map nodes and one block per change, one transaction),
   * then the pages the same group rewrites into the other store.
   */
  async writeGroup(
    map: { store: MemoryMapStore },
    mark: MapStoreMark,
    root: Uint8Array,
    changes: { mapKey: Uint8Array; leaf: Uint8Array; block: Uint8Array; rowVersion: bigint; logIndex: number }[],
  ): Promise<void> {
    // One walk of the group's new nodes, as the merkle service seals a group: COPY rows under the group's locator
    // (its sequence), branches naming their children's, the root recorded; the set of their hashes tells
    // pagesToWrite which pages the group rewrites.
    const seq = ++this.#seq;
    const fresh = new MapNodeRows('sha256', 1024, seq);
    map.store.visitNewNodesSince(mark, [root], fresh, seq);
    fresh.root(root, map.store.atOf(root)!);
    const isNew = new Set(fresh.sortedPairs().map((n) => _latin1(n.hash)));
    const blocks: BlockInput[] = changes.map((c) => ({
      source: this.#source,
      table: this.#table,
      mapKey: c.mapKey,
      op: BlockOp.Insert,
      rowVersion: c.rowVersion,
      leafCommitment: c.leaf,
      block: c.block,
      logIndex: c.logIndex,
    }));
    const n = this.#clients.nodes;
    const p0 = procCpu(this.#pids.nodes);
    await n.query('BEGIN');
    this.result.nodes.rows += await this.#stores.nodes.maps.putNodes(fresh, n);
    const p1 = procCpu(this.#pids.nodes);
    // As the merkle service writes them: chunks under the group's locator (libs/store README "Block chunks").
    const logEnd = changes.reduce((m, c) => Math.max(m, c.logIndex + 1), 1);
    this.result.blocks.rows += await this.#stores.nodes.blocks.put(blocks, seq, n, { at: seq, logEnd });
    await n.query('COMMIT');
    const p2 = procCpu(this.#pids.nodes);
    this.result.nodes.cpu += p1 - p0;
    this.result.blocks.cpu += p2 - p1;
    // The chunk rows the group's nodes went into (read back after the measured interval, by the key's leading column).
    this.result.nodes.chunks += Number((await n.query<{ n: string }>('SELECT count(*) AS n FROM map_node_chunks WHERE at = $1', [seq])).rows[0]!.n);
    this.result.blocks.chunks += Number((await n.query<{ n: string }>('SELECT count(*) AS n FROM block_chunks WHERE table_key = $1 AND at = $2', [blockTableKey(this.#source, this.#table).toString(), seq])).rows[0]!.n);

    const pages = pagesToWrite(map.store, root, isNew);
    const pageRows = new MapNodeRows('sha256', pages.length);
    const key = new Uint8Array(32);
    let filler = new Uint8Array(0);
    for (const page of pages) {
      // A row of the page's size through the same COPY path (a leaf-shaped row: 1 + 32 + value bytes).
      const valueLen = Math.max(0, page.bytes - 33);
      if (filler.length < valueLen) filler = new Uint8Array(2 * valueLen);
      pageRows.leaf(page.top, 0, key, 0, filler, 0, valueLen);
      this.result.pages.bytes += page.bytes;
    }
    const c = this.#clients.pages;
    const q0 = procCpu(this.#pids.pages);
    await c.query('BEGIN');
    this.result.pages.rows += await this.#stores.pages.maps.putNodes(pageRows, c);
    await c.query('COMMIT');
    this.result.pages.cpu += procCpu(this.#pids.pages) - q0;
  }

  async close(): Promise<void> {
    for (const c of Object.values(this.#clients)) await c.end().catch(() => undefined);
    for (const p of this.#pools) await p.end().catch(() => undefined);
  }
}
