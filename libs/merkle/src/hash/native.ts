// Node-only: loads the optional C addon (libs/merkle/native) that hashes SHA-256 with the OpenSSL
// inside the running node binary. Imported only by backend.node.ts, never by browser builds.
import { createRequire } from 'node:module';
import type { HashSuite } from './suite.ts';

/** The functions the addon exports (see native/merkle_native.c); the *Into ones write 32 bytes to `out`. */
interface _NativeAddon {
  readonly digestInto: (msg: Uint8Array, out: Uint8Array) => void;
  readonly digestPrefixedInto: (prefix: Uint8Array, msg: Uint8Array, out: Uint8Array) => void;
  readonly digestPairInto: (prefix: Uint8Array, a: Uint8Array, b: Uint8Array, out: Uint8Array) => void;
  readonly digestPairs: HashSuite['digestPairs'];
  readonly digestPrefixedMany: HashSuite['digestPrefixedMany'];
  /** The addon's scratch region; callable once per thread (see docs/native.md, "Scratch region"). */
  readonly takeScratch?: () => ArrayBuffer | undefined;
  /** scratch[digestAt..+32] = H(scratch[inputAt .. inputAt+len]). */
  readonly hashScratch?: (len: number) => void;
  /** out[outOffset+32i..+32] = H(data[0..prefixLen] || data[e(i-1)..e(i)]), e = the Uint32 ends, e(-1) = prefixLen. */
  readonly manyScratch?: (prefixLen: number, count: number, out: Uint8Array, outOffset: number) => void;
  readonly scratchLayout?: _ScratchLayout;
}

/** Byte offsets of the scratch region, as the C side defines them. */
interface _ScratchLayout {
  readonly size: number;
  readonly digestAt: number;
  readonly inputAt: number;
  readonly inputMax: number;
  readonly endsAt: number;
  readonly countMax: number;
  readonly dataAt: number;
  readonly prefixMax: number;
}

// Relative to this file in the source tree; through the package's exports when this module is bundled
// into a service (dist/apps/<name>/main.js), where the relative path no longer points at libs/merkle.
const _ADDON_PATHS = ['../../native/build/merkle_native.node', '@merklesync/merkle/native/build/merkle_native.node'];
// SHA-256("abc"), FIPS 180-4: a load-time check that the addon hashes what it claims to.
const _ABC = Uint8Array.of(0x61, 0x62, 0x63);
const _ABC_SHA256 = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

// The intrinsic getters, called directly: they read the internal slots, so an own `length`
// property or a subclass cannot make a method run JS after it has started writing the scratch
// region, and they accept Uint8Arrays (and Buffers) from any realm, as Node-API does.
const _TYPED_ARRAY_PROTO = Object.getPrototypeOf(Uint8Array.prototype) as object;
const _tag = Reflect.get(Object.getOwnPropertyDescriptor(_TYPED_ARRAY_PROTO, Symbol.toStringTag)!, 'get') as (this: unknown) => string | undefined;
const _len = Reflect.get(Object.getOwnPropertyDescriptor(_TYPED_ARRAY_PROTO, 'length')!, 'get') as (this: Uint8Array) => number;

function _isU8(x: unknown): x is Uint8Array {
  return _tag.call(x) === 'Uint8Array';
}

function _typeError(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_TYPE' });
}

function _rangeError(message: string): RangeError {
  return Object.assign(new RangeError(message), { code: 'ERR_OUT_OF_RANGE' });
}

let _cached: HashSuite | null | undefined;

function _hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/**
 * The fallback when the scratch region is unavailable: every byte argument goes through
 * napi_get_typedarray_info, which must move a fresh on-heap (<= 64-byte) array off-heap first.
 * The digest is written to one reused 32-byte array and copied out (a C-created Uint8Array would
 * cost an off-heap ArrayBuffer per call).
 */
