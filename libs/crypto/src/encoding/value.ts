// Typed value → canonical bytes: one tag byte, then a payload that is fixed-size or length-prefixed, so a
// sequence of encoded values can be split again without knowing anything else (the injectivity argument).
import { ByteWriter } from '@merklesync/merkle';
import { _I32_MAX, _I32_MIN, _I64_MAX, _I64_MIN, _assertString, _encode, _toBigInt, _unsupported, _utf8 } from './_util.ts';
import { _ParsedJson, canonicalJson, canonicalJsonText } from './jcs.ts';
import { canonicalExtendedJson } from './ejson.ts';
import { parseNumeric, type CanonicalNumeric } from './numeric.ts';
import { SCALAR_TYPES, ValueTag, type ArrayElementType, type PgArrayItems, type PgValue } from './types.ts';

const _US_PER_DAY = 86_400_000_000n;
const _MAX_DIMS = 6; // Postgres MAXDIM
const _ELEMENT_TYPES = new Set<string>([...SCALAR_TYPES, 'composite']);

function _isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

export function _int64OrInfinite(w: ByteWriter, what: string, v: unknown): void {
  if (v === 'infinity') w.i64(_I64_MAX);
  else if (v === '-infinity') w.i64(_I64_MIN);
  else w.i64(_toBigInt(what, v, _I64_MIN, _I64_MAX));
}

function _numeric(w: ByteWriter, what: string, v: unknown): void {
  let n: CanonicalNumeric;
  if (typeof v === 'bigint') n = { kind: 'finite', negative: v < 0n, scale: 0, digits: String(v < 0n ? -v : v) };
  else if (typeof v === 'string') {
    try {
      n = parseNumeric(v, what);
    } catch (e) {
      // A typed value is not text input: a bad string is a value the encoding does not accept.
      return _unsupported(what, e instanceof Error ? e.message : 'bad numeric');
    }
  } else throw new TypeError(`${what} must be a decimal string or a bigint`);
  _writeNumeric(w, n);
}

/** The numeric payload (after the tag): a kind byte, then for finite values the scale and the digits. */
export function _writeNumeric(w: ByteWriter, n: CanonicalNumeric): void {
  switch (n.kind) {
    case 'nan':
      w.u8(0x02);
      return;
    case 'infinity':
      w.u8(0x03);
      return;
    case '-infinity':
      w.u8(0x04);
      return;
    case 'finite':
      w.u8(n.negative ? 0x01 : 0x00).u32(n.scale).lenBytes(_encode(n.digits));
  }
}

export function _uuid(what: string, v: unknown): Uint8Array {
  if (v instanceof Uint8Array) {
    if (v.length !== 16) _unsupported(what, 'must be 16 bytes');
    return v;
  }
  _assertString(what, v);
  // Hyphenated form only (8-4-4-4-12 hex digits, either case), decoded by character code.
  const out = new Uint8Array(16);
  if (v.length === 36 && v.charCodeAt(8) === 0x2d && v.charCodeAt(13) === 0x2d && v.charCodeAt(18) === 0x2d && v.charCodeAt(23) === 0x2d) {
    let o = 0;
    for (let i = 0; i < 36; i += 2) {
      if (i === 8 || i === 13 || i === 18 || i === 23) i++;
      const h = _hexDigit(v.charCodeAt(i));
      const l = _hexDigit(v.charCodeAt(i + 1));
      if (h < 0 || l < 0) break;
      out[o++] = (h << 4) | l;
    }
    if (o === 16) return out;
  }
  return _unsupported(what, 'not a hyphenated uuid');
}

/** Value of a hex digit's character code, or -1. */
function _hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x57;
  return -1;
}

/** Shape of a (possibly multi-dimensional) array: the length per dimension, checked rectangular. */
function _dims(what: string, items: PgArrayItems): number[] {
  const dims: number[] = [];
  let level: PgArrayItems = items;
  for (;;) {
    dims.push(level.length);
    const first = level[0];
    if (level.length === 0 || !Array.isArray(first)) break;
    level = first as PgArrayItems;
  }
  if (dims.length > _MAX_DIMS) _unsupported(what, `more than ${_MAX_DIMS} dimensions`);
  if (dims.length > 1 && dims.includes(0)) _unsupported(what, 'a dimension of length 0 in a non-empty array');
  const check = (lvl: PgArrayItems, d: number): void => {
    if (lvl.length !== dims[d]) _unsupported(what, 'array is not rectangular');
    for (const x of lvl) if (Array.isArray(x) !== d < dims.length - 1) _unsupported(what, 'array is not rectangular');
    if (d < dims.length - 1) for (const x of lvl) check(x as PgArrayItems, d + 1);
  };
  check(items, 0);
  return dims;
}

