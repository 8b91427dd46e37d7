import { MerkleError, MerkleErrorCode } from '../errors.ts';
import { toHex } from '../bytes.ts';
import { _hashKey } from './memory-store.ts';
import type { MapNode } from './node.ts';

/** Synchronous read access to content-addressed map nodes (the in-memory store, or a warmed cache). */
export interface MapNodeSource {
  /** The node whose hash is `hash`, or undefined when not stored. */
  getNode(hash: Uint8Array): MapNode | undefined;
}

/** Asynchronous read access (a database-backed store); one call may fetch several nodes in one round trip. */
export interface AsyncMapNodeSource {
  /** The nodes for `hashes`, in order; undefined where not stored. */
  getNodes(hashes: readonly Uint8Array[]): Promise<readonly (MapNode | undefined)[]>;
  /**
   * Optional: the nodes for `hashes` where `ats[i]` is the locator the parent branch gave for `hashes[i]`
   * (`leftAt`/`rightAt`), undefined for a node reached without a parent (a root). A source that has it is read
   * through it by {@link runMapReadAsync}.
   */
  getNodesAt?(hashes: readonly Uint8Array[], ats: readonly (number | undefined)[]): Promise<readonly (MapNode | undefined)[]>;
}

/**
 * A read algorithm written once for both kinds of store: it yields the hashes of the nodes it needs
 * next and is resumed with those nodes (same order). Drive it with {@link runMapRead} or {@link runMapReadAsync}.
 */
export type MapRead<T> = Generator<readonly Uint8Array[], T, readonly MapNode[]>;

function _missing(hash: Uint8Array): MerkleError {
  return new MerkleError(MerkleErrorCode.NodeNotFound, `map node ${toHex(hash)} not found`);
}

/**
 * Runs a read algorithm against a synchronous source.
 * @throws MerkleError(NODE_NOT_FOUND) when a needed node is not stored (pruned or never written).
 * @example runMapRead(mapGet(suite, root, key), store)
 */
export function runMapRead<T>(read: MapRead<T>, source: MapNodeSource): T {
  let step = read.next(_NO_NODES);
  while (!step.done) {
    const hashes = step.value;
    const nodes = new Array<MapNode>(hashes.length);
    for (let i = 0; i < hashes.length; i++) {
      const n = source.getNode(hashes[i]!);
      if (n === undefined) throw _missing(hashes[i]!);
      nodes[i] = n;
    }
    step = read.next(nodes);
  }
  return step.value;
}

/**
 * Runs a read algorithm against an asynchronous source, one round trip per yielded batch.
 * @throws MerkleError(NODE_NOT_FOUND) when a needed node is not stored.
 * @example await runMapReadAsync(mapDiff(suite, a, b), pgStore)
 */
export async function runMapReadAsync<T>(read: MapRead<T>, source: AsyncMapNodeSource): Promise<T> {
  // With a locating source, the children's locators of every branch received are kept for this read (reads walk
  // down from the root, so each node asked for after the root is a child of one received before).
  const located = typeof source.getNodesAt === 'function';
  const ats = located ? new Map<string, number>() : undefined;
  let step = read.next(_NO_NODES);
  while (!step.done) {
    const hashes = step.value;
    const got = ats !== undefined ? await source.getNodesAt!(hashes, hashes.map((h) => ats.get(_hashKey(h, 0)))) : await source.getNodes(hashes);
    const nodes = new Array<MapNode>(hashes.length);
    for (let i = 0; i < hashes.length; i++) {
      const n = got[i];
      if (n === undefined) throw _missing(hashes[i]!);
      nodes[i] = n;
      if (ats !== undefined && n.type === 'branch') {
        if (n.leftAt !== undefined) ats.set(_hashKey(n.left, 0), n.leftAt);
        if (n.rightAt !== undefined) ats.set(_hashKey(n.right, 0), n.rightAt);
      }
    }
    step = read.next(nodes);
  }
  return step.value;
}

const _NO_NODES: readonly MapNode[] = [];
