// Where a key's leaf is stored: the locator its parent branch names (or the root's, for a one-leaf map). A leaf's
// locator is the group that wrote it, so it also names the group whose block chunks hold the key's block as of that
// leaf (README "Block chunks").
import { equalBytes, toHex, type AsyncMapNodeSource } from '@merklesync/merkle';
import { StoreError, StoreErrorCode } from '../errors.ts';

/** A source that may tell a root's locator (PgMapNodeStore, CachedMapNodeSource over one). */
export type LocatingMapSource = AsyncMapNodeSource & { rootAt?(root: Uint8Array): Promise<number> };

/**
 * The locator of each key's leaf in the map at `root` (0 when its parent branch names none: stored before locators),
 * or undefined for a key the map does not hold. Walks every key's path together, one `getNodesAt` call per trie level
 * (cache hits after a proof of the same keys). `root` must not be the empty map's root (it has no stored node).
 * @throws StoreError(NOT_FOUND) when a node of a path is not stored; whatever the source throws.
 * @example const [at] = await leafLocators(nodes, tableRoot, [key]); const b = await blocks.getAt(source, table, key, at ?? 0)
 */
export async function leafLocators(source: LocatingMapSource, root: Uint8Array, keys: readonly Uint8Array[]): Promise<(number | undefined)[]> {
  const out = new Array<number | undefined>(keys.length);
  let frontier = keys.map((_, i) => ({ i, hash: root, at: undefined as number | undefined }));
  for (let depth = 0; frontier.length > 0; depth++) {
    if (depth > 257) throw new StoreError(StoreErrorCode.CorruptNode, 'map path deeper than 256 branches');
    const hashes = frontier.map((f) => f.hash);
    const nodes = typeof source.getNodesAt === 'function' ? await source.getNodesAt(hashes, frontier.map((f) => f.at)) : await source.getNodes(hashes);
    const next: typeof frontier = [];
    for (let j = 0; j < frontier.length; j++) {
      const f = frontier[j]!;
      const n = nodes[j];
      if (n === undefined) throw new StoreError(StoreErrorCode.NotFound, `map node ${toHex(f.hash)} is not stored`);
      const key = keys[f.i]!;
      if (n.type === 'leaf') {
        if (!equalBytes(n.key, key)) continue;
        out[f.i] = f.at ?? (typeof source.rootAt === 'function' ? await source.rootAt(f.hash) : 0);
        continue;
      }
      const right = ((key[n.bit >>> 3]! >>> (7 - (n.bit & 7))) & 1) === 1;
      next.push({ i: f.i, hash: right ? n.right : n.left, at: (right ? n.rightAt : n.leftAt) ?? 0 });
    }
    frontier = next;
  }
  return out;
}