function _array(w: ByteWriter, what: string, v: Record<string, unknown>, depth: number): void {
  const et = v['elementType'];
  if (typeof et !== 'string' || !_ELEMENT_TYPES.has(et)) _unsupported(`${what}.elementType`, `unsupported element type ${String(et)}`);
  const items = v['value'];
  if (!Array.isArray(items)) throw new TypeError(`${what}.value must be an array`);
  const dims = _dims(what, items as PgArrayItems);
  w.u8(ValueTag[et as ArrayElementType]);
  if (dims.length === 1 && dims[0] === 0) {
    // Postgres has one empty array per type: zero dimensions, no bounds.
    if (v['lowerBounds'] !== undefined && (v['lowerBounds'] as unknown[]).some((b) => b !== 1)) _unsupported(what, 'an empty array has no bounds');
    w.u8(0);
    return;
  }
  const lbs = v['lowerBounds'] ?? dims.map(() => 1);
  if (!Array.isArray(lbs) || lbs.length !== dims.length) throw new TypeError(`${what}.lowerBounds must have one entry per dimension`);
  w.u8(dims.length);
  dims.forEach((len, d) => {
    const lb: unknown = lbs[d];
    if (typeof lb !== 'number' || !Number.isInteger(lb) || lb < _I32_MIN || lb > _I32_MAX || lb + len - 1 > _I32_MAX) _unsupported(`${what}.lowerBounds`, 'must be int32 with the upper bound in int32 too');
    w.u32(len).i32(lb);
  });
  const walk = (lvl: readonly unknown[], d: number): void => {
    for (const x of lvl) {
      if (d < dims.length - 1) walk(x as unknown[], d + 1);
      else {
        if (x !== null && (!_isObject(x) || x['type'] !== et)) _unsupported(what, `element is not NULL or of type ${et}`);
        _encodeValue(w, `${what}[]`, x as PgValue, depth + 1);
      }
    }
  };
  walk(items, 0);
}

