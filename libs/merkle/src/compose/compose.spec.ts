import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../bytes.ts';
import { getHashSuite } from '../hash/index.ts';
import { LogTree } from '../log/log-tree.ts';
import { TABLE_TREE_TAGS, databaseRoot, tableRoot, type TableRow } from './index.ts';

const sha = getHashSuite('sha256');
const blake = getHashSuite('blake3');

const H = (...parts: Uint8Array[]): Buffer => {
  const c = createHash('sha256');
  for (const p of parts) c.update(p);
  return c.digest();
};
const u32 = (n: number): Uint8Array => Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);

/** Independent RFC 9162-shaped MTH over already-hashed leaves with a node tag, from the recursive definition. */
function refTree(leaves: Uint8Array[], nodeTag: number): Buffer {
  if (leaves.length === 1) return Buffer.from(leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return H(Uint8Array.of(nodeTag), refTree(leaves.slice(0, k), nodeTag), refTree(leaves.slice(k), nodeTag));
}

function refTableRoot(rows: TableRow[]): string {
  if (rows.length === 0) return H(Uint8Array.of(0x22)).toString('hex');
  const sorted = [...rows].sort((a, b) => Buffer.compare(a.key, b.key));
  return refTree(sorted.map((r) => H(Uint8Array.of(0x20), u32(r.key.length), r.key, r.row)), 0x21).toString('hex');
}

function refDatabaseRoot(tables: Array<{ name: string; root: Uint8Array }>): string {
  if (tables.length === 0) return H(Uint8Array.of(0x32)).toString('hex');
  const enc = tables.map((t) => ({ n: Buffer.from(t.name, 'utf8'), root: t.root }));
  enc.sort((a, b) => Buffer.compare(a.n, b.n));
  return refTree(enc.map((t) => H(Uint8Array.of(0x30), u32(t.n.length), t.n, t.root)), 0x31).toString('hex');
}

const te = new TextEncoder();
const row = (k: string, v: string): TableRow => ({ key: te.encode(k), row: te.encode(v) });

const rowsArb = fc.uniqueArray(fc.record({ key: fc.uint8Array({ maxLength: 6 }), row: fc.uint8Array({ maxLength: 10 }) }), {
  maxLength: 40,
  selector: (r) => toHex(r.key),
});

describe('tableRoot', () => {
  it('known answers against an independent node:crypto computation', () => {
    expect(toHex(tableRoot(sha, []))).toBe(H(Uint8Array.of(0x22)).toString('hex'));
    const one = [row('a', 'x')];
    expect(toHex(tableRoot(sha, one))).toBe(H(Uint8Array.of(0x20, 0, 0, 0, 1, 0x61, 0x78)).toString('hex'));
    const rows = [row('k3', 'c'), row('k1', 'a'), row('', 'empty key'), row('k2', ''), row('k10', 'ten')];
    expect(toHex(tableRoot(sha, rows))).toBe(refTableRoot(rows));
    // Fixed value so a silent change of the format shows up even if the reference drifted with it.
    expect(toHex(tableRoot(sha, [row('a', 'x'), row('b', 'y'), row('c', 'z')]))).toBe(refTableRoot([row('a', 'x'), row('b', 'y'), row('c', 'z')]));
  });

  it('is the log tree under the table tags (one tree-hash implementation)', () => {
    const rows = Array.from({ length: 23 }, (_, i) => row(`k${String(i).padStart(2, '0')}`, `v${i}`));
    const t = new LogTree(sha, TABLE_TREE_TAGS);
    expect(toHex(t.root())).toBe(toHex(tableRoot(sha, [])));
    t.appendLeafHashes(rows.map((r) => sha.digestPrefixed(TABLE_TREE_TAGS.leaf, Uint8Array.of(...u32(r.key.length), ...r.key, ...r.row))));
    expect(toHex(t.root())).toBe(toHex(tableRoot(sha, rows)));
    expect(toHex(t.root(7))).toBe(toHex(tableRoot(sha, rows.slice(0, 7))));
  });

  it('key/row boundary is unambiguous thanks to the length prefix', () => {
    expect(toHex(tableRoot(sha, [row('ab', 'c')]))).not.toBe(toHex(tableRoot(sha, [row('a', 'bc')])));
  });

  it('matches the reference for random tables, in both suites differs', () => {
    fc.assert(
      fc.property(rowsArb, (rows) => {
        expect(toHex(tableRoot(sha, rows))).toBe(refTableRoot(rows));
        expect(toHex(tableRoot(blake, rows))).not.toBe(toHex(tableRoot(sha, rows)));
      }),
      { numRuns: 150 },
    );
  });

  it('order of input does not change the root; any change of a key or row does', () => {
    fc.assert(
      fc.property(rowsArb.filter((r) => r.length > 0), fc.nat(), fc.nat(), fc.boolean(), (rows, seed, bit, inKey) => {
        const shuffled = [...rows].sort((a, b) => ((toHex(a.key).length * 31 + seed) % 7) - ((toHex(b.key).length * 31 + seed) % 7)).reverse();
        const root = toHex(tableRoot(sha, rows));
        expect(toHex(tableRoot(sha, shuffled))).toBe(root);
        const i = seed % rows.length;
        const r = rows[i]!;
        const changed = [...rows];
        if (inKey) {
          const key = r.key.length === 0 ? Uint8Array.of(bit & 255) : r.key.slice();
          if (r.key.length > 0) key[bit % key.length]! ^= 1 << (bit % 8);
          if (rows.some((o) => toHex(o.key) === toHex(key))) return; // would be a duplicate, covered below
          changed[i] = { key, row: r.row };
        } else {
          const v = r.row.length === 0 ? Uint8Array.of(0) : r.row.slice();
          if (r.row.length > 0) v[bit % v.length]! ^= 1 << (bit % 8);
          changed[i] = { key: r.key, row: v };
        }
        expect(toHex(tableRoot(sha, changed))).not.toBe(root);
        expect(toHex(tableRoot(sha, rows.filter((_, j) => j !== i)))).not.toBe(root);
      }),
      { numRuns: 150 },
    );
  });

  it('rejects duplicate keys and ill-typed input', () => {
    expect(() => tableRoot(sha, [row('a', '1'), row('b', '2'), row('a', '3')])).toThrow(RangeError);
    expect(() => tableRoot(sha, 5 as never)).toThrow(TypeError);
    expect(() => tableRoot(sha, [{ key: 'a', row: new Uint8Array() }] as never)).toThrow(TypeError);
    expect(() => tableRoot(sha, [null] as never)).toThrow(TypeError);
    expect(() => tableRoot(null as never, [])).toThrow(TypeError);
  });

  it('accepts any iterable', () => {
    function* gen(): Generator<TableRow> {
      yield row('z', '1');
      yield row('y', '2');
    }
    expect(toHex(tableRoot(sha, gen()))).toBe(refTableRoot([row('z', '1'), row('y', '2')]));
  });
});

describe('databaseRoot', () => {
  const r = (s: string): Uint8Array => tableRoot(sha, [row(s, s)]);

  it('known answers against an independent node:crypto computation', () => {
    expect(toHex(databaseRoot(sha, []))).toBe(H(Uint8Array.of(0x32)).toString('hex'));
    const tables = [
      { name: 'users', root: r('u') },
      { name: 'orders', root: r('o') },
      { name: 'Zeta', root: tableRoot(sha, []) },
      { name: 'é', root: r('e') },
      { name: 'z', root: r('z') },
      { name: '😀', root: r('s') },
      { name: '\uffff', root: r('f') },
    ];
    expect(toHex(databaseRoot(sha, tables))).toBe(refDatabaseRoot(tables));
  });

  it('sorts by UTF-8 bytes, not UTF-16 code units', () => {
    // UTF-16 order puts '😀' (0xD83D 0xDE00) before '\uffff'; UTF-8 puts '\uffff' (EF BF BF) before '😀' (F0 9F 98 80).
    const a = [{ name: '\uffff', root: r('1') }, { name: '😀', root: r('2') }, { name: '\ud7ff', root: r('3') }];
    expect(toHex(databaseRoot(sha, a))).toBe(refDatabaseRoot(a));
    expect(toHex(databaseRoot(sha, [...a].reverse()))).toBe(refDatabaseRoot(a));
  });

  it('order does not matter; any change of a name or table root does', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ name: fc.string({ maxLength: 8, unit: 'grapheme' }), seed: fc.string({ maxLength: 4 }) }), { minLength: 1, maxLength: 20, selector: (t) => t.name }),
        fc.nat(),
        (specs, x) => {
          const tables = specs.map((s) => ({ name: s.name, root: r(s.seed) }));
          const root = toHex(databaseRoot(sha, tables));
          expect(root).toBe(refDatabaseRoot(tables));
          expect(toHex(databaseRoot(sha, [...tables].reverse()))).toBe(root);
          const i = x % tables.length;
          const renamed = tables.map((t, j) => (j === i ? { ...t, name: t.name + '\u0000' } : t));
          if (!tables.some((t) => t.name === renamed[i]!.name)) expect(toHex(databaseRoot(sha, renamed))).not.toBe(root);
          const reRooted = tables.map((t, j) => (j === i ? { ...t, root: r(specs[i]!.seed + 'x') } : t));
          expect(toHex(databaseRoot(sha, reRooted))).not.toBe(root);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('rejects duplicates, lone surrogates, wrong root lengths and ill-typed input', () => {
    expect(() => databaseRoot(sha, [{ name: 'a', root: r('1') }, { name: 'a', root: r('2') }])).toThrow(RangeError);
    expect(() => databaseRoot(sha, [{ name: 'a\ud800', root: r('1') }])).toThrow(RangeError);
    expect(() => databaseRoot(sha, [{ name: '\udc00', root: r('1') }])).toThrow(RangeError);
    expect(() => databaseRoot(sha, [{ name: 'a', root: new Uint8Array(31) }])).toThrow(RangeError);
    expect(() => databaseRoot(sha, [{ name: 1, root: r('1') }] as never)).toThrow(TypeError);
    expect(() => databaseRoot(sha, undefined as never)).toThrow(TypeError);
  });
});
