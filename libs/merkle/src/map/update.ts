import type { HashSuite } from '../hash/suite.ts';
import { TagBytes } from '../tags.ts';
import { _CH_MASK, _CH_SHIFT, _LF_BYTES, type MemoryMapStore } from './memory-store.ts';
import { _BRANCH_PREFIX, _emptyRoot, _firstDiff } from './node.ts';
import { _NONE } from './tree.ts';

/** Reusable scratch buffers (updates are synchronous, so one set per module suffices). */
const _s = {
  pairs: new Int32Array(16 * 1024),
  out: new Int32Array(8 * 1024),
  /** Where each new node's hash goes: the hash handle of its slot in its parent, or -1 for the new root. */
  bdest: new Float64Array(1024),
  ldest: new Float64Array(1024),
  order: new Int32Array(1024),
};

function _fit<T extends Float64Array | Int32Array>(a: T, n: number, make: (n: number) => T): T {
  if (a.length >= n) return a;
  let m = a.length;
  while (m < n) m *= 2;
  const b = make(m);
  b.set(a);
  return b;
}

/**
 * Applies a sorted, duplicate-free batch to the trie at `rootRef` (hash handle `rootLoc`; `_NONE` = empty)
 * and returns the new root's ref and hash. `keys` packs the batch keys (32 bytes each, ascending);
 * `vals[i]` is the new value or null for a delete.
 *
 * One recursion over the trie splits the sorted batch by bit, so each touched path is rebuilt once;
 * untouched subtrees are shared by ref and their hashes copied from the old parent record. New nodes are
 * hashed afterwards: leaves in one batch, then branches batched by bit index from 255 down to 0 (a node's
 * descendants all have larger bit indices), one digestPairs call per bit, each hash written straight
 * into its parent's record.
 */
