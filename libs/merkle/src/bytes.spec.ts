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

  it('lenUtf8 writes what lenBytes of TextEncoder.encode writes, lone surrogates included, after any prefix', () => {
    const enc = new TextEncoder();
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ maxLength: 600 }));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 64 }), text, text, (prefix, capacity, s, s2) => {
        const w = new ByteWriter(capacity).bytes(new Uint8Array(prefix).fill(0xee)).lenUtf8(s).lenUtf8(s2).u8(0x42);
        const ref = new ByteWriter().bytes(new Uint8Array(prefix).fill(0xee)).lenBytes(enc.encode(s)).lenBytes(enc.encode(s2)).u8(0x42);
        expect(toHex(w.finish())).toBe(toHex(ref.finish()));
      }),
      { numRuns: 500 },
    );
    expect(toHex(new ByteWriter().lenUtf8('').finish())).toBe('00000000');
    expect(toHex(new ByteWriter().lenUtf8('a\u00e9\u{1f600}').finish())).toBe('0000000761c3a9f09f9880');
  });
});
