import { assertBytes, equalBytes } from '../bytes.ts';
import type { HashSuite } from '../hash/suite.ts';
import type { MapNode } from './node.ts';
import { _emptyRoot, _firstDiff } from './node.ts';
import type { MapRead } from './source.ts';
import { _NodeCache, _NONE, type _Tree } from './tree.ts';
import type { MapChange } from './types.ts';

/**
 * The keys whose values differ between the maps with roots `a` and `b`, in ascending key order
 * (`before` = value under `a`, `after` = value under `b`, null where absent). Only subtrees whose hashes
 * differ are entered, so the cost is O(d log n) for d changes; subtrees that split at different bits are
 * aligned through their min keys (the stored prefix), never by walking them.
 * @throws TypeError/RangeError when a root is not 32 bytes; the driver throws NODE_NOT_FOUND for an unknown root.
 * @example runMapRead(mapDiff(suite, oldRoot, newRoot), store)
 */
export function mapDiff(suite: HashSuite, a: Uint8Array, b: Uint8Array): MapRead<MapChange[]> {
  assertBytes('a', a, 32);
  assertBytes('b', b, 32);
  const t = new _NodeCache();
  const empty = _emptyRoot(suite);
  const ra = equalBytes(a, empty) ? _NONE : t.add(a);
  const rb = equalBytes(b, empty) ? _NONE : t.add(b);
  return _diff(t, ra, ra, rb, rb);
}

const _REC = 0;
const _ALL = 1;

/** Loads up to two refs in one round trip. */
function* _load2(t: _Tree, x: number, y: number): Generator<readonly Uint8Array[], void, readonly MapNode[]> {
  const hx = t.need(x);
  const hy = y === x ? null : t.need(y);
  if (hx === null && hy === null) return;
  const got = yield hx !== null && hy !== null ? [hx, hy] : [(hx ?? hy)!];
  if (hx !== null) t.load(x, got[0]!);
  if (hy !== null) t.load(y, got[hx !== null ? 1 : 0]!);
}

/**
 * The walk of {@link mapDiff} over any tree: roots `a`/`b` (`_NONE` = empty) with hash handles `la`/`lb`.
 * An explicit task stack keeps the whole walk in one generator frame.
 */
export function* _diff(t: _Tree, a: number, la: number, b: number, lb: number): MapRead<MapChange[]> {
  const out: MapChange[] = [];
  // Tasks of 5 numbers: REC(a, la, b, lb) aligns two subtrees; ALL(r, side, 0, 0) emits every leaf of r
  // as removed (side 0) or added (side 1). Pushed in reverse so that output comes in key order.
  const st: number[] = [];
  if (a === _NONE && b === _NONE) return out;
  if (a === _NONE) st.push(_ALL, b, 1, 0, 0);
  else if (b === _NONE) st.push(_ALL, a, 0, 0, 0);
  else st.push(_REC, a, la, b, lb);
  while (st.length > 0) {
    const y2 = st.pop()!;
    const y1 = st.pop()!;
    const x2 = st.pop()!;
    const x1 = st.pop()!;
    const kind = st.pop()!;
    if (kind === _ALL) {
      const r = x1;
      yield* _load2(t, r, r);
      if (t.isLeaf(r)) {
        const v = t.valueCopy(r);
        out.push({ key: t.keyCopy(r), before: x2 === 0 ? v : null, after: x2 === 0 ? null : v });
        continue;
      }
      const c0 = t.child(r, 0);
      const c1 = t.child(r, 1);
      yield* _load2(t, c0, c1);
      st.push(_ALL, c1, x2, 0, 0, _ALL, c0, x2, 0, 0);
      continue;
    }
    const na = x1;
    const nb = y1;
    if (na === nb || _hashEq(t, x2, y2)) continue;
    yield* _load2(t, na, nb);
    const ba = t.bit(na);
    const bb = t.bit(nb);
    const ka = t.kbuf(na);
    const kao = t.koff(na);
    const kb = t.kbuf(nb);
    const kbo = t.koff(nb);
    const c = _firstDiff(ka, kao, kb, kbo);
    if (c < ba && c < bb) {
      // Disjoint key ranges: everything on one side is removed, everything on the other added.
      if (_bit(ka, kao, c) === 0) st.push(_ALL, nb, 1, 0, 0, _ALL, na, 0, 0, 0);
      else st.push(_ALL, na, 0, 0, 0, _ALL, nb, 1, 0, 0);
      continue;
    }
    if (ba === bb) {
      if (ba === 256) {
        out.push({ key: t.keyCopy(na), before: t.valueCopy(na), after: t.valueCopy(nb) });
      } else {
        st.push(_REC, t.child(na, 1), t.childLoc(na, 1), t.child(nb, 1), t.childLoc(nb, 1));
        st.push(_REC, t.child(na, 0), t.childLoc(na, 0), t.child(nb, 0), t.childLoc(nb, 0));
      }
      continue;
    }
    if (ba < bb) {
      // b's whole subtree lies on one side of a's split.
      if (_bit(kb, kbo, ba) === 0) st.push(_ALL, t.child(na, 1), 0, 0, 0, _REC, t.child(na, 0), t.childLoc(na, 0), nb, y2);
      else st.push(_REC, t.child(na, 1), t.childLoc(na, 1), nb, y2, _ALL, t.child(na, 0), 0, 0, 0);
      continue;
    }
    if (_bit(ka, kao, bb) === 0) st.push(_ALL, t.child(nb, 1), 1, 0, 0, _REC, na, x2, t.child(nb, 0), t.childLoc(nb, 0));
    else st.push(_REC, na, x2, t.child(nb, 1), t.childLoc(nb, 1), _ALL, t.child(nb, 0), 1, 0, 0);
  }
  return out;
}

function _bit(buf: Uint8Array, off: number, b: number): number {
  return (buf[off + (b >>> 3)]! >>> (7 - (b & 7))) & 1;
}

function _hashEq(t: _Tree, x: number, y: number): boolean {
  const a = t.hbuf(x);
  const ao = t.hoff(x);
  const b = t.hbuf(y);
  const bo = t.hoff(y);
  for (let i = 0; i < 32; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}
