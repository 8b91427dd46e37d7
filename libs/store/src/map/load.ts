import { MerkleError, MerkleErrorCode, type AsyncMapNodeSource, type HashSuite, type MapNode, type MemoryMapStore } from '@merklesync/merkle';
import { StoreError, StoreErrorCode } from '../errors.ts';

/** A source that can return a whole trie in one call (PgMapNodeStore: breadth first, one query per trie level). */
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
  /** Calls to the source: 1 with a {@link TrieFetcher}, else one per trie level. */
  readonly rounds: number;
}

/**
 * Copies the whole trie of `root` from a persistent source into `target`: by its `fetchTrie` when the source is
 * a {@link TrieFetcher} (PgMapNodeStore), else by {@link readTrieBreadthFirst}. Afterwards `new SparseMerkleMap({ store: target, suite })` can update and prove at `root`.
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
  const empty = suite.digest(Uint8Array.of(0x12));
  if (Buffer.compare(Buffer.from(root), Buffer.from(empty)) === 0) return { nodes: 0, rounds: 0 };
  const rootAt = 'rootAt' in source && typeof source.rootAt === 'function' ? await source.rootAt(root) : 0;
  const { nodes, rounds } =
    'fetchTrie' in source && options.breadthFirst !== true ? { nodes: await source.fetchTrie(root), rounds: 1 } : await readTrieBreadthFirst(source, root);
  try {
    target.importTree(root, { getNode: (h) => nodes.get(_key(h)) }, options.verify === false ? { rootAt } : { suite, rootAt });
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

/**
 * Every node of the trie below `root`, breadth first: one batched `getNodesAt` (else `getNodes`) call per trie level
 * (a 100k-key map, ≈ 200k nodes, takes ≈ 35), each child at the locator its parent names, the root without one (the
 * source finds it by hash). A node the source does not have is left out, with what lies below it. Keys of `nodes`
 * are the hashes as latin1 strings.
 * @throws whatever the source throws.
 * @example const { nodes } = await readTrieBreadthFirst(pgNodes, root)
 */
export async function readTrieBreadthFirst(source: AsyncMapNodeSource, root: Uint8Array): Promise<{ nodes: Map<string, MapNode>; rounds: number }> {
  const nodes = new Map<string, MapNode>();
  let frontier: Uint8Array[] = [root];
  let ats: (number | undefined)[] = [undefined];
  let rounds = 0;
  while (frontier.length > 0) {
    const got = typeof source.getNodesAt === 'function' ? await source.getNodesAt(frontier, ats) : await source.getNodes(frontier);
    rounds++;
    const next: Uint8Array[] = [];
    const nextAts: (number | undefined)[] = [];
    for (let i = 0; i < frontier.length; i++) {
      const n = got[i];
      if (n === undefined) continue;
      nodes.set(_key(frontier[i]!), n);
      if (n.type === 'branch') {
        next.push(n.left, n.right);
        nextAts.push(n.leftAt, n.rightAt);
      }
    }
    frontier = next;
    ats = nextAts;
  }
  return { nodes, rounds };
}

const _key = (h: Uint8Array): string => Buffer.from(h.buffer, h.byteOffset, 32).toString('latin1');
