import { describe, expect, it } from 'vitest';
import { StoreError } from '../errors.ts';
import { chunkNode, chunkNodes, decodeMapNode, encodeChunk, encodeMapNode, suiteCode, suiteName } from './node-codec.ts';

const b = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);

describe('map node encoding', () => {
  it('encodes leaves as 0x00 ‖ key ‖ value and branches as 0x01 ‖ bit ‖ left ‖ right ‖ minKey', () => {
    const leaf = { type: 'leaf', key: b(32, 7), value: Uint8Array.of(1, 2, 3) } as const;
    const enc = encodeMapNode(leaf);
    expect(enc.length).toBe(36);
    expect(enc[0]).toBe(0);
    expect(decodeMapNode(enc)).toEqual(leaf);
    const empty = { type: 'leaf', key: b(32, 1), value: new Uint8Array(0) } as const;
    expect(decodeMapNode(encodeMapNode(empty))).toEqual(empty);
    const branch = { type: 'branch', bit: 200, left: b(32, 1), right: b(32, 2), minKey: b(32, 3) } as const;
    const be = encodeMapNode(branch);
    expect(be.length).toBe(98);
    expect([...be.subarray(0, 3)]).toEqual([1, 200, 1]);
    expect(decodeMapNode(be)).toEqual({ ...branch, leftAt: 0, rightAt: 0 });
  });

  it('encodes a branch with child locators as 0x02 ‖ … ‖ leftAt ‖ rightAt (uint64 BE), and one without in the 98-byte form', () => {
    const branch = { type: 'branch', bit: 9, left: b(32, 1), right: b(32, 2), minKey: b(32, 3), leftAt: 2 ** 53 - 1, rightAt: 0x0102_0304 } as const;
    const be = encodeMapNode(branch);
    expect(be.length).toBe(114);
    expect(be[0]).toBe(2);
    expect([...be.subarray(98)]).toEqual([0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 2, 3, 4]);
    expect(decodeMapNode(be)).toEqual(branch);
    expect(encodeMapNode({ ...branch, leftAt: 0, rightAt: 0 }).length).toBe(98);
    expect(decodeMapNode(encodeMapNode({ ...branch, leftAt: 0, rightAt: 5 }))).toMatchObject({ leftAt: 0, rightAt: 5 });
    expect(() => encodeMapNode({ ...branch, leftAt: -1 })).toThrow(RangeError);
    expect(() => encodeMapNode({ ...branch, rightAt: 2 ** 53 })).toThrow(RangeError);
    const tooBig = encodeMapNode(branch);
    tooBig[99] = 0x20; // 2^53
    expect(() => decodeMapNode(tooBig)).toThrow(StoreError);
  });

  it('rejects unknown types and wrong lengths', () => {
    expect(() => decodeMapNode(Uint8Array.of(2, 0))).toThrow(StoreError);
    expect(() => decodeMapNode(Uint8Array.of(2, ...b(97, 0)))).toThrow(StoreError);
    expect(() => decodeMapNode(Uint8Array.of(3, ...b(113, 0)))).toThrow(StoreError);
    expect(() => decodeMapNode(b(32, 0))).toThrow(StoreError);
    expect(() => decodeMapNode(Uint8Array.of(1, ...b(96, 0)))).toThrow(StoreError);
    expect(() => decodeMapNode(new Uint8Array(0))).toThrow(StoreError);
  });

  it('numbers suites like the proof encodings', () => {
    expect([suiteCode('sha256'), suiteCode('blake3')]).toEqual([0, 1]);
    expect(suiteName(1)).toBe('blake3');
    expect(() => suiteName(9)).toThrow(StoreError);
  });
});

describe('map node chunks', () => {
  const nodes = [3, 9, 200].map((v, i) => ({ hash: b(32, v), node: encodeMapNode({ type: 'leaf', key: b(32, v), value: new Uint8Array(i * 40) }) }));

  it('finds every node of a chunk by its hash and nothing else; lists them in hash order', () => {
    const c = encodeChunk(nodes);
    expect(c.length).toBe(2 + 36 * 3 + nodes.reduce((n, x) => n + x.node.length, 0));
    for (const x of nodes) expect([...chunkNode(c, x.hash)!]).toEqual([...x.node]);
    for (const v of [0, 4, 199, 255]) expect(chunkNode(c, b(32, v))).toBeUndefined();
    expect(chunkNodes(c).map((x) => [x.hash[0], x.node.length])).toEqual(nodes.map((x) => [x.hash[0], x.node.length]));
    const one = encodeChunk([nodes[1]!]);
    expect([...chunkNode(one, nodes[1]!.hash)!]).toEqual([...nodes[1]!.node]);
  });

  it('refuses unsorted, repeated or missing nodes, and reports inconsistent chunks as CORRUPT_NODE', () => {
    expect(() => encodeChunk([])).toThrow(RangeError);
    expect(() => encodeChunk([nodes[1]!, nodes[0]!])).toThrow(RangeError);
    expect(() => encodeChunk([nodes[0]!, nodes[0]!])).toThrow(RangeError);
    expect(() => encodeChunk([{ hash: b(31, 1), node: nodes[0]!.node }])).toThrow(RangeError);
    const c = encodeChunk(nodes);
    expect(() => chunkNode(c.subarray(0, 50), nodes[0]!.hash)).toThrow(StoreError);
    expect(() => chunkNode(new Uint8Array(0), nodes[0]!.hash)).toThrow(StoreError);
    expect(() => chunkNodes(c.subarray(0, c.length - 1))).toThrow(StoreError);
    const bad = Uint8Array.from(c);
    bad[2 + 32 * 3 + 4 * 2 + 3] = 0xff; // the last node's end beyond the chunk
    expect(() => chunkNode(bad, nodes[2]!.hash)).toThrow(StoreError);
  });
});
