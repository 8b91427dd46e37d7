import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { SparseMerkleMap, type MapNodeWithHash } from '@merklesync/merkle';
import { describe, expect, it } from 'vitest';
import { encodeMapNode } from './node-codec.ts';
import { ScratchBuffers } from '../scratch.ts';
import { MapNodeRows } from './node-rows.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The COPY file of `nodes` from objects: in the order given, or in hash order. */
function binaryCopyOfMapNodes(suite: number, nodes: readonly MapNodeWithHash[], options: { readonly byHash?: boolean } = {}): Buffer {
  const rows = new MapNodeRows(suite, nodes.length);
  for (const n of nodes) rows.add(n);
  return options.byHash === true ? rows.copyFiles(1)[0]! : rows.copyFileInOrder();
}

describe('binaryCopyOfMapNodes', () => {
  it('writes the PGCOPY header, one (suite, at, hash, node) tuple per node in the storage encoding, and the trailer', () => {
    const leaf = { type: 'leaf', key: new Uint8Array(32).fill(7), value: Uint8Array.of(1, 2, 3) } as const;
    const branch = { type: 'branch', bit: 5, left: new Uint8Array(32).fill(1), right: new Uint8Array(32).fill(2), minKey: new Uint8Array(32).fill(3) } as const;
    const nodes = [
      { hash: new Uint8Array(32).fill(0xaa), node: leaf },
      { hash: new Uint8Array(32).fill(0xbb), node: branch },
    ];
    for (const at of [0, 2 ** 53 - 1]) {
      const rows = new MapNodeRows(1, 2, at);
      for (const n of nodes) rows.add(n);
      const out = rows.copyFileInOrder();
      expect(out.subarray(0, 11).toString('latin1')).toBe('PGCOPY\n\xff\r\n\0');
      let o = 19;
      for (const n of nodes) {
        expect(out.readInt16BE(o)).toBe(4);
        expect(out.readInt32BE(o + 2)).toBe(2);
        expect(out.readInt16BE(o + 6)).toBe(1);
        expect(out.readInt32BE(o + 8)).toBe(8);
        expect(out.readBigInt64BE(o + 12)).toBe(BigInt(at));
        expect(out.readInt32BE(o + 20)).toBe(32);
        expect([...out.subarray(o + 24, o + 56)]).toEqual([...n.hash]);
        const enc = encodeMapNode(n.node);
        expect(out.readInt32BE(o + 56)).toBe(enc.length);
        expect([...out.subarray(o + 60, o + 60 + enc.length)]).toEqual([...enc]);
        o += 60 + enc.length;
      }
      expect(out.readInt16BE(o)).toBe(-1);
      expect(out.length).toBe(o + 2);
    }
  });

  it('writes a branch with child locators in the 114-byte form, records roots once, and gives the roots to the first part only', () => {
    const rows = new MapNodeRows(0, 4, 9);
    const children = new Uint8Array(64).fill(4);
    rows.branch(new Uint8Array(32).fill(0xcc), 0, 17, children, 0, new Uint8Array(32).fill(5), 0, 3, 9);
    rows.branch(new Uint8Array(32).fill(0x01), 0, 18, children, 0, new Uint8Array(32).fill(5), 0);
    const pairs = rows.sortedPairs();
    expect(pairs.map((p) => p.node.length)).toEqual([98, 114]);
    expect(pairs[1]!.node).toEqual(Buffer.from(encodeMapNode({ type: 'branch', bit: 17, left: children.subarray(0, 32), right: children.subarray(32), minKey: new Uint8Array(32).fill(5), leftAt: 3, rightAt: 9 })));
    expect(() => rows.branch(new Uint8Array(32), 0, 1, children, 0, children, 0, -1, 0)).toThrow(RangeError);
    expect(() => new MapNodeRows(0, 4, 1.5)).toThrow(RangeError);
    rows.root(new Uint8Array(32).fill(0xcc), 9);
    rows.root(new Uint8Array(32).fill(0xcc), 9);
    expect(rows.roots).toHaveLength(1);
    expect(() => rows.root(new Uint8Array(31), 1)).toThrow(RangeError);
    const many = new MapNodeRows(0, 4000, 9);
    for (let i = 0; i < 3000; i++) many.leaf(randomBytes(32), 0, randomBytes(32), 0, new Uint8Array(1), 0, 1);
    many.root(new Uint8Array(32).fill(1), 9);
    const parts = many.parts(3);
    expect(parts.map((p) => p.roots.length)).toEqual([1, 0, 0]);
    expect(parts.every((p) => p.at === 9)).toBe(true);
  });

  it('byHash: the same rows as encoding the nodes sorted by hash (Buffer.compare order), for any nodes', () => {
    const node = fc.oneof(
      fc.record({ type: fc.constant('leaf' as const), key: fc.uint8Array({ minLength: 32, maxLength: 32 }), value: fc.uint8Array({ maxLength: 40 }) }),
      fc.record({ type: fc.constant('branch' as const), bit: fc.integer({ min: 0, max: 255 }), left: fc.uint8Array({ minLength: 32, maxLength: 32 }), right: fc.uint8Array({ minLength: 32, maxLength: 32 }), minKey: fc.uint8Array({ minLength: 32, maxLength: 32 }) }),
    );
    // Hashes that often share their first 8 bytes, so the tie-break on the remaining 24 is exercised.
    const hash = fc.tuple(fc.constantFrom(new Uint8Array(8), new Uint8Array(8).fill(255)), fc.uint8Array({ minLength: 24, maxLength: 24 })).map(([p, r]) => Uint8Array.of(...p, ...r));
    fc.assert(
      fc.property(fc.array(fc.record({ hash: fc.oneof(hash, fc.uint8Array({ minLength: 32, maxLength: 32 })), node }), { maxLength: 40 }), (nodes) => {
        const want = binaryCopyOfMapNodes(3, [...nodes].sort((a, b) => Buffer.compare(Buffer.from(a.hash), Buffer.from(b.hash))));
        expect(binaryCopyOfMapNodes(3, nodes, { byHash: true }).toString('hex')).toBe(want.toString('hex'));
      }),
    );
  });

  it('rejects a hash that is not 32 bytes', () => {
    expect(() => binaryCopyOfMapNodes(0, [{ hash: new Uint8Array(31), node: { type: 'leaf', key: new Uint8Array(32), value: new Uint8Array(0) } }])).toThrow(RangeError);
  });
});

