// Node-only: loads the optional C addon (libs/crypto/native) that seals AES-256-GCM with the OpenSSL inside the
// running node binary. Imported only by node.ts, never by browser builds.
import { type KeyObject, createCipheriv } from 'node:crypto';
import { createRequire } from 'node:module';
import { equalBytes } from '@merklesync/merkle';
import { perKeyArray } from './key-cache.ts';

/** The functions the addon exports (see native/crypto_native.c). */
interface _Addon {
  /** A handle holding an OpenSSL context keyed with the 32-byte key (the key bytes are not kept). */
  readonly gcmKey: (key: Uint8Array) => object;
  /** out (exactly plaintext.length + 16 bytes, not overlapping the inputs) = ciphertext || tag. */
  readonly gcmSeal: (handle: object, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, out: Uint8Array) => void;
}

/** AES-256-GCM sealing with a 12-byte nonce and a 16-byte tag, byte-identical to node:crypto's. */
export interface NativeGcm {
  /**
   * Writes ciphertext || tag of `plaintext` into `out`, which must be exactly plaintext.length + 16 bytes and must
   * not overlap the inputs. Keeps no reference to its inputs.
   * @throws TypeError for a non-Uint8Array argument; RangeError for a key that is not 32 bytes, a nonce that is not
   *   12 bytes, a wrong-sized or overlapping `out`.
   */
  sealInto(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, out: Uint8Array): void;
}

// Relative to this file in the source tree; through the package's exports when this module is bundled into a
// service (dist/apps/<name>/main.js), where the relative path no longer points at libs/crypto.
const _ADDON_PATHS = ['../../native/build/crypto_native.node', '@merklesync/crypto/native/build/crypto_native.node'];

// V8 keeps typed arrays of up to 64 bytes inside the JS heap, and Node-API must move such an array's bytes off
// the heap (a new backing store) before C may read it: about 0.8 µs, more than the seal of a 300-byte row. Short
// arguments are therefore copied into these long-lived arrays, which live off the heap after their first use.
const _SMALL = 64;

/** The sealer over the addon: key handles cached per key array (data keys are long-lived arrays). */
function _sealer(addon: _Addon): NativeGcm {
  const handleOf = perKeyArray((key) => addon.gcmKey(key));
  const nonceSlot = new Uint8Array(new ArrayBuffer(12));
  const ptSlot = new Uint8Array(new ArrayBuffer(_SMALL));
  const aadSlot = new Uint8Array(new ArrayBuffer(_SMALL));
  const outSlot = new Uint8Array(new ArrayBuffer(_SMALL + 16));
  const small = (x: Uint8Array, slot: Uint8Array): Uint8Array => {
    if (!(x instanceof Uint8Array) || x.length > _SMALL) return x; // the addon checks the type
    slot.set(x);
    return slot.subarray(0, x.length);
  };
  return Object.freeze({
    sealInto(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, out: Uint8Array): void {
      if (!(key instanceof Uint8Array)) throw Object.assign(new TypeError('key must be a Uint8Array'), { code: 'ERR_INVALID_ARG_TYPE' });
      const h = handleOf(key);
      const n = nonce instanceof Uint8Array && nonce.length === 12 ? (nonceSlot.set(nonce), nonceSlot) : nonce;
      const p = small(plaintext, ptSlot);
      const a = small(aad, aadSlot);
      const ptLen = plaintext instanceof Uint8Array ? plaintext.length : -1;
      if (!(out instanceof Uint8Array) || out.length > _SMALL + 16 || out.length !== ptLen + 16) {
        addon.gcmSeal(h, n, p, a, out);
        return;
      }
      // A short `out` is on the JS heap too: seal into the slot, then copy.
      const o = outSlot.subarray(0, out.length);
      addon.gcmSeal(h, n, p, a, o);
      out.set(o);
      o.fill(0);
    },
  });
}

/**
 * AES-256-GCM through node:crypto (a Cipheriv object per call): ciphertext || 16-byte tag. The Node backend's seal
 * without the addon, and the reference the addon must match at load.
 * @throws node:crypto's errors for a bad key or nonce.
 */
export function nodeCryptoGcmSeal(key: KeyObject | Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  c.setAAD(aad);
  const sealed = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
  return new Uint8Array(sealed.buffer, sealed.byteOffset, sealed.byteLength);
}

/** Seals a few lengths around the block sizes and the small-argument slots with both; any difference refuses the addon. */
function _matchesReference(gcm: NativeGcm): boolean {
  const key = Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + 1) & 0xff);
  const nonce = Uint8Array.from({ length: 12 }, (_, i) => (i * 13 + 5) & 0xff);
  for (const [ptLen, aadLen] of [[0, 0], [1, 13], [16, 64], [48, 65], [49, 90], [300, 120], [1000, 0]] as const) {
    const pt = Uint8Array.from({ length: ptLen }, (_, i) => (i * 31 + 3) & 0xff);
    const aad = Uint8Array.from({ length: aadLen }, (_, i) => (i * 17 + 11) & 0xff);
    const out = new Uint8Array(ptLen + 16);
    gcm.sealInto(key, nonce, pt, aad, out);
    if (!equalBytes(out, nodeCryptoGcmSeal(key, nonce, pt, aad))) return false;
  }
  return true;
}

let _cached: NativeGcm | null | undefined;

function _load(): NativeGcm | undefined {
  const require = createRequire(import.meta.url);
  for (const path of _ADDON_PATHS) {
    let addon: _Addon;
    try {
      addon = require(path) as _Addon;
    } catch {
      // Not built (no compiler at install time), built for another platform, or the EVP symbols missing from
      // this node binary: try the next path, then keep node:crypto.
      continue;
    }
    try {
      const gcm = _sealer(addon);
      return _matchesReference(gcm) ? gcm : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * The native AES-256-GCM sealer, or `undefined` when the addon is not built, does not load here, or does not
 * match node:crypto on the load-time check. Loads at most once per process (per worker thread).
 * @throws never — a load failure is reported as `undefined`.
 * @example const gcm = loadNativeGcm(); if (gcm) gcm.sealInto(key, nonce, plaintext, aad, out);
 */
export function loadNativeGcm(): NativeGcm | undefined {
  if (_cached === undefined) _cached = _load() ?? null;
  return _cached ?? undefined;
}
