import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { _sortedByBytes } from './db.ts';
import { binaryCopyOfMapNodes } from './map/copy.ts';
import { encodeMapNode } from './map/node-codec.ts';

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

describe('binaryCopyOfMapNodes', () => {
  it('writes the PGCOPY header, one (suite, hash, node) tuple per node in the storage encoding, and the trailer', () => {
    const leaf = { type: 'leaf', key: new Uint8Array(32).fill(7), value: Uint8Array.of(1, 2, 3) } as const;
    const branch = { type: 'branch', bit: 5, left: new Uint8Array(32).fill(1), right: new Uint8Array(32).fill(2), minKey: new Uint8Array(32).fill(3) } as const;
    const nodes = [
      { hash: new Uint8Array(32).fill(0xaa), node: leaf },
      { hash: new Uint8Array(32).fill(0xbb), node: branch },
    ];
    const out = binaryCopyOfMapNodes(1, nodes);
    expect(out.subarray(0, 11).toString('latin1')).toBe('PGCOPY\n\xff\r\n\0');
    let o = 19;
    for (const n of nodes) {
      expect(out.readInt16BE(o)).toBe(3);
      expect(out.readInt32BE(o + 2)).toBe(2);
      expect(out.readInt16BE(o + 6)).toBe(1);
      expect(out.readInt32BE(o + 8)).toBe(32);
      expect([...out.subarray(o + 12, o + 44)]).toEqual([...n.hash]);
      const enc = encodeMapNode(n.node);
      expect(out.readInt32BE(o + 44)).toBe(enc.length);
      expect([...out.subarray(o + 48, o + 48 + enc.length)]).toEqual([...enc]);
      o += 48 + enc.length;
    }
    expect(out.readInt16BE(o)).toBe(-1);
    expect(out.length).toBe(o + 2);
  });

  it('byHash: the same rows as encoding the nodes sorted by hash (Buffer.compare order), for any nodes', () => {
    const node = fc.oneof(
      fc.record({ type: fc.constant('leaf' as const), key: fc.uint8Array({ minLength: 32, maxLength: 32 }), value: fc.uint8Array({ maxLength: 40 }) }),
      fc.record({ type: fc.constant('branch' as const), bit: fc.integer({ min: 0, max: 255 }), left: fc.uint8Array({ minLength: 32, maxLength: 32 }), right: fc.uint8Array({ minLength: 32, maxLength: 32 }), minKey: fc.uint8Array({ minLength: 32, maxLength: 32 }) }),
    );
    // Hashes that often share their first 8 bytes, so the tie-break on the remaining 24 is exercised.
    const hash = fc.tuple(fc.constantFrom(new Uint8Array(8), new Uint8Array(8).fill(255)), fc.uint8Array({ minLength: 24, maxLength: 24 })).map(([p, r]) => Uint8Array.of(...p, ...r));
    fc.assert(
      fc.property(fc.array(fc.record({ hash: fc.oneof(hash, fc.uint8Array({ minLength: 32, maxLength: 32 })), node }), { maxLength: 40 }), (nodes) => {
        const want = binaryCopyOfMapNodes(3, [...nodes].sort((a, b) => Buffer.compare(Buffer.from(a.hash), Buffer.from(b.hash))));
        expect(binaryCopyOfMapNodes(3, nodes, { byHash: true }).toString('hex')).toBe(want.toString('hex'));
      }),
    );
  });

  it('rejects a hash that is not 32 bytes', () => {
    expect(() => binaryCopyOfMapNodes(0, [{ hash: new Uint8Array(31), node: { type: 'leaf', key: new Uint8Array(32), value: new Uint8Array(0) } }])).toThrow(RangeError);
  });
});
