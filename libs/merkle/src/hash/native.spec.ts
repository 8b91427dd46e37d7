import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { equalBytes, toHex } from '../bytes.ts';
import { suites } from './backend.node.ts';
import { loadNativeSha256 } from './native.ts';
import { portableSuites } from './portable.ts';

const ADDON = new URL('../../native/build/merkle_native.node', import.meta.url);
const built = existsSync(ADDON);
const native = loadNativeSha256();
const ref = portableSuites.sha256;
const RUNS = { numRuns: 150 };

const bytes = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });
const rand = (n: number): Uint8Array => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, Math.min(n, i + 65536)));
  return b;
};

describe('native SHA-256 addon', () => {
  it('is built and loads (required on CI)', (ctx) => {
    if (!built) {
      // CI builds the addon in `npm ci` (root postinstall); a missing addon there is a build regression.
      if (process.env.CI) throw new Error(`native addon missing on CI: ${ADDON.pathname} (run npm run build:native)`);
      ctx.skip(`native addon not built (${ADDON.pathname}); run npm run build:native`);
    }
    expect(native, 'addon file exists but does not load in this node').toBeDefined();
    expect(suites.sha256).toBe(native);
    expect(suites.blake3).toBe(portableSuites.blake3);
    expect(loadNativeSha256()).toBe(native);
  });
});