export function _applyBatch(
  s: MemoryMapStore,
  suite: HashSuite,
  rootRef: number,
  rootLoc: number,
  keys: Uint8Array,
  vals: readonly (Uint8Array | null)[],
): { ref: number; hash: Uint8Array } {
  const firstB = s._bcount;
  const firstL = s._lcount;
  // Hash handle of the old node returned by the last upd/build call (unused when the node is new).
  let retLoc = 0;

  const splitAt = (lo: number, hi: number, b: number): number => {
    // All keys in [lo,hi) share bits 0..b-1, so sorted order is also ordered by bit b.
    const byte = b >>> 3;
    const mask = 0x80 >>> (b & 7);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((keys[32 * mid + byte]! & mask) !== 0) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };

  const isNew = (r: number): boolean => (r >= 0 ? r >= firstB : ~r >= firstL);

  const branch = (bit: number, l: number, lLoc: number, r: number, rLoc: number): number => {
    const id = s._newBranch(bit, l, r);
    if (isNew(l)) _setDest(l, firstB, firstL, 2 * id);
    else _copyHash(s, lLoc, 2 * id);
    if (isNew(r)) _setDest(r, firstB, firstL, 2 * id + 1);
    else _copyHash(s, rLoc, 2 * id + 1);
    return id;
  };

  const build = (lo: number, hi: number): number => {
    while (lo < hi && vals[lo] === null) lo++;
    while (lo < hi && vals[hi - 1] === null) hi--;
    if (lo >= hi) return _NONE;
    if (hi - lo === 1) {
      const v = vals[lo]!;
      return s._newLeaf(keys, 32 * lo, v, 0, v.length);
    }
    // The first differing bit of a sorted set is the one between its smallest and largest key.
    const c = _firstDiff(keys, 32 * lo, keys, 32 * (hi - 1));
    const mid = splitAt(lo, hi, c);
    const l = build(lo, mid);
    const r = build(mid, hi);
    return branch(c, l, 0, r, 0);
  };

  // `known`: bits below it are already known to agree between the batch keys and the node's prefix.
  const upd = (node: number, loc: number, known: number, lo: number, hi: number): number => {
    if (lo >= hi || node === _NONE) {
      retLoc = loc;
      return lo >= hi ? node : build(lo, hi);
    }
    const isLeaf = node < 0;
    const b32 = isLeaf ? null : s._bc32[node >>> _CH_SHIFT]!;
    const w = 20 * (node & _CH_MASK);
    const nb = b32 === null ? 256 : b32[w + 19]!;
    let c = 256;
    if (nb > known) {
      const kl = b32 === null ? ~node : b32[w + 18]!;
      const l8 = s._lc8[kl >>> _CH_SHIFT]!;
      const nk = _LF_BYTES * (kl & _CH_MASK);
      c = _firstDiff(keys, 32 * lo, l8, nk);
      if (hi - lo > 1) {
        const c2 = _firstDiff(keys, 32 * (hi - 1), l8, nk);
        if (c2 < c) c = c2;
      }
    }
    if (c >= nb) {
      if (b32 === null) {
        // Same key as the leaf (the batch has no duplicates, so exactly one op).
        const v = vals[lo]!;
        if (v === null) return _NONE;
        const id = ~node;
        const l32 = s._lc32[id >>> _CH_SHIFT]!;
        const lw = 12 * (id & _CH_MASK);
        const len = l32[lw + 10]!;
        if (len === v.length) {
          const off = l32[lw + 9]!;
          const sv = s._vc[l32[lw + 8]!]!;
          let same = true;
          for (let i = 0; i < len; i++) {
            if (sv[off + i] !== v[i]) {
              same = false;
              break;
            }
          }
          if (same) {
            retLoc = loc;
            return node;
          }
        }
        return s._newLeaf(keys, 32 * lo, v, 0, v.length);
      }
      const mid = splitAt(lo, hi, nb);
      const l0 = b32[w + 16]!;
      const r0 = b32[w + 17]!;
      const l = upd(l0, 2 * node, nb + 1, lo, mid);
      const lLoc = retLoc;
      const r = upd(r0, 2 * node + 1, nb + 1, mid, hi);
      const rLoc = retLoc;
      if (l === l0 && r === r0) {
        retLoc = loc;
        return node;
      }
      if (l === _NONE) {
        retLoc = rLoc;
        return r;
      }
      if (r === _NONE) {
        retLoc = lLoc;
        return l;
      }
      return branch(nb, l, lLoc, r, rLoc);
    }
    // Some batch keys leave this subtree's prefix at bit c < nb: a new split at c may form above it.
    const mid = splitAt(lo, hi, c);
    const kl = s._keyLeaf(node);
    const nodeRight = (s._lc8[kl >>> _CH_SHIFT]![_LF_BYTES * (kl & _CH_MASK) + (c >>> 3)]! >>> (7 - (c & 7))) & 1;
    if (nodeRight === 0) {
      const a = upd(node, loc, c + 1, lo, mid);
      const aLoc = retLoc;
      const o = build(mid, hi);
      if (o === _NONE) {
        retLoc = aLoc;
        return a;
      }
      if (a === _NONE) return o;
      return branch(c, a, aLoc, o, 0);
    }
    const o = build(lo, mid);
    const a = upd(node, loc, c + 1, mid, hi);
    const aLoc = retLoc;
    if (o === _NONE) {
      retLoc = aLoc;
      return a;
    }
    if (a === _NONE) return o;
    return branch(c, o, 0, a, aLoc);
  };

  const root = upd(rootRef, rootLoc, 0, 0, vals.length);
  if (root === _NONE) return { ref: _NONE, hash: _emptyRoot(suite).slice() };
  if (!isNew(root)) {
    const h = new Uint8Array(32);
    h.set(s.hbuf(retLoc).subarray(s.hoff(retLoc), s.hoff(retLoc) + 32));
    return { ref: root, hash: h };
  }
  _setDest(root, firstB, firstL, -1);
  const hash = new Uint8Array(32);
  _hashNew(s, suite, firstB, firstL, hash);
  return { ref: root, hash };
}

function _setDest(r: number, firstB: number, firstL: number, dest: number): void {
  if (r >= 0) {
    const i = r - firstB;
    if (i >= _s.bdest.length) _s.bdest = _fit(_s.bdest, i + 1, (n) => new Float64Array(n));
    _s.bdest[i] = dest;
  } else {
    const i = ~r - firstL;
    if (i >= _s.ldest.length) _s.ldest = _fit(_s.ldest, i + 1, (n) => new Float64Array(n));
    _s.ldest[i] = dest;
  }
}

function _copyHash(s: MemoryMapStore, loc: number, dst: number): void {
  const src = s._hbuf32(loc);
  const so = s._hoff32(loc);
  const d = s._hbuf32(dst);
  const o = s._hoff32(dst);
  for (let i = 0; i < 8; i++) d[o + i] = src[so + i]!;
}

