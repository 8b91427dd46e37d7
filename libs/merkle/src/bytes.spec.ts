import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWriter, toHex } from './bytes.ts';

describe('ByteWriter', () => {
  it('i64n writes the same bytes as i64 for every safe integer', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger().chain((m) => fc.constantFrom(m, -m, 0, 1, -1, 2 ** 32, -(2 ** 32), 2 ** 32 - 1, -(2 ** 31))), (v) => {
        expect(toHex(new ByteWriter().i64n(v).finish())).toBe(toHex(new ByteWriter().i64(BigInt(v)).finish()));
      }),
    );
    fc.assert(
      fc.property(fc.maxSafeInteger(), (v) => {
        expect(toHex(new ByteWriter().i64n(v).finish())).toBe(toHex(new ByteWriter().i64(BigInt(v)).finish()));
      }),
    );
    expect(() => new ByteWriter().i64n(2 ** 53)).toThrow(RangeError);
    expect(() => new ByteWriter().i64n(1.5)).toThrow(RangeError);
  });

  it('reset empties the writer and reuses it; finish copies, so earlier results stay intact', () => {
    const w = new ByteWriter(16);
    const a = w.u32(1).bytes(new Uint8Array(40).fill(7)).finish();
    expect(a.length).toBe(44);
    const b = w.reset().u8(9).finish();
    expect([...b]).toEqual([9]);
    expect(a[4]).toBe(7);
    expect(w.length).toBe(1);
  });
});
