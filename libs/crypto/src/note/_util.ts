// Internal helpers shared by note/, checkpoint/ and device/: strict text/byte conversions whose failures are
// CryptoError(MALFORMED_INPUT), never a MerkleError or a silent U+FFFD replacement.
import { fromBase64, fromHex } from '@merklesync/merkle';
import { CryptoError, CryptoErrorCode } from '../errors.ts';

const _enc = new TextEncoder();
const _dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Throws CryptoError(MALFORMED_INPUT) with a one-line reason. */
export function _malformed(reason: string): never {
  throw new CryptoError(CryptoErrorCode.MalformedInput, reason);
}

/** Throws CryptoError(VERIFICATION_FAILED). */
export function _failed(reason: string): never {
  throw new CryptoError(CryptoErrorCode.VerificationFailed, reason);
}

// A lone surrogate in a JS string has no UTF-8 encoding; TextEncoder would silently turn it into U+FFFD.
const _LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** UTF-8 of a well-formed string (a lone surrogate is malformed input). */
export function _utf8(s: string, what: string): Uint8Array {
  if (_LONE_SURROGATE.test(s)) _malformed(`${what}: not well-formed Unicode (lone surrogate)`);
  return _enc.encode(s);
}

/** Decodes strict UTF-8 (invalid sequences are malformed input). */
export function _fromUtf8(b: Uint8Array, what: string): string {
  try {
    return _dec.decode(b);
  } catch {
    return _malformed(`${what}: not valid UTF-8`);
  }
}

/** Strict canonical base64 → bytes, or CryptoError(MALFORMED_INPUT). */
export function _b64(s: string, what: string): Uint8Array {
  try {
    return fromBase64(s, what);
  } catch {
    return _malformed(`${what}: not canonical base64`);
  }
}

/** Hex → bytes, or CryptoError(MALFORMED_INPUT). */
export function _hex(s: string, what: string): Uint8Array {
  try {
    return fromHex(s, what);
  } catch {
    return _malformed(`${what}: not hex`);
  }
}

/** Decimal without leading zeros (0 alone allowed), as a safe integer; else malformed. */
export function _decimal(s: string, what: string): number {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(s)) _malformed(`${what}: not a decimal integer without leading zeros`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) _malformed(`${what}: larger than 2^53 - 1`);
  return n;
}

/** Big-endian uint32 of the first four bytes. */
export function _u32(b: Uint8Array): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

/** Four big-endian bytes of a uint32. */
export function _u32Bytes(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
}

/** Eight big-endian bytes of a non-negative safe integer. */
export function _u64Bytes(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

/** Big-endian uint64 at `off` as a bigint (callers decide what range they accept). */
export function _u64At(b: Uint8Array, off: number): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off);
}

/** Shortened text for error messages (never echo megabytes of input). */
export function _clip(s: string): string {
  return JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s);
}