/** Writes 32-byte hashes out[32i..] to their destinations (`dest[i]`: arena offset, or -1 for `root`). */
function _scatter(s: MemoryMapStore, out: Int32Array, dest: Float64Array, from: number, n: number, root: Int32Array, ids: Int32Array, base: number): void {
  for (let i = 0; i < n; i++) {
    const d = dest[ids[from + i]! - base]!;
    const t = d < 0 ? root : s._hbuf32(d);
    const to = d < 0 ? 0 : s._hoff32(d);
    const o = 8 * i;
    for (let j = 0; j < 8; j++) t[to + j] = out[o + j]!;
  }
}

/** Hashes every node created by this batch (branches from firstB, leaves from firstL). */
function _hashNew(s: MemoryMapStore, suite: HashSuite, firstB: number, firstL: number, root8: Uint8Array): void {
  const root = new Int32Array(root8.buffer, root8.byteOffset, 8);
  const nl = s._lcount - firstL;
  if (nl > 0) {
    // 32-byte values make the leaf message key||value exactly one digestPairs pair.
    if (_s.pairs.length < 16 * nl) _s.pairs = new Int32Array(16 * nl);
    if (_s.out.length < 8 * nl) _s.out = new Int32Array(8 * nl);
    const pairs = _s.pairs;
    const pairs8 = new Uint8Array(pairs.buffer);
    const out = _s.out;
    const odd: number[] = [];
    let n = 0;
    const idx = _fit(_s.order, nl, (m) => new Int32Array(m));
    _s.order = idx;
    for (let i = 0; i < nl; i++) {
      const id = firstL + i;
      const l32 = s._lc32[id >>> _CH_SHIFT]!;
      const w = 12 * (id & _CH_MASK);
      if (l32[w + 10] !== 32) {
        odd.push(i);
        continue;
      }
      const vs = s._vc[l32[w + 8]!]!;
      const vo = l32[w + 9]!;
      const p = 16 * n;
      for (let j = 0; j < 8; j++) pairs[p + j] = l32[w + j]!;
      for (let j = 0; j < 32; j++) pairs8[4 * p + 32 + j] = vs[vo + j]!;
      idx[n++] = i;
    }
    if (n > 0) {
      suite.digestPairs(TagBytes.MapLeaf, pairs8, n, new Uint8Array(out.buffer), 0);
      _scatter(s, out, _s.ldest, 0, n, root, idx, 0);
    }
    if (odd.length > 0) {
      const msgs = odd.map((i) => {
        const id = firstL + i;
        const n = s._node(~id);
        if (n.type !== 'leaf') throw new Error('not a leaf');
        const m = new Uint8Array(32 + n.value.length);
        m.set(n.key, 0);
        m.set(n.value, 32);
        return m;
      });
      const o2 = new Int32Array(8 * odd.length);
      suite.digestPrefixedMany(TagBytes.MapLeaf, msgs, new Uint8Array(o2.buffer));
      _scatter(s, o2, _s.ldest, 0, odd.length, root, Int32Array.from(odd), 0);
    }
  }
  const end = s._bcount;
  const nBr = end - firstB;
  if (nBr === 0) return;
  // Counting sort of the new branches by bit.
  const count = new Int32Array(257);
  for (let id = firstB; id < end; id++) count[s.bit(id) + 1]!++;
  for (let b = 1; b <= 256; b++) count[b]! += count[b - 1]!;
  const order = (_s.order = _fit(_s.order, nBr, (m) => new Int32Array(m)));
  const fill = count.slice(0, 256);
  for (let id = firstB; id < end; id++) order[fill[s.bit(id)]!++] = id;
  let maxBatch = 0;
  for (let b = 0; b < 256; b++) maxBatch = Math.max(maxBatch, count[b + 1]! - count[b]!);
  if (_s.pairs.length < 16 * maxBatch) _s.pairs = new Int32Array(16 * maxBatch);
  if (_s.out.length < 8 * maxBatch) _s.out = new Int32Array(8 * maxBatch);
  const pairs = _s.pairs;
  const out = _s.out;
  const pairs8 = new Uint8Array(pairs.buffer);
  const out8 = new Uint8Array(out.buffer);
  for (let b = 255; b >= 0; b--) {
    const from = count[b]!;
    const n = count[b + 1]! - from;
    if (n === 0) continue;
    for (let i = 0; i < n; i++) {
      const id = order[from + i]!;
      const b32 = s._bc32[id >>> _CH_SHIFT]!;
      const o = 20 * (id & _CH_MASK);
      const p = 16 * i;
      for (let j = 0; j < 16; j++) pairs[p + j] = b32[o + j]!;
    }
    suite.digestPairs(_BRANCH_PREFIX[b]!, pairs8, n, out8, 0);
    _scatter(s, out, _s.bdest, from, n, root, order, firstB);
  }
}
