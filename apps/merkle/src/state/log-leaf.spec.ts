import { describe, expect, it } from 'vitest';
import { getHashSuite, toHex } from '@merklesync/merkle';
import { encodeLogLeaf } from './log-leaf.ts';

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
});
