import { describe, expect, it } from 'vitest';
import { StoreError } from '../errors.ts';
import { decodeMapNode, encodeMapNode, suiteCode, suiteName } from './node-codec.ts';

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
