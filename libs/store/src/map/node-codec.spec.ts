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
    expect(decodeMapNode(be)).toEqual(branch);
  });

  it('rejects unknown types and wrong lengths', () => {
    expect(() => decodeMapNode(Uint8Array.of(2, 0))).toThrow(StoreError);
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
