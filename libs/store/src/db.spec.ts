import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { _sortedByBytes } from './db.ts';

const byBufferCompare = (keys: Uint8Array[]): Uint8Array[] => [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

describe('_sortedByBytes', () => {
  it('orders like Buffer.compare (bytea order), keys of any length, ties broken past the first 8 bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 12 }), { maxLength: 60 }), (keys) => {
        expect(_sortedByBytes(keys, (k) => k).map((k) => [...k])).toEqual(byBufferCompare(keys).map((k) => [...k]));
      }),
    );
    const same8 = [Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1, 9), Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1, 2), Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1)];
    expect(_sortedByBytes(same8, (k) => k).map((k) => k.length === 8 ? -1 : k[8])).toEqual([-1, 2, 9]);
  });

  it('returns a new array and keeps the items', () => {
    const items = [{ k: Uint8Array.of(2) }, { k: Uint8Array.of(1) }];
    const out = _sortedByBytes(items, (i) => i.k);
    expect(out).not.toBe(items);
    expect(out).toEqual([items[1], items[0]]);
  });
});
