import { MerkleError, MerkleErrorCode } from './errors.ts';

/**
 * Checks that `value` is a Uint8Array (of `length` bytes when given).
 * @throws TypeError when it is not a Uint8Array; RangeError when the length differs.
 * @example assertBytes('key', key, 32)
 */
export function assertBytes(name: string, value: unknown, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`${name} must be ${length} bytes, got ${value.length}`);
  }
}

/**
 * Checks that `value` is a safe non-negative integer (optionally at most `max`).
 * @throws TypeError when not an integer; RangeError when negative or above `max`.
 * @example assertIndex('size', 10)
 */
export function assertIndex(name: string, value: unknown, max?: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new TypeError(`${name} must be a safe integer`);
  if (value < 0) throw new RangeError(`${name} must not be negative, got ${value}`);
  if (max !== undefined && value > max) throw new RangeError(`${name} must be at most ${max}, got ${value}`);
}

/** Constant-length byte equality (not constant-time; proofs are public). @example equalBytes(a, b) */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lexicographic (unsigned byte) order: negative, zero or positive. @example compareBytes(a, b) < 0 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Concatenates byte arrays into a new one. @example concatBytes(a, b) */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const _HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lowercase hex of `bytes`. @example toHex(new Uint8Array([1, 255])) // '01ff' */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += _HEX[bytes[i]!];
  return s;
}

function _nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Decodes hex (either case, no `0x` prefix unless `allowPrefix`).
 * @throws MerkleError(MALFORMED_INPUT) on odd length or a non-hex character; TypeError when not a string.
 * @example fromHex('01ff')
 */
export function fromHex(hex: string, what = 'hex', allowPrefix = false): Uint8Array {
  if (typeof hex !== 'string') throw new TypeError(`${what} must be a string`);
  let s = hex;
  if (allowPrefix && (s.startsWith('0x') || s.startsWith('0X'))) s = s.slice(2);
  if (s.length % 2 !== 0) throw new MerkleError(MerkleErrorCode.MalformedInput, `${what}: odd number of hex digits`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = _nibble(s.charCodeAt(2 * i));
    const lo = _nibble(s.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) throw new MerkleError(MerkleErrorCode.MalformedInput, `${what}: not a hex string`);
    out[i] = (hi << 4) | lo;
  }
  return out;
}

const _B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const _B64_REV = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) _B64_REV[_B64.charCodeAt(i)] = i;

/** Standard padded base64 (RFC 4648 §4). @example toBase64(bytes) */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    s += _B64[n >> 18]! + _B64[(n >> 12) & 63]! + _B64[(n >> 6) & 63]! + _B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    s += _B64[n >> 18]! + _B64[(n >> 12) & 63]! + '==';
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    s += _B64[n >> 18]! + _B64[(n >> 12) & 63]! + _B64[(n >> 6) & 63]! + '=';
  }
  return s;
}

/**
 * Decodes standard padded base64 strictly (canonical padding, no whitespace).
 * @throws MerkleError(MALFORMED_INPUT) on any deviation; TypeError when not a string.
 * @example fromBase64('AQI=')
 */