describe.skipIf(!native)('native SHA-256 suite agrees with the portable one', () => {
  const h = native!;

  it('known answers (FIPS 180-4), incl. one million "a"', () => {
    expect(toHex(h.digest(new Uint8Array()))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(toHex(h.digest(new TextEncoder().encode('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(toHex(h.digest(new Uint8Array(1_000_000).fill(0x61)))).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
    expect(h.name).toBe('sha256');
    expect(h.outputLength).toBe(32);
  });

  it('digest: every length 0..1100 (block and stack-buffer boundaries) and random inputs', () => {
    const big = rand(1100);
    for (let n = 0; n <= 1100; n++) expect(toHex(h.digest(big.subarray(0, n)))).toBe(toHex(ref.digest(big.subarray(0, n))));
    fc.assert(fc.property(bytes(300), (m) => toHex(h.digest(m)) === toHex(ref.digest(m))), RUNS);
  });

  it('returns a fresh plain Uint8Array each call', () => {
    const a = h.digest(new Uint8Array());
    const b = h.digest(new Uint8Array());
    expect(Object.getPrototypeOf(a)).toBe(Uint8Array.prototype);
    expect(a.length).toBe(32);
    expect(a.buffer).not.toBe(b.buffer);
  });

  it('digestPrefixed and digestPair on random inputs (empty parts included)', () => {
    fc.assert(
      fc.property(bytes(80), bytes(200), bytes(100), (p, a, b) => {
        expect(toHex(h.digestPrefixed(p, a))).toBe(toHex(ref.digestPrefixed(p, a)));
        expect(toHex(h.digestPair(p, a, b))).toBe(toHex(ref.digestPair(p, a, b)));
      }),
      RUNS,
    );
    const e = new Uint8Array();
    expect(toHex(h.digestPair(e, e, e))).toBe(toHex(ref.digest(e)));
    expect(toHex(h.digestPrefixed(e, e))).toBe(toHex(ref.digest(e)));
  });

  it('reads views at their byte offset (subarrays, Buffers)', () => {
    const backing = rand(300);
    const p = backing.subarray(3, 4);
    const a = backing.subarray(17, 49);
    const b = Buffer.from(backing.buffer, 101, 32);
    expect(toHex(h.digestPair(p, a, b))).toBe(toHex(ref.digestPair(p, a, b)));
    expect(toHex(h.digestPrefixed(p, b))).toBe(toHex(ref.digestPrefixed(p, b)));
  });

  it('1 MB messages in every method', () => {
    const m = rand(1 << 20);
    const p = Uint8Array.of(0);
    expect(toHex(h.digest(m))).toBe(toHex(ref.digest(m)));
    expect(toHex(h.digestPrefixed(p, m))).toBe(toHex(ref.digestPrefixed(p, m)));
    expect(toHex(h.digestPair(p, m, m.subarray(5)))).toBe(toHex(ref.digestPair(p, m, m.subarray(5))));
    const out = new Uint8Array(64);
    const want = new Uint8Array(64);
    h.digestPrefixedMany(p, [m, new Uint8Array()], out);
    ref.digestPrefixedMany(p, [m, new Uint8Array()], want);
    expect(toHex(out)).toBe(toHex(want));
    // 16384 pairs in one batch call.
    const o1 = new Uint8Array(1 << 19);
    const o2 = new Uint8Array(1 << 19);
    h.digestPairs(Uint8Array.of(1), m, 1 << 14, o1);
    ref.digestPairs(Uint8Array.of(1), m, 1 << 14, o2);
    expect(equalBytes(o1, o2)).toBe(true);
  });

  it('digestPairs into a separate buffer: random prefix, count, offset; bytes outside the range untouched', () => {
    fc.assert(
      fc.property(bytes(70), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }), (p, count, off, slack) => {
        const pairs = rand(64 * count + slack);
        const a = rand(off + 32 * count + slack);
        const b = a.slice();
        h.digestPairs(p, pairs, count, a, off);
        ref.digestPairs(p, pairs, count, b, off);
        expect(toHex(a)).toBe(toHex(b));
      }),
      RUNS,
    );
  });

  it('digestPairs with a prefix too long for the one-shot buffer (streaming path)', () => {
    const p = rand(2000);
    const pairs = rand(64 * 5);
    const a = new Uint8Array(160);
    const b = new Uint8Array(160);
    h.digestPairs(p, pairs, 5, a);
    ref.digestPairs(p, pairs, 5, b);
    expect(toHex(a)).toBe(toHex(b));
  });

  it('digestPairs in place (out === pairs, and overlapping views), offsets 0..64', () => {
    fc.assert(
      fc.property(bytes(3), fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 64 }), (p, count, off) => {
        const size = Math.max(64 * count, off + 32 * count);
        const a = rand(size);
        const b = a.slice();
        h.digestPairs(p, a, count, a, off);
        ref.digestPairs(p, b, count, b, off);
        expect(toHex(a)).toBe(toHex(b));
        // Same memory through two different views of one ArrayBuffer.
        const c = rand(size + 16);
        const d = c.slice();
        h.digestPairs(p, c.subarray(16), count, new Uint8Array(c.buffer, 16), off);
        ref.digestPairs(p, d.subarray(16), count, d.subarray(16), off);
        expect(toHex(c)).toBe(toHex(d));
      }),
      RUNS,
    );
  });

  it('large batches match for every overlap of out and pairs', () => {
    const count = 33_000; // > 2 x 16384: at least two threads on a multi-core machine
    const prefix = Uint8Array.of(1);
    // lead = where out starts relative to pairs, in bytes; null = separate buffers. 48 * count makes
    // the first slice's digests overwrite pairs a parallel second slice would read: must run sequentially.
    for (const lead of [null, -1000, -32, 0, 32, 64, 96, 48 * count]) {
      const before = lead !== null && lead < 0 ? -lead : 0;
      const size = before + Math.max(64 * count, (lead ?? 0) + 32 * count) + 7;
      const a = rand(size);
      const b = a.slice();
      const run = (suite: typeof h, buf: Uint8Array): Uint8Array => {
        const pairs = buf.subarray(before, before + 64 * count);
        const out = lead === null ? new Uint8Array(32 * count + 5) : buf.subarray(before + lead);
        suite.digestPairs(prefix, pairs, count, out, lead === null ? 5 : 0);
        return out;
      };
      expect(equalBytes(run(h, a), run(ref, b)), `lead ${String(lead)}`).toBe(true);
      expect(equalBytes(a, b), `lead ${String(lead)}`).toBe(true);
    }
  });

  it('digestPairs whose prefix lies inside out re-reads the overwritten prefix like the portable suite', () => {
    const a = rand(64 * 4 + 32);
    const b = a.slice();
    h.digestPairs(a.subarray(32 * 2, 32 * 2 + 5), a, 4, a, 0);
    ref.digestPairs(b.subarray(32 * 2, 32 * 2 + 5), b, 4, b, 0);
    expect(toHex(a)).toBe(toHex(b));
  });

  it('in-place level reduction down to a root matches the portable suite', () => {
    const prefix = Uint8Array.of(1);
    const n = 1000;
    const a = rand(32 * n);
    const b = a.slice();
    for (let width = n; width > 1; width = Math.ceil(width / 2)) {
      const pairs = Math.floor(width / 2);
      h.digestPairs(prefix, a, pairs, a, 0);
      ref.digestPairs(prefix, b, pairs, b, 0);
      if (width % 2) {
        a.copyWithin(32 * pairs, 32 * (width - 1), 32 * width);
        b.copyWithin(32 * pairs, 32 * (width - 1), 32 * width);
      }
    }
    expect(toHex(a.subarray(0, 32))).toBe(toHex(b.subarray(0, 32)));
  });

  it('digestPrefixedMany on random message lists (empty list, empty messages, > one chunk)', () => {
    fc.assert(
      fc.property(bytes(40), fc.array(bytes(150), { maxLength: 30 }), fc.integer({ min: 0, max: 40 }), (p, msgs, slack) => {
        const a = rand(32 * msgs.length + slack);
        const b = a.slice();
        h.digestPrefixedMany(p, msgs, a);
        ref.digestPrefixedMany(p, msgs, b);
        expect(toHex(a)).toBe(toHex(b));
      }),
      RUNS,
    );
    const msgs = Array.from({ length: 700 }, (_, i) => rand(i % 90));
    const a = new Uint8Array(32 * 700);
    const b = new Uint8Array(32 * 700);
    h.digestPrefixedMany(Uint8Array.of(0), msgs, a);
    ref.digestPrefixedMany(Uint8Array.of(0), msgs, b);
    expect(toHex(a)).toBe(toHex(b));
  });

  describe('bad arguments throw TypeError / RangeError, never crash', () => {
    const u = new Uint8Array(64);
    const notBytes: unknown[] = [undefined, null, 1, 'ab', [1, 2], {}, new ArrayBuffer(4), new Uint16Array(4), new Uint8ClampedArray(4), new DataView(new ArrayBuffer(4))];
    // The suite's static types forbid these calls; the tests make them on purpose.
    const any = h as unknown as Record<string, (...args: unknown[]) => unknown>;

    it('non-Uint8Array byte arguments are TypeErrors', () => {
      for (const x of notBytes) {
        expect(() => any.digest!(x)).toThrow(TypeError);
        expect(() => any.digestPrefixed!(x, u)).toThrow(TypeError);
        expect(() => any.digestPrefixed!(u, x)).toThrow(TypeError);
        expect(() => any.digestPair!(x, u, u)).toThrow(TypeError);
        expect(() => any.digestPair!(u, x, u)).toThrow(TypeError);
        expect(() => any.digestPair!(u, u, x)).toThrow(TypeError);
        expect(() => any.digestPairs!(x, u, 1, u)).toThrow(TypeError);
        expect(() => any.digestPairs!(u, x, 1, u)).toThrow(TypeError);
        expect(() => any.digestPairs!(u, u, 1, x)).toThrow(TypeError);
        expect(() => any.digestPrefixedMany!(x, [], u)).toThrow(TypeError);
        expect(() => any.digestPrefixedMany!(u, [], x)).toThrow(TypeError);
        expect(() => any.digestPrefixedMany!(u, [u, x], u)).toThrow(TypeError);
      }
      expect(() => any.digestPrefixedMany!(u, u, u)).toThrow(TypeError);
      expect(() => any.digestPrefixedMany!(u, 'ab', u)).toThrow(TypeError);
      expect(() => any.digest!(u)).not.toThrow();
      expect(() => any.digest!(Buffer.alloc(3))).not.toThrow();
    });

    it('count and outOffset must be non-negative safe integers', () => {
      for (const bad of ['1', 1n, null, {}, true]) {
        expect(() => any.digestPairs!(u, u, bad, u)).toThrow(TypeError);
        expect(() => any.digestPairs!(u, u, 1, u, bad)).toThrow(TypeError);
      }
      expect(() => any.digestPairs!(u, u, undefined, u)).toThrow(TypeError);
      for (const bad of [-1, 0.5, NaN, Infinity, -Infinity, 2 ** 53, -0.1]) {
        expect(() => any.digestPairs!(u, u, bad, u)).toThrow(RangeError);
        expect(() => any.digestPairs!(u, u, 1, u, bad)).toThrow(RangeError);
      }
      expect(() => any.digestPairs!(u, u, 0, u, undefined)).not.toThrow();
    });

    it('lengths and offsets out of range are RangeErrors and write nothing', () => {
      const pairs = rand(128);
      const out = new Uint8Array(64);
      expect(() => h.digestPairs(u, pairs, 3, new Uint8Array(96))).toThrow(RangeError);
      expect(() => h.digestPairs(u, pairs, 2, out, 1)).toThrow(RangeError);
      expect(() => h.digestPairs(u, pairs, 1, out, 33)).toThrow(RangeError);
      expect(() => h.digestPairs(u, pairs, 0, out, 65)).toThrow(RangeError);
      expect(() => h.digestPairs(u, pairs, 2 ** 52, out, 0)).toThrow(RangeError);
      expect(() => h.digestPairs(u, pairs, 1, out, 2 ** 53 - 1)).toThrow(RangeError);
      expect(() => h.digestPrefixedMany(u, [u, u, u], out)).toThrow(RangeError);
      expect(out.every((x) => x === 0)).toBe(true);
      expect(() => h.digestPairs(u, pairs, 0, out, 64)).not.toThrow();
    });

    it("the addon's internal *Into functions check their destination too", () => {
      const raw = createRequire(import.meta.url)(ADDON.pathname) as Record<string, (...args: unknown[]) => unknown>;
      for (const [fn, args] of [['digestInto', [u]], ['digestPrefixedInto', [u, u]], ['digestPairInto', [u, u, u]]] as const) {
        expect(() => raw[fn]!(...args, new Uint8Array(31))).toThrow(RangeError);
        expect(() => raw[fn]!(...args, new Uint16Array(32))).toThrow(TypeError);
        expect(() => raw[fn]!(...args)).toThrow(TypeError);
        const out = new Uint8Array(33);
        raw[fn]!(...args, out);
        expect(out[32]).toBe(0);
      }
    });

    it('a getter that detaches `out` mid-call is a RangeError, and one that detaches `prefix` changes nothing', () => {
      const out = new Uint8Array(32 * 300);
      const msgs: Uint8Array[] = Array.from({ length: 300 }, () => new Uint8Array(5));
      Object.defineProperty(msgs, 10, {
        get: () => {
          structuredClone(out.buffer, { transfer: [out.buffer] });
          return new Uint8Array(5);
        },
      });
      expect(() => h.digestPrefixedMany(Uint8Array.of(0), msgs, out)).toThrow(RangeError);

      const prefix = rand(300);
      const prefixCopy = prefix.slice();
      const msgs2: Uint8Array[] = [new Uint8Array(3), new Uint8Array(3)];
      Object.defineProperty(msgs2, 1, {
        get: () => {
          structuredClone(prefix.buffer, { transfer: [prefix.buffer] });
          return new Uint8Array(3);
        },
      });
      const a = new Uint8Array(64);
      const b = new Uint8Array(64);
      h.digestPrefixedMany(prefix, msgs2, a);
      ref.digestPrefixedMany(prefixCopy, [new Uint8Array(3), new Uint8Array(3)], b);
      expect(toHex(a)).toBe(toHex(b));
    });
  });
});

describe.skipIf(!native)('scratch path: fresh on-heap inputs, chaining, re-entrancy', () => {
  const h = native!;
  // The raw addon module is shared with the loader (require cache): its scratch is already taken.
  const raw = createRequire(import.meta.url)(ADDON.pathname) as Record<string, unknown> & {
    scratchLayout: { inputMax: number; size: number; dataAt: number; prefixMax: number; countMax: number };
  };
  const L = raw.scratchLayout;
  const fn = (name: string) => raw[name] as (...args: unknown[]) => unknown;

  it('chained digestPair / digestPrefixed / digest over fresh small arrays (each output feeds the next call)', () => {
    const p = Uint8Array.of(1);
    const packed = rand(32 * 500);
    let a: Uint8Array = new Uint8Array(32);
    let b: Uint8Array = new Uint8Array(32);
    for (let i = 0; i < 3000; i++) {
      const sib = packed.slice(32 * (i % 500), 32 * (i % 500) + 32); // fresh, on-heap
      const x = i % 2 ? h.digestPair(p, a, sib) : h.digestPair(p, sib, a);
      const y = i % 2 ? ref.digestPair(p, b, sib) : ref.digestPair(p, sib, b);
      a = i % 3 === 0 ? h.digestPrefixed(p, x) : i % 3 === 1 ? h.digest(x) : x;
      b = i % 3 === 0 ? ref.digestPrefixed(p, y) : i % 3 === 1 ? ref.digest(y) : y;
    }
    expect(toHex(a)).toBe(toHex(b));
  });

  it('outputs are independent fresh arrays, unaffected by later calls', () => {
    const e = new Uint8Array();
    const r1 = h.digestPair(e, Uint8Array.of(1), Uint8Array.of(2));
    const keep = toHex(r1);
    const r2 = h.digestPair(e, Uint8Array.of(3), Uint8Array.of(4));
    expect(toHex(r1)).toBe(keep);
    expect(r1.buffer).not.toBe(r2.buffer);
    expect(r1.buffer.byteLength).toBe(32);
    expect(Object.getPrototypeOf(r2)).toBe(Uint8Array.prototype);
  });

  it('messages around the scratch input limit take either path and agree', () => {
    const m = rand(2 * L.inputMax);
    for (let n = L.inputMax - 70; n <= L.inputMax + 70; n++) {
      const msg = m.subarray(0, n);
      expect(toHex(h.digest(msg))).toBe(toHex(ref.digest(msg)));
      const cut = n >> 1;
      expect(toHex(h.digestPrefixed(msg.subarray(0, 3), msg.subarray(3)))).toBe(toHex(ref.digest(msg)));
      expect(toHex(h.digestPair(msg.subarray(0, 1), msg.subarray(1, cut), msg.subarray(cut)))).toBe(toHex(ref.digest(msg)));
    }
  });

  it('reads the bytes, not an own `length` property, and runs no user JS mid-call', () => {
    const clean = rand(32);
    const spoofed = clean.slice();
    Object.defineProperty(spoofed, 'length', { value: 3 });
    expect(toHex(h.digest(spoofed))).toBe(toHex(ref.digest(clean)));
    const p = Uint8Array.of(1);
    const sneaky = clean.slice();
    let ran = 0;
    Object.defineProperty(sneaky, 'length', {
      get: () => {
        ran++;
        h.digestPair(p, rand(32), rand(32)); // would clobber the scratch if it ran mid-call
        return 32;
      },
    });
    expect(toHex(h.digestPair(p, sneaky, clean))).toBe(toHex(ref.digestPair(p, clean, clean)));
    expect(ran).toBe(0);
  });

  it('accepts Uint8Arrays from another realm, rejects other views from it, and rejects detached inputs', () => {
    const foreign = vm.runInNewContext('new Uint8Array([97, 98, 99])') as Uint8Array;
    expect(toHex(h.digestPair(foreign, foreign, foreign))).toBe(toHex(ref.digest(new TextEncoder().encode('abcabcabc'))));
    expect(() => h.digest(vm.runInNewContext('new Uint16Array(3)') as Uint8Array)).toThrow(TypeError);
    const gone = new Uint8Array(8);
    structuredClone(gone.buffer, { transfer: [gone.buffer] });
    expect(() => h.digest(gone)).toThrow(TypeError);
    expect(() => h.digestPair(Uint8Array.of(1), gone, gone)).toThrow(TypeError);
    expect(toHex(h.digest(Uint8Array.of(1)))).toBe(toHex(ref.digest(Uint8Array.of(1)))); // still usable after a throw
  });

  it('digestPrefixedMany over fresh leaves: several flushes, mixed and oversized lengths', () => {
    const leaves = Array.from({ length: 5000 }, (_, i) => new Uint8Array(32).fill(i));
    const a = new Uint8Array(32 * 5000);
    const b = new Uint8Array(32 * 5000);
    h.digestPrefixedMany(Uint8Array.of(0), leaves, a);
    ref.digestPrefixedMany(Uint8Array.of(0), leaves, b);
    expect(equalBytes(a, b)).toBe(true);

    const room = L.size - L.dataAt; // bytes for prefix + packed messages per native call
    const lens = [0, 33, 32, 32, 31, room - 3, 5, room - 2, room - 1, room, 5 * room, 0, 7, 7, 64, 65, 1000, 2000, room >> 1, room >> 1, 1];
    const msgs = lens.map((n) => rand(n));
    for (const prefix of [new Uint8Array(), Uint8Array.of(9, 9), rand(L.prefixMax), rand(L.prefixMax + 1)]) {
      const x = new Uint8Array(32 * msgs.length + 3);
      const y = new Uint8Array(32 * msgs.length + 3);
      h.digestPrefixedMany(prefix, msgs, x);
      ref.digestPrefixedMany(prefix, msgs, y);
      expect(toHex(x), `prefix ${prefix.length}`).toBe(toHex(y));
    }
  });

  it('digestPrefixedMany: random lists around the per-call count limit', () => {
    fc.assert(
      fc.property(bytes(4), fc.integer({ min: L.countMax - 3, max: L.countMax + 3 }), fc.integer({ min: 0, max: 40 }), fc.boolean(), (p, n, len, vary) => {
        const msgs = Array.from({ length: n }, (_, i) => rand(vary ? (len + i) % 41 : len));
        const x = new Uint8Array(32 * n);
        const y = new Uint8Array(32 * n);
        h.digestPrefixedMany(p, msgs, x);
        ref.digestPrefixedMany(p, msgs, y);
        expect(equalBytes(x, y)).toBe(true);
      }),
      { numRuns: 20 },
    );
  });

  it('digestPrefixedMany: getters and proxies that call the suite mid-call change nothing', () => {
    const prefix = Uint8Array.of(0);
    const plain = Array.from({ length: 2100 }, (_, i) => rand(i % 50));
    const want = new Uint8Array(32 * plain.length);
    ref.digestPrefixedMany(prefix, plain, want);
    const nestedWant = new Uint8Array(32 * 40);
    const nestedMsgs = plain.slice(0, 40);
    ref.digestPrefixedMany(Uint8Array.of(7), nestedMsgs, nestedWant);
    let nested: Uint8Array | undefined;

    const tricky = plain.slice();
    for (const at of [0, 3, 1023, 1024, 1500, 2099]) {
      Object.defineProperty(tricky, at, {
        get: () => {
          nested = new Uint8Array(32 * 40);
          h.digestPrefixedMany(Uint8Array.of(7), nestedMsgs, nested); // nested batch
          h.digestPair(prefix, rand(32), rand(32)); // single-digest scratch
          h.digest(rand(100_000)); // Node-API path
          return plain[at];
        },
      });
    }
    const got = new Uint8Array(32 * plain.length);
    h.digestPrefixedMany(prefix, tricky, got);
    expect(equalBytes(got, want)).toBe(true);
    expect(equalBytes(nested!, nestedWant)).toBe(true);

    const proxied = new Proxy(plain, {
      get: (t, k, r) => {
        if (k === '700') h.digestPrefixedMany(prefix, plain.slice(0, 5), new Uint8Array(160));
        return Reflect.get(t, k, r);
      },
    });
    const got2 = new Uint8Array(32 * plain.length);
    h.digestPrefixedMany(prefix, proxied, got2);
    expect(equalBytes(got2, want)).toBe(true);
    // The busy flag is released after a throw, so later calls take the scratch path again.
    expect(() => h.digestPrefixedMany(prefix, [plain[0]!, 5 as unknown as Uint8Array], new Uint8Array(64))).toThrow(TypeError);
    const again = new Uint8Array(32 * 3);
    h.digestPrefixedMany(prefix, plain.slice(0, 3), again);
    expect(equalBytes(again, want.subarray(0, 96))).toBe(true);
  });

  it('digestPrefixedMany: a getter that shrinks a resizable `out` mid-call is a RangeError', () => {
    // Resizable ArrayBuffer (ES2024; this project's TS lib predates it).
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
    const ab = new Resizable(32 * 2000, { maxByteLength: 32 * 2000 });
    const out = new Uint8Array(ab);
    const msgs = Array.from({ length: 2000 }, () => new Uint8Array(32));
    Object.defineProperty(msgs, 1500, {
      get: () => {
        ab.resize(32 * 100);
        return new Uint8Array(32);
      },
    });
    expect(() => h.digestPrefixedMany(Uint8Array.of(0), msgs, out)).toThrow(RangeError);
  });

  it('digestPairs over small on-heap arrays (fresh pairs, fresh out) matches, also chained', () => {
    const p = Uint8Array.of(1);
    let a: Uint8Array = new Uint8Array(32);
    let b: Uint8Array = new Uint8Array(32);
    for (let i = 0; i < 500; i++) {
      const sib = rand(32);
      const pa = new Uint8Array(64);
      pa.set(a);
      pa.set(sib, 32);
      const pb = new Uint8Array(64);
      pb.set(b);
      pb.set(sib, 32);
      const oa = new Uint8Array(32);
      const ob = new Uint8Array(32);
      h.digestPairs(p, pa, 1, oa);
      ref.digestPairs(p, pb, 1, ob);
      a = oa;
      b = ob;
    }
    expect(toHex(a)).toBe(toHex(b));
    // in place on a 64-byte on-heap array
    const x = rand(64);
    const y = x.slice();
    h.digestPairs(p, x, 1, x, 0);
    ref.digestPairs(p, y, 1, y, 0);
    expect(toHex(x)).toBe(toHex(y));
  });

  it('in worker threads: each has its own scratch, and a taken scratch falls back to the per-call path', async () => {
    // Plain Node in the worker (no vitest transform): it strips the loader's types itself.
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const { createRequire } = require('node:module');
      (async () => {
        if (workerData.take) createRequire(workerData.addon)(workerData.addon).takeScratch();
        const { loadNativeSha256 } = await import(workerData.loader);
        const h = loadNativeSha256();
        const p = Uint8Array.of(1);
        let r = new Uint8Array(32);
        for (let i = 0; i < 1000; i++) r = h.digestPair(p, r, new Uint8Array(32).fill(i));
        const out = new Uint8Array(32 * 3000);
        h.digestPrefixedMany(Uint8Array.of(0), Array.from({ length: 3000 }, (_, i) => new Uint8Array(i % 40).fill(i)), out);
        parentPort.postMessage({ r, out, d: h.digest(Uint8Array.of(97, 98, 99)) });
      })().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));`;
    const p = Uint8Array.of(1);
    let r: Uint8Array = new Uint8Array(32);
    for (let i = 0; i < 1000; i++) r = ref.digestPair(p, r, new Uint8Array(32).fill(i));
    const out = new Uint8Array(32 * 3000);
    ref.digestPrefixedMany(Uint8Array.of(0), Array.from({ length: 3000 }, (_, i) => new Uint8Array(i % 40).fill(i)), out);
    const run = (take: boolean) =>
      new Promise<{ r: Uint8Array; out: Uint8Array; d: Uint8Array; error?: string }>((resolve, reject) => {
        const w = new Worker(code, {
          eval: true,
          workerData: { take, addon: ADDON.pathname, loader: new URL('./native.ts', import.meta.url).href },
        });
        w.once('message', (m) => void w.terminate().then(() => resolve(m)));
        w.once('error', reject);
      });
    for (const res of await Promise.all([run(false), run(true), run(false)])) {
      expect(res.error).toBeUndefined();
      expect(toHex(res.r)).toBe(toHex(r));
      expect(equalBytes(res.out, out)).toBe(true);
      expect(toHex(res.d)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    }
  });

  it('the scratch internals: taken once, and every argument re-checked in C', () => {
    expect(() => fn('takeScratch')()).toThrow(/already in use/);
    expect(() => fn('hashScratch')(L.inputMax + 1)).toThrow(RangeError);
    expect(() => fn('hashScratch')('1')).toThrow(TypeError);
    expect(() => fn('manyScratch')(L.prefixMax + 1, 0, new Uint8Array(0), 0)).toThrow(RangeError);
    expect(() => fn('manyScratch')(0, L.countMax + 1, new Uint8Array(32 * (L.countMax + 1)), 0)).toThrow(RangeError);
    expect(() => fn('manyScratch')(0, 1, new Uint8Array(31), 0)).toThrow(RangeError);
    expect(() => fn('manyScratch')(0, 1, new Uint16Array(16), 0)).toThrow(TypeError);
    expect(typeof raw.shaniPath).toBe('boolean');
  });
});
