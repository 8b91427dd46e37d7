import type { MapNode } from './node.ts';

/** Reference meaning "no node" (the empty map, or a subtree emptied by deletes). */
export const _NONE = 0x7fffffff;

/**
 * How the read algorithms see a trie, so each algorithm exists once for every kind of store.
 * Nodes are named by integer refs; a node's hash is named separately by a "hash handle" (`loc`),
 * because the in-memory store keeps each child's hash in its parent's record (one record read per
 * proof step) rather than with the child.
 *
 * A ref may be unloaded: `need(r)` then returns its hash, the algorithm yields it to its driver and
 * hands the fetched node to `load`. The in-memory store never needs anything, so on it an algorithm
 * runs to completion inside the generator's first `next()` (no per-node yields, objects or lookups).
 */
export interface _Tree {
  /** Hash to fetch before `r` can be read, or null when `r` is readable. */
  need(r: number): Uint8Array | null;
  /** Supplies the fetched node for a ref `need` named. */
  load(r: number, node: MapNode): void;
  isLeaf(r: number): boolean;
  /** Split bit of a branch. */
  bit(r: number): number;
  child(r: number, side: number): number;
  /** Hash handle of a branch's child. */
  childLoc(r: number, side: number): number;
  /** Buffer and offset holding the 32-byte hash named by `loc`. */
  hbuf(loc: number): Uint8Array;
  hoff(loc: number): number;
  /** Buffer and offset of a leaf's key, or of a branch's smallest key (which carries its prefix). */
  kbuf(r: number): Uint8Array;
  koff(r: number): number;
  /** Fresh copies of a leaf's key and value, and of a hash. */
  keyCopy(r: number): Uint8Array;
  valueCopy(r: number): Uint8Array;
  hashCopy(loc: number): Uint8Array;
}

/**
 * A tree over hash-addressed nodes fetched from a {@link MapNodeSource}-style driver: refs are indices
 * into local arrays, loaded as the algorithm asks for them, and a ref doubles as its hash handle.
 */
export class _NodeCache implements _Tree {
  private readonly _hashes: Uint8Array[] = [];
  private readonly _nodes: (MapNode | undefined)[] = [];
  private readonly _kids: number[] = [];

  /** A new unloaded ref for `hash`. */
  add(hash: Uint8Array): number {
    this._hashes.push(hash);
    this._nodes.push(undefined);
    this._kids.push(-1, -1);
    return this._hashes.length - 1;
  }

  need(r: number): Uint8Array | null {
    return this._nodes[r] === undefined ? this._hashes[r]! : null;
  }

  load(r: number, node: MapNode): void {
    this._nodes[r] = node;
  }

  isLeaf(r: number): boolean {
    return this._nodes[r]!.type === 'leaf';
  }

  bit(r: number): number {
    const n = this._nodes[r]!;
    return n.type === 'leaf' ? 256 : n.bit;
  }

  child(r: number, side: number): number {
    let c = this._kids[2 * r + side]!;
    if (c < 0) {
      const n = this._nodes[r]!;
      if (n.type !== 'branch') throw new TypeError('child of a leaf');
      c = this.add(side === 0 ? n.left : n.right);
      this._kids[2 * r + side] = c;
    }
    return c;
  }

  childLoc(r: number, side: number): number {
    return this.child(r, side);
  }

  hbuf(loc: number): Uint8Array {
    return this._hashes[loc]!;
  }

  hoff(): number {
    return 0;
  }

  kbuf(r: number): Uint8Array {
    const n = this._nodes[r]!;
    return n.type === 'leaf' ? n.key : n.minKey;
  }

  koff(): number {
    return 0;
  }

  keyCopy(r: number): Uint8Array {
    return this.kbuf(r).slice();
  }

  valueCopy(r: number): Uint8Array {
    const n = this._nodes[r]!;
    return n.type === 'leaf' ? n.value.slice() : new Uint8Array(0);
  }

  hashCopy(loc: number): Uint8Array {
    return this._hashes[loc]!.slice();
  }
}

/** Runs a read algorithm that never yields on this tree (the in-memory store) and returns its result. */
export function _runLocal<T>(gen: Generator<readonly Uint8Array[], T, readonly MapNode[]>): T {
  const step = gen.next([]);
  if (!step.done) throw new Error('in-memory map read asked for a node');
  return step.value;
}
