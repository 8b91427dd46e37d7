// Log tiles (README "Log tiles"): the stored form of a log's complete-subtree nodes. Tile level T holds the
// nodes of tree level 8T, 256 to a tile; a node of a level in between is recomputed from the tile below it.
import type { HashSuite } from '@merklesync/merkle';
import type { LogNodeRef } from './proof-plan.ts';

/** Tree levels per tile level. */
export const TILE_HEIGHT = 8;
/** Node hashes per full tile (2^TILE_HEIGHT). */
export const TILE_WIDTH = 256;

/** One stored tile: `width` node hashes of tree level `8·level`, from index `256·index` on. */
export interface TileRef {
  readonly level: number;
  readonly index: number;
}

/** Where a node's hash comes from: `count` consecutive hashes of a tile, from `offset`, folded `fold` times. */
export interface TileSpan {
  readonly tile: TileRef;
  readonly offset: number;
  readonly count: number;
  readonly fold: number;
}

/** Tile key as a map key. */
export const tileKey = (t: TileRef): string => `${t.level}/${t.index}`;

/**
 * The tile span a complete-subtree node is computed from: node (L, i) with L = 8T + s covers the 2^s nodes
 * [i·2^s, (i+1)·2^s) of level 8T, which lie in one tile because 2^s divides 256.
 * @throws RangeError for a negative or non-integer level or index.
 * @example tileSpanOf({ level: 9, index: 3 }) // tile (1, 0), offset 6, count 2, fold 1
 */
export function tileSpanOf(node: LogNodeRef): TileSpan {
  if (!Number.isSafeInteger(node.level) || node.level < 0 || !Number.isSafeInteger(node.index) || node.index < 0) {
    throw new RangeError(`log node (${node.level}, ${node.index}) must have non-negative integer level and index`);
  }
  const level = Math.floor(node.level / TILE_HEIGHT);
  const fold = node.level % TILE_HEIGHT;
  const count = 2 ** fold;
  const first = node.index * count;
  return { tile: { level, index: Math.floor(first / TILE_WIDTH) }, offset: first % TILE_WIDTH, count, fold };
}

/**
 * The tiles whose width changes when a log grows from `from` to `to` leaves, with their new widths:
 * at tile level T, the nodes of level 8T with indices floor(from/2^8T) … floor(to/2^8T) − 1 are new.
 * @throws RangeError unless 0 ≤ from ≤ to (safe integers).
 * @example tilesGrown(250, 260) // [{ level: 0, index: 0, width: 256 }, { level: 0, index: 1, width: 4 }, { level: 1, index: 0, width: 1 }]
 */
export function tilesGrown(from: number, to: number): (TileRef & { readonly width: number })[] {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from) throw new RangeError(`need 0 <= from <= to, got ${from}, ${to}`);
  const out: (TileRef & { width: number })[] = [];
  for (let level = 0, span = 1; span <= to; level++, span *= TILE_WIDTH) {
    const a = Math.floor(from / span);
    const b = Math.floor(to / span);
    if (b === a) continue;
    for (let t = Math.floor(a / TILE_WIDTH); t * TILE_WIDTH < b; t++) out.push({ level, index: t, width: Math.min(TILE_WIDTH, b - t * TILE_WIDTH) });
  }
  return out;
}

/**
 * Folds `count` (a power of two) packed node hashes of one level into the root of their subtree, `fold` times
 * pairing with RFC 9162's interior hash `H(0x01 ‖ left ‖ right)`; always a fresh array.
 * @example foldSpan(suite, tileHashes.subarray(0, 64), 1) // node one level up
 */
export function foldSpan(suite: HashSuite, packed: Uint8Array, fold: number, nodeTag: Uint8Array = _LOG_NODE): Uint8Array {
  if (fold === 0) return packed.slice();
  let cur = packed;
  for (let f = 0; f < fold; f++) {
    const n = cur.length / 64;
    const next = new Uint8Array(n * 32);
    suite.digestPairs(nodeTag, cur, n, next, 0);
    cur = next;
  }
  return cur;
}

const _LOG_NODE = Uint8Array.of(0x01);