export function fromBase64(b64: string, what = 'base64'): Uint8Array {
  if (typeof b64 !== 'string') throw new TypeError(`${what} must be a string`);
  const bad = (): never => {
    throw new MerkleError(MerkleErrorCode.MalformedInput, `${what}: not canonical base64`);
  };
  if (b64.length % 4 !== 0) bad();
  let pad = 0;
  if (b64.endsWith('==')) pad = 2;
  else if (b64.endsWith('=')) pad = 1;
  const out = new Uint8Array((b64.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < b64.length; i += 4) {
    const last = i + 4 === b64.length;
    const v = [0, 0, 0, 0];
    for (let j = 0; j < 4; j++) {
      const c = b64.charCodeAt(i + j);
      if (c === 61 && last && j >= 4 - pad) continue;
      const d = c < 128 ? _B64_REV[c]! : -1;
      if (d < 0) bad();
      v[j] = d;
    }
    const n = (v[0]! << 18) | (v[1]! << 12) | (v[2]! << 6) | v[3]!;
    out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
    if (last && pad > 0 && (n & (pad === 2 ? 0xffff : 0xff)) !== 0) bad();
  }
  return out;
}

const _utf8 = new TextEncoder();
const _I64_MIN = -(1n << 63n);
const _I64_MAX = (1n << 63n) - 1n;

/**
 * Growable big-endian byte writer for binary encodings (proofs here; canonical rows and blocks in libs/crypto).
 * @throws RangeError from i64/u64 when the value is out of range.
 * @example new ByteWriter().u8(1).bytes(h).finish()
 */
export class ByteWriter {
  private _buf: Uint8Array;
  private _view: DataView;
  private _len = 0;
  /** @param capacity bytes reserved up front (grows as needed). */
  constructor(capacity = 256) {
    this._buf = new Uint8Array(Math.max(16, capacity));
    this._view = new DataView(this._buf.buffer);
  }
  /** Bytes written so far. */
  get length(): number {
    return this._len;
  }
  /** Empties the writer, keeping its buffer: one writer can encode many values without reallocating. */
  reset(): this {
    this._len = 0;
    return this;
  }
  private _ensure(n: number): void {
    if (this._len + n <= this._buf.length) return;
    let cap = this._buf.length * 2;
    while (cap < this._len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this._buf.subarray(0, this._len));
    this._buf = next;
    this._view = new DataView(next.buffer);
  }
  u8(v: number): this {
    this._ensure(1);
    this._buf[this._len++] = v & 255;
    return this;
  }
  u16(v: number): this {
    this._ensure(2);
    this._view.setUint16(this._len, v & 0xffff);
    this._len += 2;
    return this;
  }
  u32(v: number): this {
    this._ensure(4);
    this._view.setUint32(this._len, v >>> 0);
    this._len += 4;
    return this;
  }
  i32(v: number): this {
    this._ensure(4);
    this._view.setInt32(this._len, v | 0);
    this._len += 4;
    return this;
  }
  /** Unsigned 64-bit from a safe integer or a bigint in [0, 2^64). */
  u64(v: number | bigint): this {
    const b = BigInt(v);
    if (b < 0n || b >= 1n << 64n) throw new RangeError('u64 out of range');
    this._ensure(8);
    this._view.setBigUint64(this._len, b);
    this._len += 8;
    return this;
  }
  /** Two's-complement signed 64-bit. */
  i64(v: bigint): this {
    if (v < _I64_MIN || v > _I64_MAX) throw new RangeError('int64 out of range');
    this._ensure(8);
    this._view.setBigInt64(this._len, v);
    this._len += 8;
    return this;
  }
  /** Two's-complement signed 64-bit from a safe integer (no bigint on the way). */
  i64n(v: number): this {
    if (!Number.isSafeInteger(v)) throw new RangeError('i64n needs a safe integer');
    const hi = Math.floor(v / 0x1_0000_0000);
    this._ensure(8);
    this._view.setInt32(this._len, hi);
    this._view.setUint32(this._len + 4, v - hi * 0x1_0000_0000);
    this._len += 8;
    return this;
  }
  f32(v: number): this {
    this._ensure(4);
    this._view.setFloat32(this._len, v);
    this._len += 4;
    return this;
  }
  f64(v: number): this {
    this._ensure(8);
    this._view.setFloat64(this._len, v);
    this._len += 8;
    return this;
  }
  bytes(b: Uint8Array): this {
    this._ensure(b.length);
    this._buf.set(b, this._len);
    this._len += b.length;
    return this;
  }
  /** u32 length prefix, then the bytes. */
  lenBytes(b: Uint8Array): this {
    return this.u32(b.length).bytes(b);
  }
  /**
   * u32 byte length, then the UTF-8 of `s` — the bytes `TextEncoder` writes (a lone surrogate becomes U+FFFD: check
   * first where that matters), put straight into the buffer without an array in between.
   */
  lenUtf8(s: string): this {
    const n = s.length;
    this._ensure(4 + 3 * n); // UTF-8 takes at most 3 bytes per UTF-16 code unit
    const buf = this._buf;
    const at = this._len + 4;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) break;
      buf[at + i] = c;
    }
    const size = i === n ? n : i + _utf8.encodeInto(s.slice(i), buf.subarray(at + i)).written;
    this._view.setUint32(this._len, size);
    this._len = at + size;
    return this;
  }
  finish(): Uint8Array {
    return this._buf.slice(0, this._len);
  }
  /** The bytes written so far as a view of the writer's buffer (no copy): valid until the next write or reset. */
  written(): Uint8Array {
    return this._buf.subarray(0, this._len);
  }
}

/**
 * Bounds-checked big-endian reader; every overrun is a MerkleError(MALFORMED_INPUT), never a RangeError from a DataView.
 * @example const r = new ByteReader(bytes, 'proof'); const n = r.u8(); r.end();
 */
export class ByteReader {
  private _off = 0;
  private readonly _buf: Uint8Array;
  private readonly _what: string;
  constructor(buf: Uint8Array, what: string) {
    assertBytes(what, buf);
    this._buf = buf;
    this._what = what;
  }
  fail(reason: string): never {
    throw new MerkleError(MerkleErrorCode.MalformedInput, `${this._what}: ${reason}`);
  }
  private _need(n: number): void {
    if (this._off + n > this._buf.length) this.fail('truncated');
  }
  get remaining(): number {
    return this._buf.length - this._off;
  }
  u8(): number {
    this._need(1);
    return this._buf[this._off++]!;
  }
  u16(): number {
    this._need(2);
    const v = (this._buf[this._off]! << 8) | this._buf[this._off + 1]!;
    this._off += 2;
    return v;
  }
  u32(): number {
    this._need(4);
    const v = new DataView(this._buf.buffer, this._buf.byteOffset).getUint32(this._off);
    this._off += 4;
    return v;
  }
  /** Reads a u64 and rejects values above Number.MAX_SAFE_INTEGER. */
  u64(): number {
    this._need(8);
    const v = new DataView(this._buf.buffer, this._buf.byteOffset).getBigUint64(this._off);
    this._off += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail('integer too large');
    return Number(v);
  }
  bytes(n: number): Uint8Array {
    this._need(n);
    const out = this._buf.slice(this._off, this._off + n);
    this._off += n;
    return out;
  }
  /** Asserts that every byte was consumed (trailing garbage is malformed). */
  end(): void {
    if (this._off !== this._buf.length) this.fail('trailing bytes');
  }
}
