import { describe, expect, it } from 'vitest';
import { perKeyArray } from './key-cache.ts';

describe('perKeyArray', () => {
  it('derives once per key array, again after an in-place change, and from a copy the caller cannot change', () => {
    const seen: Uint8Array[] = [];
    const sum = perKeyArray((k) => {
      seen.push(k);
      return k.reduce((a, b) => a + b, 0);
    });
    const key = Buffer.from([1, 2, 3]); // Buffer: its slice() would be a view, not a copy
    expect(sum(key)).toBe(6);
    expect(sum(key)).toBe(6);
    expect(seen).toHaveLength(1);
    key[0] = 10;
    expect(seen[0]![0]).toBe(1); // derive got a copy
    expect(sum(key)).toBe(15);
    expect(seen).toHaveLength(2);
    expect(sum(Uint8Array.of(1, 2, 3))).toBe(6); // another array with the first bytes: its own entry
    expect(seen).toHaveLength(3);
  });
});
