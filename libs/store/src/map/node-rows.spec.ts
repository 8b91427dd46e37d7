import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { SparseMerkleMap, type MapNodeWithHash } from '@merklesync/merkle';
import { describe, expect, it } from 'vitest';
import { chunkNode, chunkNodes, encodeChunk, encodeMapNode } from './node-codec.ts';
import { ScratchBuffers } from '../scratch.ts';
import { CHUNK_BYTES, MapNodeRows } from './node-rows.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The chunks of `nodes` by the rule of README "Node chunks", built here from encodeChunk: sorted by hash, a hash met
 * twice once, consecutive nodes in a chunk while it stays within CHUNK_BYTES, one node per chunk at locator 0. */
function refChunks(nodes: readonly MapNodeWithHash[], at: number): Uint8Array[][] {
  const sorted = [...nodes].sort((x, y) => Buffer.compare(Buffer.from(x.hash), Buffer.from(y.hash)));
  const chunks: { hash: Uint8Array; node: Uint8Array }[][] = [];
  let size = 0;
  sorted.forEach((n, i) => {
    if (i > 0 && Buffer.compare(Buffer.from(sorted[i - 1]!.hash), Buffer.from(n.hash)) === 0) return;
    const enc = encodeMapNode(n.node);
    if (chunks.length === 0 || at === 0 || size + 36 + enc.length > CHUNK_BYTES) {
      chunks.push([]);
      size = 2;
    }
    chunks.at(-1)!.push({ hash: n.hash, node: enc });
    size += 36 + enc.length;
  });
  return chunks.map((c) => [c[0]!.hash, encodeChunk(c)]);
}

