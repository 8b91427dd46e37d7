import { describe, expect, it } from 'vitest';
import { ScratchBuffers } from './scratch.ts';

const MiB = 1024 * 1024;

describe('ScratchBuffers', () => {
  it('hands out exactly the size asked, and reuses a buffer given back', () => {
    const s = new ScratchBuffers();
    const a = s.take(1000);
    expect(a.length).toBe(1000);
    expect(a.byteOffset).toBe(0);
    const mem = a.buffer;
    expect(mem.byteLength).toBeGreaterThanOrEqual(1000);
    s.give(a);
    expect(s.freeBytes).toBe(mem.byteLength);
    const b = s.take(5000);
    expect(b.buffer).toBe(mem); // same memory, a new view of the new size
    expect(b.length).toBe(5000);
    expect(s.freeBytes).toBe(0);
    // Taken and not given back: the next take gets other memory.
    expect(s.take(10).buffer).not.toBe(mem);
  });

  it('takes the smallest free buffer that holds the size, and allocates when none does', () => {
    const s = new ScratchBuffers();
    const small = s.take(300 * 1024);
    const big = s.take(3 * MiB);
    s.give(big);
    s.give(small);
    expect(s.take(200 * 1024).buffer).toBe(small.buffer);
    const huge = s.take(5 * MiB);
    expect(huge.buffer).not.toBe(big.buffer);
    expect(s.take(2 * MiB).buffer).toBe(big.buffer);
  });

  it('ignores what it did not hand out whole, and a second give of the same memory', () => {
    const s = new ScratchBuffers();
    s.give(Buffer.from('pooled slice')); // a slice of Node's shared pool: offset, small memory
    s.give(new Uint8Array(new ArrayBuffer(4 * MiB), 16)); // not from its first byte
    expect(s.freeBytes).toBe(0);
    const a = s.take(MiB);
    s.give(a);
    s.give(a);
    expect(s.freeBytes).toBe(a.buffer.byteLength);
  });

  it('keeps at most maxBuffers free buffers (the bigger ones) and maxBytes free bytes', () => {
    const s = new ScratchBuffers(2, 8 * MiB);
    const [a, b, c] = [s.take(MiB), s.take(2 * MiB), s.take(3 * MiB)];
    s.give(a);
    s.give(b);
    s.give(c); // full: c replaces the smallest, a
    expect(s.freeBytes).toBe(b.buffer.byteLength + c.buffer.byteLength);
    const d = s.take(6 * MiB);
    s.give(d); // would exceed 8 MiB: left to the collector
    expect(s.freeBytes).toBe(b.buffer.byteLength + c.buffer.byteLength);
    const none = new ScratchBuffers(0);
    none.give(none.take(MiB));
    expect(none.freeBytes).toBe(0);
  });

  it('rejects bad sizes and limits with a RangeError naming them', () => {
    const s = new ScratchBuffers();
    expect(() => s.take(-1)).toThrow(/size/);
    expect(() => s.take(1.5)).toThrow(RangeError);
    expect(() => new ScratchBuffers(-1)).toThrow(/maxBuffers/);
    expect(() => new ScratchBuffers(1, Number.NaN)).toThrow(/maxBytes/);
  });
});
