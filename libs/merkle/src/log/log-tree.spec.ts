import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { equalBytes, toHex } from '../bytes.ts';
import { getHashSuite, getPortableHashSuite } from '../hash/index.ts';
import { LogTree } from './log-tree.ts';
import { LOG_TREE_TAGS, merkleTreeHash } from './tree-hash.ts';
import { rootFromInclusionProof, verifyConsistency, verifyInclusion } from './verify.ts';

const suites = [getHashSuite('sha256'), getHashSuite('blake3')];

function leafData(n: number, salt = 0): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => Uint8Array.of(i & 255, (i >> 8) & 255, salt, i % 7));
}

function build(suite = suites[0]!, n: number, salt = 0): LogTree {
  const t = new LogTree(suite);
  t.appendMany(leafData(n, salt));
  return t;
}

function flip(b: Uint8Array, bit: number): Uint8Array {
  const c = b.slice();
  c[(bit >> 3) % c.length]! ^= 1 << (bit & 7);
  return c;
}

/** Sibling sides of leaf `i` in the RFC 9162 tree of `n` leaves, bottom-up, from the recursive definition. */
function shape(i: number, n: number): string {
  let s = '';
  let lo = 0;
  let hi = n;
  while (hi - lo > 1) {
    let k = 1;
    while (k * 2 < hi - lo) k *= 2;
    if (i < lo + k) {
      s = 'R' + s;
      hi = lo + k;
    } else {
      s = 'L' + s;
      lo += k;
    }
  }
  return s;
}

/** The hash-independent operations RFC 9162 §2.1.4.2 performs for (m, n) with `len` proof elements. */
function consistencyOps(m: number, n: number, len: number): string | null {
  if (m === 0 || m > n) return null;
  if (m === n) return len === 0 ? '=' : null;
  let pow2 = m;
  while (pow2 % 2 === 0) pow2 /= 2;
  const total = len + (pow2 === 1 ? 1 : 0);
  if (total === 0) return null;
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) [fn, sn] = [Math.floor(fn / 2), Math.floor(sn / 2)];
  let ops = pow2 === 1 ? 'P' : '';
  for (let i = 1; i < total; i++) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      ops += 'B';
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) [fn, sn] = [Math.floor(fn / 2), Math.floor(sn / 2)];
    } else ops += 'S';
    [fn, sn] = [Math.floor(fn / 2), Math.floor(sn / 2)];
  }
  return sn === 0 ? ops : null;
}