/** The COPY file of `nodes`' chunks, field by field: (suite int2, at int8, lo bytea, nodes bytea) per chunk. */
function refCopy(suite: number, at: number, nodes: readonly MapNodeWithHash[]): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)];
  for (const [lo, chunk] of refChunks(nodes, at)) {
    const head = Buffer.alloc(2 + 6 + 12 + 4);
    head.writeInt16BE(4, 0);
    head.writeInt32BE(2, 2);
    head.writeInt16BE(suite, 6);
    head.writeInt32BE(8, 8);
    head.writeBigInt64BE(BigInt(at), 12);
    head.writeInt32BE(32, 20);
    const len = Buffer.alloc(4);
    len.writeInt32BE(chunk!.length);
    parts.push(head, Buffer.from(lo!), len, Buffer.from(chunk!));
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

/** The rows of a COPY file that MapNodeRows wrote. */
function rowsOf(file: Buffer): { suite: number; at: number; lo: Buffer; nodes: Buffer }[] {
  const out: { suite: number; at: number; lo: Buffer; nodes: Buffer }[] = [];
  let o = 19;
  while (file.readInt16BE(o) !== -1) {
    expect(file.readInt16BE(o)).toBe(4);
    const len = file.readInt32BE(o + 56);
    out.push({ suite: file.readInt16BE(o + 6), at: Number(file.readBigInt64BE(o + 12)), lo: file.subarray(o + 24, o + 56), nodes: file.subarray(o + 60, o + 60 + len) });
    o += 60 + len;
  }
  expect(o + 2).toBe(file.length);
  return out;
}

/** Every (hash, node) pair the chunks of COPY files hold, in file order. */
function nodesOf(files: readonly Buffer[]): string[] {
  return files.flatMap((f) => rowsOf(f).flatMap((r) => chunkNodes(r.nodes).map((n) => hex(n.hash) + ':' + hex(n.node))));
}

describe('MapNodeRows.copyFiles', () => {
  const leaf = { type: 'leaf', key: new Uint8Array(32).fill(7), value: Uint8Array.of(1, 2, 3) } as const;
  const branch = { type: 'branch', bit: 5, left: new Uint8Array(32).fill(1), right: new Uint8Array(32).fill(2), minKey: new Uint8Array(32).fill(3) } as const;
  const two = [
    { hash: new Uint8Array(32).fill(0xbb), node: branch },
    { hash: new Uint8Array(32).fill(0xaa), node: leaf },
  ];

  it('writes the PGCOPY header, (suite, at, lo, nodes) chunk rows with the nodes in hash order, and the trailer', () => {
    for (const at of [5, 2 ** 53 - 1]) {
      const rows = new MapNodeRows(1, 2, at);
      for (const n of two) rows.add(n);
      const out = rows.copyFiles(1)[0]!;
      expect(out.subarray(0, 11).toString('latin1')).toBe('PGCOPY\n\xff\r\n\0');
      const got = rowsOf(out);
      expect(got).toHaveLength(1);
      expect(got[0]!.suite).toBe(1);
      expect(got[0]!.at).toBe(at);
      expect(hex(got[0]!.lo)).toBe(hex(two[1]!.hash));
      expect(hex(got[0]!.nodes)).toBe(hex(encodeChunk([{ hash: two[1]!.hash, node: encodeMapNode(leaf) }, { hash: two[0]!.hash, node: encodeMapNode(branch) }])));
      expect(hex(chunkNode(got[0]!.nodes, two[0]!.hash)!)).toBe(hex(encodeMapNode(branch)));
      expect(chunkNode(got[0]!.nodes, new Uint8Array(32).fill(0xab))).toBeUndefined();
      expect(hex(out)).toBe(hex(refCopy(1, at, two)));
    }
  });

  it('at locator 0 writes every node as a chunk of its own (locator-less writes of different nodes never overlap)', () => {
    const rows = new MapNodeRows(0, 2);
    for (const n of two) rows.add(n);
    const got = rowsOf(rows.copyFiles(1)[0]!);
    expect(got.map((r) => [hex(r.lo), chunkNodes(r.nodes).length])).toEqual([
      [hex(two[1]!.hash), 1],
      [hex(two[0]!.hash), 1],
    ]);
  });

  it('fills chunks up to CHUNK_BYTES, gives a larger node a chunk of its own and writes a repeated hash once', () => {
    const rows = new MapNodeRows(0, 64, 3);
    const nodes: MapNodeWithHash[] = Array.from({ length: 60 }, (_, i) => ({ hash: Uint8Array.of(i, ...new Array<number>(31).fill(0)), node: { type: 'leaf', key: randomBytes(32), value: randomBytes(i === 30 ? 5000 : 32) } }));
    for (const n of nodes) rows.add(n);
    rows.add(nodes[7]!);
    const got = rowsOf(rows.copyFiles(1)[0]!);
    expect(got.every((r) => r.nodes.length <= CHUNK_BYTES || chunkNodes(r.nodes).length === 1)).toBe(true);
    expect(got.find((r) => r.lo[0] === 30)!.nodes.length).toBeGreaterThan(5000);
    expect(got.length).toBeGreaterThan(3);
    expect(got.length).toBeLessThan(10);
    expect(nodesOf([rows.copyFiles(1)[0]!])).toEqual([...nodes].map((n) => hex(n.hash) + ':' + hex(encodeMapNode(n.node))));
    // Each chunk is found from any hash it holds as the chunk with the greatest lo ≤ that hash.
    for (const n of nodes) {
      const c = got.filter((r) => Buffer.compare(r.lo, Buffer.from(n.hash)) <= 0).at(-1)!;
      expect(hex(chunkNode(c.nodes, n.hash)!)).toBe(hex(encodeMapNode(n.node)));
    }
  });

  it('writes the row pairs of leaves and branches with child locators (114-byte form), records roots once, and gives the roots to the first part only', () => {
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

  it('is the chunk file of the nodes sorted by hash (Buffer.compare order), for any nodes, locators and chunk rows', () => {
    const node = fc.oneof(
      fc.record({ type: fc.constant('leaf' as const), key: fc.uint8Array({ minLength: 32, maxLength: 32 }), value: fc.uint8Array({ maxLength: 400 }) }),
      fc.record({ type: fc.constant('branch' as const), bit: fc.integer({ min: 0, max: 255 }), left: fc.uint8Array({ minLength: 32, maxLength: 32 }), right: fc.uint8Array({ minLength: 32, maxLength: 32 }), minKey: fc.uint8Array({ minLength: 32, maxLength: 32 }) }),
    );
    // Hashes that often share their first 8 bytes, so the tie-break on the remaining 24 is exercised.
    const hash = fc.tuple(fc.constantFrom(new Uint8Array(8), new Uint8Array(8).fill(255)), fc.uint8Array({ minLength: 24, maxLength: 24 })).map(([p, r]) => Uint8Array.of(...p, ...r));
    fc.assert(
      fc.property(fc.array(fc.record({ hash: fc.oneof(hash, fc.uint8Array({ minLength: 32, maxLength: 32 })), node }), { maxLength: 60 }), fc.constantFrom(0, 1, 2 ** 40), (nodes, at) => {
        const rows = new MapNodeRows(3, nodes.length, at);
        for (const n of nodes) rows.add(n);
        expect(hex(rows.copyFiles(1)[0]!)).toBe(hex(refCopy(3, at, nodes)));
        expect(rows.chunkPairs().map((c) => hex(c.lo) + ':' + hex(c.nodes))).toEqual(refChunks(nodes, at).map(([lo, c]) => hex(lo!) + ':' + hex(c!)));
      }),
    );
  });

  it('rejects a hash that is not 32 bytes', () => {
    expect(() => new MapNodeRows(0).add({ hash: new Uint8Array(31), node: { type: 'leaf', key: new Uint8Array(32), value: new Uint8Array(0) } })).toThrow(RangeError);
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
      expect(hex(rows.copyFiles(1)[0]!)).toBe(hex(refCopy(0, 0, objects)));
      const located = new MapNodeRows('sha256', 4, 12);
      for (const o of objects) located.add(o);
      expect(hex(located.copyFiles(1)[0]!)).toBe(hex(refCopy(0, 12, objects)));
      const pairs = rows.sortedPairs();
      const sorted = [...objects].sort((a, b) => Buffer.compare(Buffer.from(a.hash), Buffer.from(b.hash)));
      expect(pairs.map((p) => [hex(p.hash), hex(p.node)])).toEqual(sorted.map((n) => [hex(n.hash), hex(encodeMapNode(n.node))]));
    }
  });

  it('splits into COPY files of contiguous hash ranges that together hold the sorted nodes', () => {
    const rows = new MapNodeRows(1, 16, 4);
    for (let i = 0; i < 3_500; i++) rows.add({ hash: randomBytes(32), node: { type: 'leaf', key: randomBytes(32), value: randomBytes(i % 50) } });
    const whole = rows.copyFiles(1)[0]!;
    const parts = rows.copyFiles(3);
    expect(parts).toHaveLength(3);
    for (const f of parts) expect(hex(f.subarray(0, 19))).toBe(hex(whole.subarray(0, 19)));
    expect(nodesOf(parts)).toEqual(nodesOf([whole]));
    const los = parts.flatMap((f) => rowsOf(f).map((r) => hex(r.lo)));
    expect([...los].sort()).toEqual(los);
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
    expect(hex(next.copyFiles(1)[0]!)).toBe(hex(check.copyFiles(1)[0]!));
    // Without buffers, release only empties the collection.
    plain.release();
    expect(plain.count).toBe(0);
    expect(() => plain.copyFiles(1)).toThrow(/after release/);
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