describe('MapNodeRows', () => {
  it('collects the nodes a MemoryMapStore visits, row for row as binaryCopyOfMapNodes of newNodesSince', () => {
    const map = new SparseMerkleMap();
    let root = map.emptyRoot;
    for (let round = 0; round < 4; round++) {
      const mark = map.store.mark();
      // Values of several lengths (the ≤ 64-byte loop and the long-value path), deletes from round 1 on.
      const ops = Array.from({ length: 300 }, (_, i) => ({ key: randomBytes(32), value: randomBytes(i % 3 === 0 ? 100 : 32) }));
      root = map.update(root, ops);
      const rows = new MapNodeRows('sha256', 4); // tiny start: the buffers must grow
      const visited = map.store.visitNewNodesSince(mark, [root], rows);
      const objects = map.store.newNodesSince(mark, [root]);
      expect(visited).toBe(objects.length);
      expect(rows.count).toBe(objects.length);
      expect(hex(rows.copyFiles(1)[0]!)).toBe(hex(binaryCopyOfMapNodes(0, objects, { byHash: true })));
      expect(hex(rows.copyFileInOrder())).toBe(hex(binaryCopyOfMapNodes(0, objects)));
      const pairs = rows.sortedPairs();
      const sorted = [...objects].sort((a, b) => Buffer.compare(Buffer.from(a.hash), Buffer.from(b.hash)));
      expect(pairs.map((p) => [hex(p.hash), hex(p.node)])).toEqual(sorted.map((n) => [hex(n.hash), hex(encodeMapNode(n.node))]));
    }
  });

  it('splits into COPY files of contiguous hash ranges that together are the sorted file', () => {
    const rows = new MapNodeRows(1);
    for (let i = 0; i < 3_500; i++) rows.add({ hash: randomBytes(32), node: { type: 'leaf', key: randomBytes(32), value: randomBytes(i % 50) } });
    const whole = rows.copyFiles(1)[0]!;
    const parts = rows.copyFiles(3);
    expect(parts).toHaveLength(3);
    const body = (f: Buffer): Buffer => f.subarray(19, f.length - 2);
    for (const f of parts) {
      expect(hex(f.subarray(0, 19))).toBe(hex(whole.subarray(0, 19)));
      expect(f.readInt16BE(f.length - 2)).toBe(-1);
    }
    expect(hex(Buffer.concat(parts.map(body)))).toBe(hex(body(whole)));
    // The same ranges as collections (parallel writers): each part's file is the matching file.
    const split = rows.parts(3);
    expect(split.map((p) => p.count)).toEqual([1_167, 1_167, 1_166]);
    expect(split.map((p) => hex(p.copyFiles(1)[0]!))).toEqual(parts.map(hex));
    expect(rows.parts(1)).toEqual([rows]);
    // Fewer than 1,000 rows per part: fewer parts; no rows: one empty file.
    expect(rows.copyFiles(8)).toHaveLength(4);
    const none = new MapNodeRows('sha256').copyFiles(4);
    expect(none).toHaveLength(1);
    expect(none[0]!.length).toBe(21);
  });

  it('orders hashes that share their first two bytes by the rest, and keeps equal hashes in insertion order', () => {
    const rows = new MapNodeRows(0);
    const h = (tail: number[]): Uint8Array => Uint8Array.from([7, 7, ...tail, ...new Array<number>(30 - tail.length).fill(0)]);
    const hashes = [h([5]), h([1, 9]), h([1, 2]), h([5]), h([0])];
    hashes.forEach((hash, i) => rows.add({ hash, node: { type: 'leaf', key: new Uint8Array(32), value: Uint8Array.of(i) } }));
    expect(rows.sortedPairs().map((p) => p.node[33])).toEqual([4, 2, 1, 0, 3]);
  });

  it('builds rows in memory from the buffers, gives it back when outgrown and at release, and writes the same files', () => {
    const buffers = new ScratchBuffers(4);
    const nodes: MapNodeWithHash[] = Array.from({ length: 3_000 }, (_, i) => ({
      hash: randomBytes(32),
      node: i % 2 === 0 ? { type: 'leaf', key: randomBytes(32), value: randomBytes(i % 90) } : { type: 'branch', bit: i % 256, left: randomBytes(32), right: randomBytes(32), minKey: randomBytes(32), leftAt: i, rightAt: 0 },
    }));
    const plain = new MapNodeRows(0, 16, 77);
    const pooled = new MapNodeRows(0, 16, 77, { buffers }); // 16 rows' room: it grows several times
    for (const n of nodes) {
      plain.add(n);
      pooled.add(n);
    }
    // Each outgrown buffer went back (the pool keeps up to 4 of them); the rows are intact.
    expect(buffers.freeBytes).toBeGreaterThan(0);
    expect(hex(pooled.copyFiles(1)[0]!)).toBe(hex(plain.copyFiles(1)[0]!));
    expect(pooled.parts(3).map((p) => hex(p.copyFiles(1)[0]!))).toEqual(plain.parts(3).map((p) => hex(p.copyFiles(1)[0]!)));
    expect(pooled.sortedPairs().map((p) => hex(p.node))).toEqual(plain.sortedPairs().map((p) => hex(p.node)));

    // Parts made twice each keep their own memory until release: the second call, after more rows, must not write
    // over the first's.
    const files = (rows: MapNodeRows[]): string[] => rows.map((p) => hex(p.copyFiles(1)[0]!));
    const firstExpected = files(plain.parts(2));
    const first = pooled.parts(2);
    const extra: MapNodeWithHash = { hash: new Uint8Array(32), node: { type: 'leaf', key: randomBytes(32), value: randomBytes(40) } };
    plain.add(extra);
    pooled.add(extra);
    const second = pooled.parts(2);
    expect(files(second)).toEqual(files(plain.parts(2)));
    expect(files(first)).toEqual(firstExpected);

    const before = buffers.freeBytes;
    pooled.release();
    expect(buffers.freeBytes).toBeGreaterThan(before); // the rows' memory and the parts' memory
    expect(pooled.released).toBe(true);
    expect(pooled.count).toBe(0);
    expect(() => pooled.copyFiles(1)).toThrow(/after release/);
    expect(() => pooled.parts(2)).toThrow(/after release/);
    expect(() => pooled.sortedPairs()).toThrow(/after release/);
    expect(() => pooled.add(nodes[0]!)).toThrow(/after release/);
    const freeAfter = buffers.freeBytes;
    pooled.release(); // harmless
    expect(buffers.freeBytes).toBe(freeAfter);

    // The next collection builds in that memory, and its rows are its own.
    const next = new MapNodeRows(0, 3_000, 78, { buffers });
    expect(buffers.freeBytes).toBeLessThan(freeAfter);
    for (const n of nodes.slice(0, 100)) next.add(n);
    const check = new MapNodeRows(0, 16, 78);
    for (const n of nodes.slice(0, 100)) check.add(n);
    expect(hex(next.copyFileInOrder())).toBe(hex(check.copyFileInOrder()));
    // Without buffers, release only empties the collection.
    plain.release();
    expect(plain.count).toBe(0);
    expect(() => plain.copyFileInOrder()).toThrow(/after release/);
  });

  it('refuses byte ranges outside their arrays and bits outside 0..255, and writes nothing for them', () => {
    const rows = new MapNodeRows(0);
    const b = new Uint8Array(64);
    expect(() => rows.leaf(b, 40, b, 0, b, 0, 1)).toThrow(RangeError);
    expect(() => rows.leaf(b, 0, b, 0, b, 60, 5)).toThrow(RangeError);
    expect(() => rows.branch(b, 0, 3, b, 1, b, 0)).toThrow(RangeError);
    expect(() => rows.branch(b, 0, 256, b, 0, b, 0)).toThrow(RangeError);
    expect(() => rows.add({ hash: b, node: { type: 'branch', bit: 1, left: b, right: b.subarray(0, 32), minKey: b.subarray(0, 32) } })).toThrow(RangeError);
    expect(rows.count).toBe(0);
  });
});