/** Appends the canonical encoding of one typed value. `what` names it in errors. */
export function _encodeValue(w: ByteWriter, what: string, v: PgValue, depth = 0): void {
  if (v === null) {
    w.u8(ValueTag.null);
    return;
  }
  if (depth > 64) _unsupported(what, 'nesting deeper than 64');
  if (!_isObject(v)) throw new TypeError(`${what} must be null or a typed value { type, ... }`);
  const type = v.type as unknown;
  const val: unknown = (v as Record<string, unknown>)['value'];
  const at = `${what}.value`;
  switch (type) {
    case 'bool':
      if (typeof val !== 'boolean') throw new TypeError(`${at} must be a boolean`);
      w.u8(ValueTag.bool).u8(val ? 1 : 0);
      return;
    case 'int2':
      if (typeof val === 'number' && Number.isInteger(val) && val >= -32768 && val <= 32767) w.u8(ValueTag.int2).i64n(val);
      else w.u8(ValueTag.int2).i64(_toBigInt(at, val, -32768n, 32767n));
      return;
    case 'int4':
      if (typeof val === 'number' && Number.isInteger(val) && val >= _I32_MIN && val <= _I32_MAX) w.u8(ValueTag.int4).i64n(val);
      else w.u8(ValueTag.int4).i64(_toBigInt(at, val, -2147483648n, 2147483647n));
      return;
    case 'int8':
      w.u8(ValueTag.int8).i64(_toBigInt(at, val, _I64_MIN, _I64_MAX));
      return;
    case 'float4':
    case 'float8': {
      if (typeof val !== 'number') throw new TypeError(`${at} must be a number`);
      w.u8(ValueTag[type]);
      // One NaN bit pattern (Postgres prints every NaN as 'NaN'); -0 stays -0 (Postgres prints '-0').
      if (type === 'float4') w.f32(Number.isNaN(val) ? NaN : Math.fround(val));
      else w.f64(Number.isNaN(val) ? NaN : val);
      return;
    }
    case 'numeric':
      w.u8(ValueTag.numeric);
      _numeric(w, at, val);
      return;
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'name': {
      _assertString(at, val);
      // Postgres text cannot hold NUL; refusing it keeps every encodable string a storable one.
      if (val.includes('\u0000')) _unsupported(at, 'NUL character');
      w.u8(ValueTag[type]).lenBytes(_utf8(at, val));
      return;
    }
    case 'bytea':
      if (!(val instanceof Uint8Array)) throw new TypeError(`${at} must be a Uint8Array`);
      w.u8(ValueTag.bytea).lenBytes(val);
      return;
    case 'date':
      w.u8(ValueTag.date);
      _int64OrInfinite(w, at, val);
      return;
    case 'time': {
      const us = _toBigInt(at, val, 0n, _US_PER_DAY);
      w.u8(ValueTag.time).i64(us);
      return;
    }
    case 'timetz': {
      if (!_isObject(val)) throw new TypeError(`${at} must be { micros, offsetSeconds }`);
      const us = _toBigInt(`${at}.micros`, val['micros'], 0n, _US_PER_DAY);
      const off = val['offsetSeconds'];
      if (typeof off !== 'number' || !Number.isInteger(off) || Math.abs(off) > 15 * 3600 + 59 * 60 + 59) _unsupported(`${at}.offsetSeconds`, 'must be an integer within ±15:59:59');
      w.u8(ValueTag.timetz).i64(us).i32(off);
      return;
    }
    case 'timestamp':
    case 'timestamptz':
      w.u8(ValueTag[type]);
      _int64OrInfinite(w, at, val);
      return;
    case 'interval': {
      w.u8(ValueTag.interval);
      if (val === 'infinity') w.i32(_I32_MAX).i32(_I32_MAX).i64(_I64_MAX);
      else if (val === '-infinity') w.i32(_I32_MIN).i32(_I32_MIN).i64(_I64_MIN);
      else {
        if (!_isObject(val)) throw new TypeError(`${at} must be { months, days, micros } or ±infinity`);
        const months = Number(_toBigInt(`${at}.months`, val['months'], BigInt(_I32_MIN), BigInt(_I32_MAX)));
        const days = Number(_toBigInt(`${at}.days`, val['days'], BigInt(_I32_MIN), BigInt(_I32_MAX)));
        w.i32(months).i32(days).i64(_toBigInt(`${at}.micros`, val['micros'], _I64_MIN, _I64_MAX));
      }
      return;
    }
    case 'uuid':
      w.u8(ValueTag.uuid).bytes(_uuid(at, val));
      return;
    case 'json':
    case 'jsonb': {
      const text = (v as Record<string, unknown>)['text'];
      let canon: string;
      if (text !== undefined) {
        _assertString(`${what}.text`, text);
        canon = (v instanceof _ParsedJson ? v.canonicalIfUnchanged() : undefined) ?? canonicalJsonText(text, { duplicates: type === 'jsonb' ? 'last' : 'reject' });
      } else canon = canonicalJson(val as never);
      w.u8(ValueTag[type]).lenBytes(_encode(canon));
      return;
    }
    case 'array':
      w.u8(ValueTag.array);
      _array(w, what, v, depth);
      return;
    case 'composite': {
      const fields = (v as Record<string, unknown>)['fields'];
      if (!Array.isArray(fields)) throw new TypeError(`${what}.fields must be an array`);
      w.u8(ValueTag.composite).u32(fields.length);
      fields.forEach((f, i) => _encodeValue(w, `${what}.fields[${i}]`, f as PgValue, depth + 1));
      return;
    }
    case 'ejson': {
      const text = (v as Record<string, unknown>)['text'];
      const canon = text !== undefined ? canonicalExtendedJson({ text: text as string }) : canonicalExtendedJson({ value: val });
      w.u8(ValueTag.ejson).lenBytes(_encode(canon));
      return;
    }
    default:
      _unsupported(what, `unsupported type ${JSON.stringify(type)}`);
  }
}

/**
 * The canonical bytes of one typed value (tag byte + payload); the building block of rows and keys.
 * @throws TypeError for a value of the wrong JS shape; CryptoError(UNSUPPORTED_VALUE) for a value the encoding cannot represent.
 * @example toHex(encodeValue({ type: 'int4', value: 5 })) // '030000000000000005'
 */
export function encodeValue(value: PgValue): Uint8Array {
  const w = new ByteWriter();
  _encodeValue(w, 'value', value);
  return w.finish();
}

