import type { HashSuite } from '@merklesync/merkle';

/** A stored complete-subtree node of a log: hashes leaves [index·2^level, (index+1)·2^level). */
export interface LogNodeRef {
  readonly level: number;
  readonly index: number;
}

/**
 * The stored nodes a log answer needs: `nodes` (deduplicated, what to fetch in one query) and, for each
 * output hash, the positions in `nodes` whose right fold gives it (RFC 9162 MTH of an aligned range:
 * `H(0x01 ‖ n0 ‖ H(0x01 ‖ n1 ‖ …))`, one node per set bit of the range length, largest first).
 */
export interface LogProofPlan {
  readonly nodes: readonly LogNodeRef[];
  readonly hashes: readonly (readonly number[])[];
}

/** Largest power of two ≤ x (x ≥ 1), exact for every safe integer (Math.log2 alone can round up near 2^k). */
function _floorPow2(x: number): number {
  let p = 2 ** Math.floor(Math.log2(x));
  while (p > x) p /= 2;
  while (p * 2 <= x) p *= 2;
  return p;
}

/** Largest power of two < n (n ≥ 2): RFC 9162's split point. */
const _pow2Below = (n: number): number => _floorPow2(n - 1);

/** Complete nodes covering [lo, hi): lo is aligned to the range's largest power, so the set bits of the length, largest first. */
function _cover(lo: number, hi: number): LogNodeRef[] {
  const out: LogNodeRef[] = [];
  while (lo < hi) {
    const w = _floorPow2(hi - lo);
    out.push({ level: Math.round(Math.log2(w)), index: lo / w });
    lo += w;
  }
  return out;
}

class _Builder {
  readonly nodes: LogNodeRef[] = [];
  readonly hashes: number[][] = [];
  private readonly _pos = new Map<string, number>();
  range(lo: number, hi: number): number[] {
    return _cover(lo, hi).map((r) => {
      const k = `${r.level}/${r.index}`;
      let p = this._pos.get(k);
      if (p === undefined) {
        p = this.nodes.push(r) - 1;
        this._pos.set(k, p);
      }
      return p;
    });
  }
}

function _assertSizes(a: number, b: number, what: string): void {
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || a < 0 || b < 0) throw new TypeError(`${what} must be non-negative safe integers`);
}

/**
 * Nodes for the RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves (path leaf side first).
 * @throws TypeError for non-integers; RangeError unless index < size.
 * @example logInclusionPlan(5, 8).nodes // [{level:0,index:4},{level:1,index:3},{level:2,index:0}]
 */
export function logInclusionPlan(index: number, size: number): LogProofPlan {
  _assertSizes(index, size, 'index and size');
  if (index >= size) throw new RangeError(`index must be below size ${size}, got ${index}`);
  const b = new _Builder();
  const path: number[][] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = _pow2Below(hi - lo);
    if (index < lo + k) {
      path.push(b.range(lo + k, hi));
      hi = lo + k;
    } else {
      path.push(b.range(lo, lo + k));
      lo += k;
    }
  }
  return { nodes: b.nodes, hashes: path.reverse() };
}

/**
 * Nodes for the RFC 9162 consistency proof from `size1` to `size2` (0 < size1 ≤ size2).
 * @throws TypeError for non-integers; RangeError unless 0 < size1 ≤ size2.
 * @example logConsistencyPlan(6, 8)
 */
export function logConsistencyPlan(size1: number, size2: number): LogProofPlan {
  _assertSizes(size1, size2, 'sizes');
  if (size1 === 0 || size1 > size2) throw new RangeError(`need 0 < size1 <= size2, got ${size1}, ${size2}`);
  const b = new _Builder();
  const path: number[][] = [];
  let m = size1;
  let lo = 0;
  let hi = size2;
  let whole = true;
  if (size1 === size2) return { nodes: [], hashes: [] };
  for (;;) {
    if (m === hi - lo) {
      if (!whole) path.push(b.range(lo, hi));
      break;
    }
    const k = _pow2Below(hi - lo);
    if (m <= k) {
      path.push(b.range(lo + k, hi));
      hi = lo + k;
    } else {
      path.push(b.range(lo, lo + k));
      m -= k;
      lo += k;
      whole = false;
    }
  }
  return { nodes: b.nodes, hashes: path.reverse() };
}

/**
 * Nodes for the root of the tree of `size` leaves (size > 0; the empty root is H("")).
 * @throws TypeError for non-integers; RangeError for size 0.
 * @example logRootPlan(6).nodes // [{level:2,index:0},{level:1,index:2}]
 */
export function logRootPlan(size: number): LogProofPlan {
  _assertSizes(size, size, 'size');
  if (size === 0) throw new RangeError('size must be positive');
  const b = new _Builder();
  return { nodes: b.nodes, hashes: [b.range(0, size)] };
}

/**
 * Computes a plan's hashes from the fetched nodes (`fetched[i]` is `plan.nodes[i]`'s hash).
 * @throws RangeError when `fetched` does not match the plan.
 * @example resolveLogPlan(suite, plan, fetched)
 */
export function resolveLogPlan(suite: HashSuite, plan: LogProofPlan, fetched: readonly Uint8Array[], nodeTag: Uint8Array = _LOG_NODE): Uint8Array[] {
  if (fetched.length !== plan.nodes.length) throw new RangeError(`expected ${plan.nodes.length} fetched nodes, got ${fetched.length}`);
  return plan.hashes.map((idx) => {
    let acc = fetched[idx[idx.length - 1]!]!;
    for (let i = idx.length - 2; i >= 0; i--) acc = suite.digestPair(nodeTag, fetched[idx[i]!]!, acc);
    return acc.slice();
  });
}

const _LOG_NODE = Uint8Array.of(0x01);

/**
 * The (level, index) nodes completed when a log grows from `from` to `to` leaves: at level k, indices
 * floor(from/2^k) … floor(to/2^k) − 1. About 2·(to − from) nodes.
 * @throws TypeError for non-integers; RangeError when `to < from`.
 * @example logNodesCompleted(3, 4) // (0,3), (1,1), (2,0)
 */
export function logNodesCompleted(from: number, to: number): LogNodeRef[] {
  _assertSizes(from, to, 'sizes');
  if (to < from) throw new RangeError(`to (${to}) must not be below from (${from})`);
  const out: LogNodeRef[] = [];
  for (let level = 0, w = 1; w <= to; level++, w *= 2) {
    for (let i = Math.floor(from / w); i < Math.floor(to / w); i++) out.push({ level, index: i });
  }
  return out;
}