function _perCallSuite(addon: _NativeAddon): HashSuite {
  const slot = new Uint8Array(32);
  const { digestInto, digestPrefixedInto, digestPairInto } = addon;
  return Object.freeze({
    name: 'sha256',
    outputLength: 32,
    digest(msg: Uint8Array): Uint8Array {
      digestInto(msg, slot);
      return new Uint8Array(slot);
    },
    digestPrefixed(prefix: Uint8Array, msg: Uint8Array): Uint8Array {
      digestPrefixedInto(prefix, msg, slot);
      return new Uint8Array(slot);
    },
    digestPair(prefix: Uint8Array, a: Uint8Array, b: Uint8Array): Uint8Array {
      digestPairInto(prefix, a, b, slot);
      return new Uint8Array(slot);
    },
    digestPairs: addon.digestPairs,
    digestPrefixedMany: addon.digestPrefixedMany,
  } as const);
}

/**
 * The fast suite: small inputs are copied with `set` (a memcpy, whatever the heap the source lives
 * on) into the addon's scratch region, and the native calls take only integers.
 *
 * Re-entrancy: the single-digest methods run no user JS between their first write to the region
 * and their copy of the digest out (intrinsic getters, `set` from a checked Uint8Array, a native
 * call, a copying constructor). digestPrefixedMany does run user JS while packing (array getters,
 * proxies), so it packs into its own part of the region, which the single-digest methods never
 * touch, and a nested digestPrefixedMany takes the addon's Node-API path instead.
 */
function _scratchSuite(addon: _NativeAddon, buffer: ArrayBuffer, L: _ScratchLayout): HashSuite {
  const hashScratch = addon.hashScratch!;
  const manyScratch = addon.manyScratch!;
  const { digestInto, digestPrefixedInto, digestPairInto } = addon;
  const nativeMany = addon.digestPrefixedMany;
  const S = new Uint8Array(buffer);
  const slot = S.subarray(L.digestAt, L.digestAt + 32);
  const IN = L.inputAt;
  const IN_MAX = L.inputMax;
  const ends = new Uint32Array(buffer, L.endsAt, L.countMax);
  const COUNT_MAX = L.countMax;
  const DATA = L.dataAt;
  const DATA_MAX = L.size - L.dataAt;
  const PREFIX_MAX = L.prefixMax;
  let manyBusy = false;

  // Messages too long for the region are at least 65 bytes, so V8 keeps them off-heap and the
  // Node-API path costs no allocation for them.
  return Object.freeze({
    name: 'sha256',
    outputLength: 32,
    digest(msg: Uint8Array): Uint8Array {
      if (_isU8(msg)) {
        const n = _len.call(msg);
        if (n <= IN_MAX) {
          S.set(msg, IN);
          hashScratch(n);
          return new Uint8Array(slot);
        }
      }
      digestInto(msg, slot);
      return new Uint8Array(slot);
    },
    digestPrefixed(prefix: Uint8Array, msg: Uint8Array): Uint8Array {
      if (_isU8(prefix) && _isU8(msg)) {
        const pl = _len.call(prefix);
        const n = pl + _len.call(msg);
        if (n <= IN_MAX) {
          S.set(prefix, IN);
          S.set(msg, IN + pl);
          hashScratch(n);
          return new Uint8Array(slot);
        }
      }
      digestPrefixedInto(prefix, msg, slot);
      return new Uint8Array(slot);
    },
    digestPair(prefix: Uint8Array, a: Uint8Array, b: Uint8Array): Uint8Array {
      if (_isU8(prefix) && _isU8(a) && _isU8(b)) {
        const pl = _len.call(prefix);
        const al = _len.call(a);
        const n = pl + al + _len.call(b);
        if (n <= IN_MAX) {
          S.set(prefix, IN);
          S.set(a, IN + pl);
          S.set(b, IN + pl + al);
          hashScratch(n);
          return new Uint8Array(slot);
        }
      }
      digestPairInto(prefix, a, b, slot);
      return new Uint8Array(slot);
    },
    // Packed buffers are large (off-heap) in every real use, and a JS wrapper would only add a call.
    digestPairs: addon.digestPairs,
    digestPrefixedMany(prefix: Uint8Array, msgs: readonly Uint8Array[], out: Uint8Array): void {
      // Wrong types, a too-short out and nested calls: the Node-API path checks and throws, or hashes.
      if (manyBusy || !_isU8(prefix) || !_isU8(out) || !Array.isArray(msgs)) return nativeMany(prefix, msgs, out);
      const pl = _len.call(prefix);
      const n = msgs.length;
      if (pl > PREFIX_MAX || n > _len.call(out) / 32) return nativeMany(prefix, msgs, out);
      manyBusy = true;
      try {
        // The prefix is copied first, so a getter that detaches it changes nothing.
        S.set(prefix, DATA);
        let at = pl; // end of the packed bytes, relative to DATA
        let k = 0; // messages packed and not yet hashed
        let base = 0; // index of the first of them
        for (let i = 0; i < n; i++) {
          const m: unknown = msgs[i]; // Array.isArray narrowed msgs to any[]
          if (!_isU8(m)) throw _typeError('every element of msgs must be a Uint8Array');
          const len = _len.call(m);
          if (at + len > DATA_MAX || k === COUNT_MAX) {
            // manyScratch re-reads and re-checks out, which a getter may have detached or shrunk.
            if (k !== 0) manyScratch(pl, k, out, 32 * base);
            base = i;
            k = 0;
            at = pl;
            if (pl + len > DATA_MAX) {
              // Larger than the data area (so off-heap): hash it where it is.
              digestPrefixedInto(S.subarray(DATA, DATA + pl), m, slot);
              if (_len.call(out) < 32 * (i + 1)) throw _rangeError('out is shorter than 32 * msgs.length bytes');
              out.set(slot, 32 * i);
              base = i + 1;
              continue;
            }
          }
          S.set(m, DATA + at);
          at += len;
          ends[k++] = at;
        }
        if (k !== 0) manyScratch(pl, k, out, 32 * base);
      } finally {
        manyBusy = false;
      }
    },
  } as const);
}

