// Internal helpers shared by keys/, envelope/ and commit/: UTF-8 names, length-prefixed framing, integer
// encodings. Not exported from the package.
import { CryptoError, CryptoErrorCode } from '../errors.ts';

const _enc = new TextEncoder();

/** UTF-8 of a well-formed string; lone surrogates would silently become U+FFFD and collide, so they are refused. */
export function _utf8(name: string, s: unknown): Uint8Array {
  if (typeof s !== 'string') throw new TypeError(`${name} must be a string`);
  if (/\p{Cs}/u.test(s)) throw new RangeError(`${name} contains a lone surrogate (not well-formed Unicode)`);
  return _enc.encode(s);
}

/** A non-empty identifier (source, table) of at most 65535 UTF-8 bytes, as bytes. */
export function _name(name: string, s: unknown): Uint8Array {
  const b = _utf8(name, s);
  if (b.length === 0) throw new RangeError(`${name} must not be empty`);
  if (b.length > 0xffff) throw new RangeError(`${name} must be at most 65535 UTF-8 bytes, got ${b.length}`);
  return b;
}

// Sources and tables are a handful of strings seen on every row: their checked UTF-8 is computed once.
// Callers only read the cached arrays (they copy them into larger buffers), never hand them out.
const _NAME_CACHE_MAX = 4096;
const _nameCache = new Map<string, Uint8Array>();

/** `_name` memoized by string (same checks and errors on a miss; the returned array must not be modified). */
export function _nameCached(name: string, s: unknown): Uint8Array {
  if (typeof s === 'string') {
    const hit = _nameCache.get(s);
    if (hit !== undefined) return hit;
  }
  const b = _name(name, s);
  if (b.length > 1024) return b; // long names are rare; they must not pin memory
  if (_nameCache.size >= _NAME_CACHE_MAX) _nameCache.clear();
  _nameCache.set(s as string, b);
  return b;
}

/** Key ids: 1..64 characters of [A-Za-z0-9._:-] (ASCII, so one byte each in the block header). */
export const _KID_RE = /^[A-Za-z0-9._:-]{1,64}$/;

export function _assertKid(name: string, kid: unknown): asserts kid is string {
  if (typeof kid !== 'string') throw new TypeError(`${name} must be a string`);
  if (!_KID_RE.test(kid)) throw new RangeError(`${name} must be 1..64 characters of [A-Za-z0-9._:-], got ${JSON.stringify(kid.slice(0, 80))}`);
}

/** Key versions are u32 in the block header; 0 is reserved (never a valid version). */
export function _assertKeyVersion(name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new TypeError(`${name} must be an integer`);
  if (v < 1 || v > 0xffffffff) throw new RangeError(`${name} must be in 1..4294967295, got ${v}`);
}

export function _u16(v: number): Uint8Array {
  return Uint8Array.of((v >>> 8) & 255, v & 255);
}

export function _u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0);
  return b;
}

export function _u64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v);
  return b;
}

export function _readU32(b: Uint8Array, off: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off);
}

/** Comparison whose time does not depend on where the first difference is (commitment checks). */
export function _ctEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** Runs a decoder from @merklesync/merkle (which throws MerkleError) and re-types its failure. */
export function _malformed<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new CryptoError(CryptoErrorCode.MalformedInput, `${what}: ${(e as Error).message}`, { cause: e });
  }
}