describe('LogTree basics', () => {
  it('empty tree root is H("") and sizes/levels track appends', () => {
    for (const s of suites) {
      const t = new LogTree(s);
      expect(toHex(t.root())).toBe(toHex(s.digest(new Uint8Array())));
      expect(t.size).toBe(0);
      expect(t.height).toBe(0);
      t.appendMany(leafData(13));
      expect(t.size).toBe(13);
      expect([0, 1, 2, 3, 4].map((k) => t.levelSize(k))).toEqual([13, 6, 3, 1, 0]);
      expect(t.height).toBe(4);
      expect(toHex(t.node(1, 0))).toBe(toHex(s.digestPair(LOG_TREE_TAGS.node, t.leafHash(0), t.leafHash(1))));
      expect(toHex(t.leafHash(5))).toBe(toHex(s.digestPrefixed(Uint8Array.of(0), leafData(13)[5]!)));
    }
  });

  it('append, appendLeafHash and appendLeafHashes (packed and listed) agree', () => {
    const s = suites[0]!;
    const data = leafData(37);
    const a = new LogTree(s);
    for (const d of data) a.append(d);
    const hashes = data.map((d) => s.digestPrefixed(Uint8Array.of(0), d));
    const b = new LogTree(s);
    for (const h of hashes.slice(0, 5)) b.appendLeafHash(h);
    b.appendLeafHashes(hashes.slice(5, 20));
    const packed = new Uint8Array(17 * 32);
    hashes.slice(20).forEach((h, i) => packed.set(h, i * 32));
    expect(b.appendLeafHashes(packed)).toBe(20);
    expect(toHex(a.root())).toBe(toHex(b.root()));
    expect(toHex(a.root())).toBe(toHex(merkleTreeHash(s, LOG_TREE_TAGS, new Uint8Array(hashes.flatMap((h) => [...h])), 37)));
  });

  it('boundary checks throw TypeError/RangeError', () => {
    const t = build(suites[0], 5);
    expect(() => t.root(6)).toThrow(RangeError);
    expect(() => t.leafHash(5)).toThrow(RangeError);
    expect(() => t.inclusionProof(5, 5)).toThrow(RangeError);
    expect(() => t.inclusionProof(0, 6)).toThrow(RangeError);
    expect(() => t.consistencyProof(0, 5)).toThrow(RangeError);
    expect(() => t.consistencyProof(4, 3)).toThrow(RangeError);
    expect(() => t.consistencyProof(1, 6)).toThrow(RangeError);
    expect(() => t.node(3, 0)).toThrow(RangeError);
    expect(() => t.append('x' as never)).toThrow(TypeError);
    expect(() => t.appendLeafHash(new Uint8Array(31))).toThrow(RangeError);
    expect(() => t.appendLeafHashes(new Uint8Array(33))).toThrow(RangeError);
    expect(() => t.root(1.5)).toThrow(TypeError);
    expect(() => new LogTree({} as never)).toThrow(TypeError);
  });

  it('exportLevels / fromLevels round-trips and rejects inconsistent levels', () => {
    const s = suites[1]!;
    const t = build(s, 29);
    const levels = t.exportLevels();
    const u = LogTree.fromLevels(s, levels, { verify: true });
    expect(toHex(u.root())).toBe(toHex(t.root()));
    u.appendMany(leafData(10, 9));
    t.appendMany(leafData(10, 9));
    expect(toHex(u.root())).toBe(toHex(t.root()));
    expect(toHex(LogTree.fromLevels(s, []).root())).toBe(toHex(s.digest(new Uint8Array())));
    expect(() => LogTree.fromLevels(s, levels.slice(0, -1))).toThrow(RangeError);
    expect(() => LogTree.fromLevels(s, [levels[0]!, levels[1]!.subarray(32), ...levels.slice(2)])).toThrow(RangeError);
    const tampered = levels.map((l) => l.slice());
    tampered[2]![0]! ^= 1;
    expect(() => LogTree.fromLevels(s, tampered, { verify: true })).toThrow(RangeError);
  });

  it('agrees with the portable (WebAssembly) suite', () => {
    const a = build(getHashSuite('sha256'), 100);
    const b = build(getPortableHashSuite('sha256'), 100);
    expect(toHex(a.root())).toBe(toHex(b.root()));
  });
});

describe('exhaustive proofs on a 70-leaf tree', () => {
  for (const s of suites) {
    it(`${s.name}: every inclusion (i, n) and consistency (m, n) proof verifies, and only there`, () => {
      const t = build(s, 70);
      for (let n = 1; n <= 70; n++) {
        const root = t.root(n);
        for (let i = 0; i < n; i++) {
          const p = t.inclusionProof(i, n);
          expect(p.length).toBe(shape(i, n).length);
          if (!verifyInclusion(s, t.leafHash(i), i, n, p, root)) throw new Error(`inclusion ${i}/${n}`);
        }
        for (let m = 1; m <= n; m++) {
          const p = t.consistencyProof(m, n);
          if (!verifyConsistency(s, m, n, p, t.root(m), root)) throw new Error(`consistency ${m}/${n}`);
        }
      }
    });
  }
});