function _load(): HashSuite | undefined {
  let addon: _NativeAddon | undefined;
  const require = createRequire(import.meta.url);
  for (const path of _ADDON_PATHS) {
    try {
      addon = require(path) as _NativeAddon;
      break;
    } catch {
      // Not built (no compiler at install time), built for another platform, or OpenSSL symbols
      // missing from this node binary: try the next path, then fall back to the WebAssembly suite.
    }
  }
  if (addon === undefined) return undefined;
  let suite: HashSuite;
  let buffer: ArrayBuffer | undefined;
  try {
    // Throws when something else in this thread already took the region (someone loaded the raw addon).
    buffer = addon.takeScratch?.();
  } catch {
    buffer = undefined;
  }
  const L = addon.scratchLayout;
  if (buffer instanceof ArrayBuffer && L && buffer.byteLength === L.size) suite = _scratchSuite(addon, buffer, L);
  else suite = _perCallSuite(addon);
  try {
    if (_hex(suite.digest(_ABC)) !== _ABC_SHA256) return undefined;
  } catch {
    return undefined;
  }
  return suite;
}

/**
 * The native SHA-256 suite, or `undefined` when the addon is not built or does not load here.
 * Byte-identical to the portable suite; unlike it, every method validates its arguments
 * (the functions are C, so a bad argument must never reach memory).
 * Loads at most once per process (per worker thread); later calls return the same object.
 * @throws never — a load failure is reported as `undefined`. The returned methods throw
 *   TypeError for a non-Uint8Array / non-number argument or a detached input, and RangeError for
 *   a negative or fractional count/offset or a too-short `pairs`/`out`.
 * @example const h = loadNativeSha256() ?? getPortableHashSuite('sha256'); h.digest(new Uint8Array())
 */
export function loadNativeSha256(): HashSuite | undefined {
  if (_cached === undefined) _cached = _load() ?? null;
  return _cached ?? undefined;
}
