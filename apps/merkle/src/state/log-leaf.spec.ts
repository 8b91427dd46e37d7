import { describe, expect, it } from 'vitest';
import { getHashSuite, toHex } from '@merklesync/merkle';
import { LeafArena, encodeLogLeaf } from './log-leaf.ts';

const suite = getHashSuite('sha256');
const base = { source: 'pg', table: 'public.t', op: 1, mapKey: new Uint8Array(32).fill(0xaa), leafCommitment: new Uint8Array(32).fill(0xbb), rowVersion: 0x0102n, block: new Uint8Array([1, 2, 3]) };

describe('encodeLogLeaf', () => {
  it('lays out the documented fields', () => {
    const b = encodeLogLeaf(suite, base);
    const hex = toHex(b);
    const blockHash = toHex(suite.digest(new Uint8Array([1, 2, 3])));
    expect(hex).toBe(`0101` + `0002` + `7067` + `0008` + toHex(new TextEncoder().encode('public.t')) + 'aa'.repeat(32) + '20' + 'bb'.repeat(32) + '0000000000000102' + '20' + blockHash);
  });

  it('encodes a delete with empty commitment and no block hash', () => {
    const b = encodeLogLeaf(suite, { ...base, op: 3, leafCommitment: new Uint8Array(0), block: new Uint8Array(0) });
    expect(toHex(b.slice(-10))).toBe('00' + '0000000000000102' + '00');
    expect(b.length).toBe(2 + 4 + 10 + 32 + 1 + 8 + 1);
  });

  it('distinguishes every field (no two inputs share bytes)', () => {
    const a = toHex(encodeLogLeaf(suite, base));
    for (const v of [{ source: 'pgx' }, { table: 'public.u' }, { op: 2 }, { rowVersion: 0x0103n }, { block: new Uint8Array([1, 2, 4]) }, { mapKey: new Uint8Array(32) }]) {
      expect(toHex(encodeLogLeaf(suite, { ...base, ...v }))).not.toBe(a);
    }
  });

  it('rejects malformed fields', () => {
    expect(() => encodeLogLeaf(suite, { ...base, mapKey: new Uint8Array(31) })).toThrow(RangeError);
    expect(() => encodeLogLeaf(suite, { ...base, leafCommitment: new Uint8Array(16) })).toThrow(RangeError);
    expect(() => encodeLogLeaf(suite, { ...base, source: '' })).toThrow(RangeError);
    expect(() => encodeLogLeaf(suite, { ...base, rowVersion: 2n ** 64n })).toThrow(RangeError);
  });

  it('writes a full 64-bit row version and two-byte name lengths big-endian', () => {
    const table = 'é'.repeat(150); // 300 UTF-8 bytes: the length needs both bytes
    const b = encodeLogLeaf(suite, { ...base, table, rowVersion: 0xfedcba9876543210n, leafCommitment: new Uint8Array(0), block: new Uint8Array(0) });
    expect(toHex(b.subarray(6, 8))).toBe('012c');
    expect(toHex(b.subarray(8, 308))).toBe('c3a9'.repeat(150));
    expect(toHex(b.slice(-9))).toBe('fedcba9876543210' + '00');
  });

  it('leaves from an arena equal the standalone ones and never share bytes, across chunks', () => {
    const arena = new LeafArena();
    const inputs = Array.from({ length: 1200 }, (_, i) => ({ ...base, table: `t${i % 7}`, rowVersion: BigInt(i + 1), block: new Uint8Array(i % 50).fill(i & 0xff) }));
    const leaves = inputs.map((x) => encodeLogLeaf(suite, x, arena));
    const big = encodeLogLeaf(suite, { ...base, table: 'x'.repeat(20_000) }, new LeafArena()); // no room, and over a quarter chunk: its own array
    expect(big.byteLength).toBe(big.buffer.byteLength);
    inputs.forEach((x, i) => expect(toHex(leaves[i]!)).toBe(toHex(encodeLogLeaf(suite, x))));
    const buffers = new Set(leaves.map((l) => l.buffer));
    expect(buffers.size).toBeGreaterThan(1);
    const spans = leaves.map((l) => [l.buffer, l.byteOffset, l.byteOffset + l.byteLength] as const);
    for (const buf of buffers) {
      const mine = spans.filter(([b]) => b === buf).sort((x, y) => x[1] - y[1]);
      for (let i = 1; i < mine.length; i++) expect(mine[i]![1]).toBeGreaterThanOrEqual(mine[i - 1]![2]);
    }
  });
});