describe('properties', () => {
  const s = suites[0]!;
  const big = build(s, 300, 1);

  it('root(pastSize) equals the root of a fresh tree over the first pastSize leaves', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), (n) => {
        expect(toHex(big.root(n))).toBe(toHex(build(s, n, 1).root()));
      }),
      { numRuns: 100 },
    );
  });

  it('incremental appends with random batch sizes give the roots of one big append', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 12 }), fc.boolean(), (batches, asHashes) => {
        const all = leafData(batches.reduce((a, b) => a + b, 0), 3);
        const inc = new LogTree(s);
        let off = 0;
        for (const b of batches) {
          const chunk = all.slice(off, off + b);
          if (asHashes) inc.appendLeafHashes(chunk.map((d) => s.digestPrefixed(Uint8Array.of(0), d)));
          else inc.appendMany(chunk);
          off += b;
          expect(toHex(inc.root())).toBe(toHex(build(s, off, 3).root()));
        }
        const one = new LogTree(s);
        one.appendMany(all);
        expect(inc.exportLevels().map(toHex)).toEqual(one.exportLevels().map(toHex));
      }),
      { numRuns: 100 },
    );
  });

  const incl = fc
    .integer({ min: 1, max: 300 })
    .chain((n) => fc.record({ n: fc.constant(n), i: fc.integer({ min: 0, max: n - 1 }), bit: fc.nat(), k: fc.nat() }));

  it('inclusion: a one-bit flip in a proof element, the root or the leaf hash is rejected', () => {
    fc.assert(
      fc.property(incl, ({ n, i, bit, k }) => {
        const p = big.inclusionProof(i, n);
        const root = big.root(n);
        const lh = big.leafHash(i);
        expect(verifyInclusion(s, lh, i, n, p, root)).toBe(true);
        expect(verifyInclusion(s, lh, i, n, p, flip(root, bit))).toBe(false);
        expect(verifyInclusion(s, flip(lh, bit), i, n, p, root)).toBe(false);
        if (p.length > 0) {
          const q = p.slice();
          q[k % q.length] = flip(q[k % q.length]!, bit);
          expect(verifyInclusion(s, lh, i, n, q, root)).toBe(false);
          expect(verifyInclusion(s, lh, i, n, p.slice(1), root)).toBe(false);
        }
        expect(verifyInclusion(s, lh, i, n, [...p, root], root)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('inclusion: a changed index is rejected; a changed size only when the audit-path shape differs', () => {
    fc.assert(
      fc.property(incl, fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 400 }), ({ n, i }, i2, n2) => {
        const p = big.inclusionProof(i, n);
        const root = big.root(n);
        const lh = big.leafHash(i);
        if (i2 !== i) expect(verifyInclusion(s, lh, i2, n, p, root)).toBe(false);
        if (n2 !== n) {
          // The size is bound by the root (a signed tree head), not by the path: RFC 9162's verifier accepts
          // another size exactly when that size puts the leaf at the same place in an identically-shaped path.
          const same = i < n2 && shape(i, n2) === shape(i, n);
          expect(verifyInclusion(s, lh, i, n2, p, root)).toBe(same);
        }
        expect(rootFromInclusionProof(s, lh, i, n, p)).toEqual(root);
      }),
      { numRuns: 200 },
    );
  });

  const cons = fc
    .integer({ min: 1, max: 300 })
    .chain((n) => fc.record({ n: fc.constant(n), m: fc.integer({ min: 1, max: n }), bit: fc.nat(), k: fc.nat(), m2: fc.integer({ min: 0, max: 400 }), n2: fc.integer({ min: 0, max: 400 }) }));

  it('consistency: one-bit flips and changed sizes are rejected (sizes: unless the same verifier steps apply)', () => {
    fc.assert(
      fc.property(cons, ({ n, m, bit, k, m2, n2 }) => {
        const p = big.consistencyProof(m, n);
        const r1 = big.root(m);
        const r2 = big.root(n);
        expect(verifyConsistency(s, m, n, p, r1, r2)).toBe(true);
        expect(verifyConsistency(s, m, n, p, flip(r1, bit), r2)).toBe(false);
        expect(verifyConsistency(s, m, n, p, r1, flip(r2, bit))).toBe(false);
        if (p.length > 0) {
          const q = p.slice();
          q[k % q.length] = flip(q[k % q.length]!, bit);
          expect(verifyConsistency(s, m, n, q, r1, r2)).toBe(false);
          expect(verifyConsistency(s, m, n, p.slice(0, -1), r1, r2)).toBe(false);
        }
        expect(verifyConsistency(s, m, n, [...p, r1], r1, r2)).toBe(false);
        const ops = consistencyOps(m, n, p.length);
        if (m2 !== m) expect(verifyConsistency(s, m2, n, p, r1, r2)).toBe(consistencyOps(m2, n, p.length) === ops && ops !== null && m2 <= n && m2 > 0 && sameRoles(m, m2, n, n));
        if (n2 !== n) expect(verifyConsistency(s, m, n2, p, r1, r2)).toBe(consistencyOps(m, n2, p.length) === ops && ops !== null && sameRoles(m, m, n, n2));
      }),
      { numRuns: 200 },
    );
  });
});

/** Equal sizes take the "roots must be equal" branch, whose outcome is not an ops-sequence question. */
function sameRoles(m: number, m2: number, n: number, n2: number): boolean {
  return (m === n) === (m2 === n2);
}

describe('past sizes stay answerable after growth', () => {
  it('proofs at an old size are identical before and after later appends', () => {
    const s = suites[1]!;
    const t = build(s, 21);
    const before = [t.root(), t.inclusionProof(7).map(toHex), t.consistencyProof(5).map(toHex)];
    t.appendMany(leafData(50, 4));
    expect([t.root(21), t.inclusionProof(7, 21).map(toHex), t.consistencyProof(5, 21).map(toHex)]).toEqual(before);
    expect(equalBytes(t.root(21), t.root())).toBe(false);
  });
});
