import { MerkleError, MerkleErrorCode, toHex, type AsyncMapNodeSource, type HashSuite, type MapNode, type MemoryMapStore } from '@merklesync/merkle';
import { StoreError, StoreErrorCode } from '../errors.ts';

/** A source that can return a whole trie at once (PgMapNodeStore: one recursive query). */
export interface TrieFetcher {
  fetchTrie(root: Uint8Array): Promise<Map<string, MapNode>>;
  /** The locator of the root's node (README "Node locators"); the store without one: 0. */
  rootAt?(root: Uint8Array): Promise<number>;
}

/** Options of {@link loadMapIntoMemory}. */
export interface LoadMapOptions {
  /** Recompute every node's hash while importing (default true; ≈ one hash per node, cheap next to the reads). */
  readonly verify?: boolean;
  /** Use batched per-level reads even when the source can fetch a whole trie (for comparison). */
  readonly breadthFirst?: boolean;
}

/** What {@link loadMapIntoMemory} did. */
export interface LoadMapResult {
  /** Nodes read and imported. */
  readonly nodes: number;
  /** Round trips to the source: 1 with a {@link TrieFetcher}, else one per trie level (more past the source's chunk). */
  readonly rounds: number;
}

/**
 * Copies the whole trie of `root` from a persistent source into `target`: in one query when the source is
 * a {@link TrieFetcher} (PgMapNodeStore), else breadth first, each trie level one batched `getNodes` call
 * (a 100k-key map, ≈ 200k nodes, takes ≈ 22 round trips). Afterwards `new SparseMerkleMap({ store: target, suite })` can update and prove at `root`.
 * The empty root loads nothing.
 * @throws StoreError(NOT_FOUND) when a node is missing; StoreError(CORRUPT_NODE) when `verify` finds a node
 *   that does not hash to its address; whatever the source throws (StoreError(DATABASE)).
 * @example await loadMapIntoMemory(pgNodes, pgNodes.suite, memStore, storedRoot)
 */
export async function loadMapIntoMemory(
  source: AsyncMapNodeSource | (AsyncMapNodeSource & TrieFetcher),
  suite: HashSuite,
  target: MemoryMapStore,
  root: Uint8Array,
  options: LoadMapOptions = {},
): Promise<LoadMapResult> {
  const key = (h: Uint8Array): string => Buffer.from(h.buffer, h.byteOffset, 32).toString('latin1');
  const empty = suite.digest(Uint8Array.of(0x12));
  if (Buffer.compare(Buffer.from(root), Buffer.from(empty)) === 0) return { nodes: 0, rounds: 0 };
  let nodes = new Map<string, MapNode>();
  // Each node with its locator (from its parent branch; the root's from the source): imported nodes keep theirs.
  let frontier: Uint8Array[] = [root];
  let frontierAts: (number | undefined)[] = [undefined];
  let rounds = 0;
  const rootAt = 'rootAt' in source && typeof source.rootAt === 'function' ? await source.rootAt(root) : 0;
  if ('fetchTrie' in source && options.breadthFirst !== true) {
    nodes = await source.fetchTrie(root);
    rounds = 1;
    frontier = [];
  }
  while (frontier.length > 0) {
    const got = typeof source.getNodesAt === 'function' ? await source.getNodesAt(frontier, frontierAts) : await source.getNodes(frontier);
    rounds++;
    const next: Uint8Array[] = [];
    const nextAts: (number | undefined)[] = [];
    for (let i = 0; i < frontier.length; i++) {
      const n = got[i];
      if (n === undefined) throw new StoreError(StoreErrorCode.NotFound, `map node ${toHex(frontier[i]!)} not stored`);
      nodes.set(key(frontier[i]!), n);
      if (n.type === 'branch') {
        next.push(n.left, n.right);
        nextAts.push(n.leftAt, n.rightAt);
      }
    }
    frontier = next;
    frontierAts = nextAts;
  }
  try {
    target.importTree(root, { getNode: (h) => nodes.get(key(h)) }, options.verify === false ? { rootAt } : { suite, rootAt });
  } catch (e) {
    if (e instanceof MerkleError && e.code === MerkleErrorCode.NodeNotFound) {
      throw new StoreError(StoreErrorCode.NotFound, e.message, { cause: e });
    }
    if (e instanceof MerkleError && e.code === MerkleErrorCode.MalformedInput) {
      throw new StoreError(StoreErrorCode.CorruptNode, e.message, { cause: e });
    }
    throw e;
  }
  return { nodes: nodes.size, rounds };
}
