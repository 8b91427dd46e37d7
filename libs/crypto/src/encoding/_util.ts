// Internal helpers shared by the encoding files: typed errors, UTF-8, integer ranges.
import { CryptoError, CryptoErrorCode } from '../errors.ts';

export const _I64_MIN = -(1n << 63n);
export const _I64_MAX = (1n << 63n) - 1n;
export const _I32_MIN = -(2 ** 31);
export const _I32_MAX = 2 ** 31 - 1;

/** A value the canonical encoding cannot represent. */
export function _unsupported(what: string, reason: string): never {
  throw new CryptoError(CryptoErrorCode.UnsupportedValue, `${what}: ${reason}`);
}

/** Text that does not parse in the expected format. */
export function _malformed(what: string, reason: string): never {
  throw new CryptoError(CryptoErrorCode.MalformedInput, `${what}: ${reason}`);
}

interface _WellFormed {
  isWellFormed(): boolean;
}
// String.prototype.isWellFormed (ES2024; Node 20+, current browsers) answers at once for a one-byte string, which
// cannot hold a surrogate, and scans the others natively: about 6 ns against 75 ns for the loop below on a 40-character
// string. Every text value and JSON string of a row ingest encodes is checked.
const _NATIVE_WELL_FORMED = typeof (String.prototype as Partial<_WellFormed>).isWellFormed === 'function';

/** True when `s` has no lone UTF-16 surrogate (so it has exactly one UTF-8 encoding). */
export function _isWellFormed(s: string): boolean {
  return _NATIVE_WELL_FORMED ? (s as unknown as _WellFormed).isWellFormed() : _isWellFormedLoop(s);
}

/** {@link _isWellFormed} without String.prototype.isWellFormed (older engines; exported for its test). */
export function _isWellFormedLoop(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c > 0xdbff) return false;
    const d = s.charCodeAt(i + 1);
    if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
    i++;
  }
  return true;
}

const _enc = new TextEncoder();
// Short ASCII strings (most names and values) are copied byte by byte: TextEncoder.encode costs a native call
// and more than the copy for them. Anything else goes to TextEncoder, so the bytes are always TextEncoder's.
const _ASCII_MAX = 256;

/** TextEncoder.encode(s), with a fast path for short ASCII strings. */
export function _encode(s: string): Uint8Array {
  const n = s.length;
  if (n <= _ASCII_MAX) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) return _enc.encode(s);
      out[i] = c;
    }
    return out;
  }
  return _enc.encode(s);
}

/** UTF-8 of a string; lone surrogates are rejected (TextEncoder would silently turn them into U+FFFD). */
export function _utf8(what: string, s: string): Uint8Array {
  if (typeof s !== 'string') throw new TypeError(`${what} must be a string`);
  if (!_isWellFormed(s)) _unsupported(what, 'string has a lone surrogate');
  return _encode(s);
}

/** Checks that `v` is a string. */
export function _assertString(what: string, v: unknown): asserts v is string {
  if (typeof v !== 'string') throw new TypeError(`${what} must be a string`);
}

const _INT_RE = /^-?(0|[1-9][0-9]*)$/;

/**
 * An integer from bigint, safe-integer number or canonical decimal string (no '+', no leading zeros),
 * checked to lie in [min, max].
 */
export function _toBigInt(what: string, v: unknown, min: bigint, max: bigint): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) _unsupported(what, `${v} is not a safe integer (pass a bigint or string)`);
    b = BigInt(v);
  } else if (typeof v === 'string') {
    if (!_INT_RE.test(v) || v === '-0') _unsupported(what, 'not a canonical decimal integer');
    b = BigInt(v);
  } else throw new TypeError(`${what} must be a bigint, number or string`);
  if (b < min || b > max) _unsupported(what, `${b} is out of range [${min}, ${max}]`);
  return b;
}
