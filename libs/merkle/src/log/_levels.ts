/**
 * Node storage of a log tree: level k holds the roots of the complete subtrees of 2^k leaves, in order,
 * packed 32 bytes apiece in one growable buffer, so a level's newly completed pairs are contiguous bytes
 * that one `digestPairs` batch can hash straight into the level above.
 *
 * This is the seam a persistent store replaces later: the tree touches nodes only through this class,
 * addressed as (level, index).
 */
export class _LevelStore {
  private readonly _bufs: Uint8Array[] = [];
  private readonly _counts: number[] = [];

  /** Number of levels that hold at least one node. */
  get height(): number {
    return this._counts.length;
  }

  /** Nodes stored at `level` (0 when the level does not exist yet). */
  count(level: number): number {
    return this._counts[level] ?? 0;
  }

  /** The packed buffer of `level`; only bytes below count(level) * 32 are meaningful. */
  buffer(level: number): Uint8Array {
    return this._bufs[level]!;
  }

  /** A view (not a copy) of node `index` at `level`; the caller checks bounds. */
  view(level: number, index: number): Uint8Array {
    return this._bufs[level]!.subarray(index * 32, index * 32 + 32);
  }

  /**
   * Grows `level` to `newCount` nodes and returns its buffer; the caller fills the new slots.
   * Capacity doubles so a run of single appends costs amortised O(1) copies.
   */
  grow(level: number, newCount: number): Uint8Array {
    while (this._counts.length <= level) {
      this._counts.push(0);
      this._bufs.push(new Uint8Array(0));
    }
    let buf = this._bufs[level]!;
    const need = newCount * 32;
    if (need > buf.length) {
      const cap = Math.max(need, buf.length * 2, 32 * 64);
      const next = new Uint8Array(cap);
      next.set(buf.subarray(0, this._counts[level]! * 32));
      this._bufs[level] = buf = next;
    }
    this._counts[level] = newCount;
    return buf;
  }

  /** Replaces every level with the given packed arrays (taken over, not copied). */
  load(levels: readonly Uint8Array[]): void {
    this._bufs.length = 0;
    this._counts.length = 0;
    for (const l of levels) {
      this._bufs.push(l);
      this._counts.push(l.length / 32);
    }
  }
}
