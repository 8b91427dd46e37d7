// Postgres TEXT output → canonical row and key bytes in one pass, for sources that receive every column as text
// (pgoutput, COPY/SELECT as text). The bytes are by definition `encodeRow`/`encodePrimaryKey` of the values
// `fromPgText` types: each column gets a writer compiled once from its type that parses the text and writes the
// canonical value straight away, without the typed value in between. A writer that meets anything it does not
// handle gives up, and the whole row is then encoded the reference way, so results and errors are the
// reference's even where a fast path would have been stricter.
import { ByteWriter } from '@merklesync/merkle';
import { BlockArena } from '../envelope/seal.ts';
import { daysFromCivil, parsePgDate, parsePgTimestamp } from './datetime.ts';
import { _canonicalJsonFast } from './_jcs_text.ts';
import { canonicalJson, canonicalJsonText } from './jcs.ts';
import { parseNumeric } from './numeric.ts';
import { _parseArrayText, _resolve, fromPgText } from './pg-text.ts';
import { _columnOrder, encodePrimaryKey, encodeRow } from './row.ts';
import { ENCODING_VERSION, EncodingKind, ValueTag, type JsonValue, type PgType, type ScalarTypeName } from './types.ts';
import { _encodeValue, _int64OrInfinite, _uuid, _writeNumeric } from './value.ts';
import { _I32_MAX, _I32_MIN, _I64_MAX, _I64_MIN, _encode, _isWellFormed } from './_util.ts';

/** One column of the rows an encoder takes: its name and Postgres type (as `fromPgText` takes it). */
export interface PgTextColumn {
  readonly name: string;
  readonly type: PgType;
}

/** Writes one non-NULL value given as text (tag and payload), or throws to hand the row to the reference path. */
type _Writer = (w: ByteWriter, text: string) => void;

// Thrown by a fast path that leaves the value to the reference path: one preallocated object, no stack trace.
const _GIVE_UP: unknown = Object.freeze({ giveUp: true });
function _giveUp(): never {
  throw _GIVE_UP;
}

const _INT_RE = /^[+-]?[0-9]+$/;
const _FLOAT_RE = /^(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|NaN|[+-]?Infinity)$/;
const _RANGES = { int2: [-32768, 32767], int4: [_I32_MIN, _I32_MAX] } as const;

// Integers of at most 15 digits are exact doubles: parsed as numbers, written without a bigint.
function _intWriter(type: 'int2' | 'int4' | 'int8'): _Writer {
  const tag = ValueTag[type];
  if (type === 'int8') {
    return (w, t) => {
      if (!_INT_RE.test(t)) _giveUp();
      if (t.length <= 15) w.u8(tag).i64n(Number(t));
      else {
        const b = BigInt(t);
        if (b < _I64_MIN || b > _I64_MAX) _giveUp();
        w.u8(tag).i64(b);
      }
    };
  }
  const [min, max] = _RANGES[type];
  return (w, t) => {
    if (t.length > 15 || !_INT_RE.test(t)) _giveUp();
    const n = Number(t);
    if (n < min || n > max) _giveUp();
    w.u8(tag).i64n(n); // i64n writes -0 as 0, as the reference writes the integer 0
  };
}

function _floatWriter(type: 'float4' | 'float8'): _Writer {
  const tag = ValueTag[type];
  return type === 'float4'
    ? (w, t) => {
        if (!_FLOAT_RE.test(t)) _giveUp();
        const x = Math.fround(Number(t));
        w.u8(tag).f32(Number.isNaN(x) ? NaN : x);
      }
    : (w, t) => {
        if (!_FLOAT_RE.test(t)) _giveUp();
        const x = Number(t);
        w.u8(tag).f64(Number.isNaN(x) ? NaN : x);
      };
}

/**
 * Writes numeric text of the form numeric_out prints ('-12.50', '0', '.5' and '5.' too), at most 1,000 characters,
 * straight from the text: sign, scale = the fraction's digits, the digits without the point and leading zeros ('0'
 * for zero, which is never negative) — parseNumeric's result for it. False (nothing written) for any other text.
 */
function _writePlainNumeric(w: ByteWriter, t: string): boolean {
  const n = t.length;
  if (n === 0 || n > 1000) return false;
  const c0 = t.charCodeAt(0);
  const from = c0 === 0x2d || c0 === 0x2b ? 1 : 0;
  let point = -1;
  for (let k = from; k < n; k++) {
    const c = t.charCodeAt(k);
    if (c === 0x2e && point < 0) point = k;
    else if (c < 0x30 || c > 0x39) return false;
  }
  const fracLen = point < 0 ? 0 : n - point - 1;
  if ((point < 0 ? n : point) === from && fracLen === 0) return false; // '', '-', '.'
  let first = from; // the first significant digit
  while (first < n && (t.charCodeAt(first) === 0x30 || first === point)) first++;
  const significant = n - first - (point > first ? 1 : 0);
  w.u8(ValueTag.numeric)
    .u8(c0 === 0x2d && significant > 0 ? 0x01 : 0x00)
    .u32(fracLen);
  if (significant === 0) {
    w.u32(1).u8(0x30);
    return true;
  }
  w.u32(significant);
  for (let k = first; k < n; k++) if (k !== point) w.u8(t.charCodeAt(k));
  return true;
}

function _numericWriter(w: ByteWriter, t: string): void {
  if (_writePlainNumeric(w, t)) return;
  const n = parseNumeric(t);
  w.u8(ValueTag.numeric);
  _writeNumeric(w, n);
}

function _textWriter(type: 'text' | 'varchar' | 'bpchar' | 'name'): _Writer {
  const tag = ValueTag[type];
  return (w, t) => {
    // NUL and lone surrogates: the reference's error. Anything else is written as UTF-8 straight into the row.
    if (t.includes('\u0000') || !_isWellFormed(t)) _giveUp();
    w.u8(tag).lenUtf8(t);
  };
}

// For the jsonb texts the one-scan path leaves (escapes, duplicates…): JSON.parse reads their numbers exactly when
// the text has no exponent (a digit then 'e') and no run of 16 or more digits and points, so every number has at
// most 15 significant digits and lies within ±1e15: its double prints back as the same decimal value, which is what
// the exact canonical form then writes. Strings may trip the test; that only sends them the reference way.
const _INEXACT_NUMBER_RE = /[0-9][eE]|[0-9.]{16}/;

function _jsonWriter(type: 'json' | 'jsonb'): _Writer {
  const tag = ValueTag[type];
  if (type === 'json') {
    // json keeps duplicate members, which the reference refuses and JSON.parse would silently merge.
    return (w, t) => {
      w.u8(tag).lenBytes(_canonicalJsonFast(t) ?? _encode(canonicalJsonText(t, { duplicates: 'reject' })));
    };
  }
  return (w, t) => {
    w.u8(tag).lenBytes(_canonicalJsonFast(t) ?? _encode(_canonicalJsonb(t)));
  };
}

/** The reference's canonical form of jsonb text that the one-scan path left (escapes, exponents, duplicates…). */
function _canonicalJsonb(t: string): string {
  if (_INEXACT_NUMBER_RE.test(t)) return canonicalJsonText(t, { duplicates: 'last' });
  let parsed: unknown;
  try {
    parsed = JSON.parse(t); // duplicate members: the last wins, as in jsonb and the reference's 'last'
  } catch {
    return _giveUp();
  }
  // The same nesting limit and string rules as the reference parser: what it refuses, this refuses too.
  return canonicalJson(parsed as JsonValue);
}

const _C0 = 0x30;
/** The number written by `len` ASCII digits at `i`, or -1 when one of them is not a digit. */
function _digits(t: string, i: number, len: number): number {
  let n = 0;
  for (let k = i; k < i + len; k++) {
    const d = t.charCodeAt(k) - _C0;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

const _US_PER_DAY_N = 86_400_000_000;

/**
 * Days since 1970-01-01 of the 'YYYY-MM-DD' that `t` starts with, for years `minYear`–`maxYear`, or undefined for
 * anything else (another spelling, a day that does not exist).
 */
function _isoDays(t: string, minYear: number, maxYear: number): number | undefined {
  if (t.charCodeAt(4) !== 0x2d || t.charCodeAt(7) !== 0x2d) return undefined;
  const year = _digits(t, 0, 4);
  const month = _digits(t, 5, 2);
  const day = _digits(t, 8, 2);
  if (year < minYear || year > maxYear || month < 0 || day < 0) return undefined;
  try {
    return daysFromCivil(year, month, day);
  } catch {
    return undefined;
  }
}

/**
 * Microseconds of 'YYYY-MM-DD HH:MM:SS[.f{1,6}][±HH[:MM[:SS]]]' as timestamp_out prints it, for years 1700–2200
 * (every intermediate sum then stays an exact double), or undefined for anything else (parsePgTimestamp takes it).
 */
function _fastTimestamp(t: string, withTimeZone: boolean): number | undefined {
  const n = t.length;
  if (n < 19 || t.charCodeAt(10) !== 0x20 || t.charCodeAt(13) !== 0x3a || t.charCodeAt(16) !== 0x3a) return undefined;
  const days = _isoDays(t, 1700, 2200);
  const h = _digits(t, 11, 2);
  const mi = _digits(t, 14, 2);
  const sec = _digits(t, 17, 2);
  if (days === undefined || h < 0 || mi < 0 || sec < 0 || mi > 59 || sec > 59) return undefined;
  let i = 19;
  let frac = 0;
  if (t.charCodeAt(i) === 0x2e) {
    let k = i + 1;
    let scale = 100_000;
    for (; k < n && k <= i + 6; k++) {
      const d = t.charCodeAt(k) - _C0;
      if (d < 0 || d > 9) break;
      frac += d * scale;
      scale /= 10;
    }
    if (k === i + 1) return undefined;
    i = k;
  }
  let offset = 0;
  if (i < n) {
    const sign = t.charCodeAt(i);
    if (!withTimeZone || (sign !== 0x2b && sign !== 0x2d)) return undefined;
    const rest = n - i - 1;
    if (rest !== 2 && rest !== 5 && rest !== 8) return undefined;
    const oh = _digits(t, i + 1, 2);
    const om = rest >= 5 && t.charCodeAt(i + 3) === 0x3a ? _digits(t, i + 4, 2) : rest >= 5 ? -1 : 0;
    const os = rest === 8 && t.charCodeAt(i + 6) === 0x3a ? _digits(t, i + 7, 2) : rest === 8 ? -1 : 0;
    if (oh < 0 || om < 0 || os < 0 || om > 59 || os > 59) return undefined;
    offset = oh * 3600 + om * 60 + os;
    if (offset > 15 * 3600 + 59 * 60 + 59) return undefined;
    if (sign === 0x2d) offset = -offset;
  } else if (withTimeZone) return undefined;
  const tod = ((h * 60 + mi) * 60 + sec) * 1_000_000 + frac;
  if (h > 24 || tod > _US_PER_DAY_N) return undefined;
  return days * _US_PER_DAY_N + tod - offset * 1_000_000;
}

/** Days of 'YYYY-MM-DD' as date_out prints years 1–9999 AD, or undefined for anything else (parsePgDate takes it). */
function _fastDate(t: string): number | undefined {
  return t.length === 10 ? _isoDays(t, 1, 9999) : undefined;
}

/** The fast writer of a scalar type, or undefined when the type has none (the generic writer serves it). */
function _scalarWriter(type: ScalarTypeName): _Writer | undefined {
  switch (type) {
    case 'bool':
      return (w, t) => {
        if (t === 't' || t === 'true') w.u8(ValueTag.bool).u8(1);
        else if (t === 'f' || t === 'false') w.u8(ValueTag.bool).u8(0);
        else _giveUp();
      };
    case 'int2':
    case 'int4':
    case 'int8':
      return _intWriter(type);
    case 'float4':
    case 'float8':
      return _floatWriter(type);
    case 'numeric':
      return _numericWriter;
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'name':
      return _textWriter(type);
    case 'date':
      return (w, t) => {
        const fast = _fastDate(t);
        w.u8(ValueTag.date);
        if (fast !== undefined) w.i64n(fast);
        else _int64OrInfinite(w, 'date', parsePgDate(t));
      };
    case 'timestamp':
    case 'timestamptz': {
      const tz = type === 'timestamptz';
      const tag = ValueTag[type];
      return (w, t) => {
        const fast = _fastTimestamp(t, tz);
        w.u8(tag);
        if (fast !== undefined) w.i64n(fast);
        else _int64OrInfinite(w, type, parsePgTimestamp(t, tz));
      };
    }
    case 'uuid':
      // Hyphenated hex in either case; the other spellings uuid_in accepts go the reference way.
      return (w, t) => {
        w.u8(ValueTag.uuid).bytes(_uuid('uuid', t));
      };
    case 'json':
    case 'jsonb':
      return _jsonWriter(type);
    case 'bytea':
    case 'time':
    case 'timetz':
    case 'interval':
      return undefined;
  }
}

/** Whether the 4 code units at `i` spell NULL in any case (what `toUpperCase() === 'NULL'` tells of them). */
function _isNull(t: string, i: number): boolean {
  return (t.charCodeAt(i) | 0x20) === 0x6e && (t.charCodeAt(i + 1) | 0x20) === 0x75 && (t.charCodeAt(i + 2) | 0x20) === 0x6c && (t.charCodeAt(i + 3) | 0x20) === 0x6c;
}

/**
 * Writes a one-dimensional array_out text without quoting, escapes, nested braces, blanks or empty elements
 * ('{a,NULL,c}') straight from the text, element by element, as the general path below would; false (nothing
 * written) for any other text.
 */
function _writeSimpleArray(w: ByteWriter, t: string, elementTag: number, element: _Writer): boolean {
  const n = t.length;
  if (n < 3 || t.charCodeAt(0) !== 0x7b || t.charCodeAt(n - 1) !== 0x7d) return false;
  let count = 1;
  let prev = 0x7b;
  for (let i = 1; i < n - 1; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x22 || c === 0x5c || c === 0x7b || c === 0x7d || c <= 0x20) return false;
    if (c === 0x2c) {
      if (prev === 0x2c || prev === 0x7b) return false; // '{,a}', '{a,,b}': the full parser reports them
      count++;
    }
    prev = c;
  }
  if (prev === 0x2c) return false;
  w.u8(ValueTag.array).u8(elementTag).u8(1).u32(count).i32(1);
  let from = 1;
  for (let k = 0; k < count; k++) {
    const to = k === count - 1 ? n - 1 : t.indexOf(',', from);
    if (to - from === 4 && _isNull(t, from)) w.u8(ValueTag.null);
    else element(w, t.slice(from, to));
    from = to + 1;
  }
  return true;
}

/** Array of a scalar with a fast writer: array_out text → the encoding of the typed array, element by element. */
function _arrayWriter(elementType: ScalarTypeName, element: _Writer): _Writer {
  const elementTag = ValueTag[elementType];
  return (w, t) => {
    if (_writeSimpleArray(w, t, elementTag, element)) return;
    const { items, lowerBounds } = _parseArrayText(t);
    w.u8(ValueTag.array).u8(elementTag);
    if (items.length === 0) {
      w.u8(0);
      return;
    }
    const dims: number[] = [];
    for (let lvl: unknown = items; Array.isArray(lvl); lvl = lvl[0]) dims.push(lvl.length);
    if (dims.length > 6) _giveUp();
    w.u8(dims.length);
    for (let d = 0; d < dims.length; d++) {
      const len = dims[d]!;
      const lb = lowerBounds?.[d] ?? 1;
      if (!Number.isInteger(lb) || lb < _I32_MIN || lb > _I32_MAX || lb + len - 1 > _I32_MAX) _giveUp();
      w.u32(len).i32(lb);
    }
    const walk = (lvl: readonly unknown[], d: number): void => {
      for (const x of lvl) {
        if (d < dims.length - 1) walk(x as unknown[], d + 1);
        else if (x === null) w.u8(ValueTag.null);
        else element(w, x as string);
      }
    };
    walk(items, 0);
  };
}

/** The writer of a column type: a fast one where there is one, else typing with fromPgText and encoding that. */
function _writer(type: PgType): _Writer {
  const generic: _Writer = (w, t) => _encodeValue(w, 'value', fromPgText(type, t));
  let t: ReturnType<typeof _resolve>;
  try {
    t = _resolve(type);
  } catch {
    return generic; // the reference refuses each non-NULL value of it (and encodes NULLs)
  }
  if (t.kind === 'scalar') return _scalarWriter(t.scalar) ?? generic;
  if (t.kind === 'array') {
    let el: ReturnType<typeof _resolve>;
    try {
      el = _resolve(t.element);
    } catch {
      return generic;
    }
    const element = el.kind === 'scalar' ? _scalarWriter(el.scalar) : undefined;
    return el.kind === 'scalar' && element !== undefined ? _arrayWriter(el.scalar, element) : generic;
  }
  return generic;
}

// Array.isArray narrows a readonly array type to any[]; this keeps the declared element type.
const _isArray = (v: unknown): v is readonly unknown[] => Array.isArray(v);

// One writer for every row (encoding is synchronous and not re-entered); finish() copies the bytes out.
let _scratch = new ByteWriter(1024);
const _keyScratch = new ByteWriter(256); // grows to the largest key once (btree keys stay under ≈ 2.7 kB)
const _SCRATCH_KEEP_MAX = 1 << 20;

/** Options of a {@link PgTextRowEncoder}. */
export interface PgTextRowEncoderOptions {
  /**
   * Where `row` puts its results: views carved out of the arena's shared chunks instead of one array each (a fresh
   * array of more than 64 bytes is an off-heap allocation, which cost more than encoding the row's integers). Each
   * view keeps its whole chunk alive: for rows that are dropped together, as a source's batches are.
   */
  readonly arena?: BlockArena;
}

/**
 * Encodes rows of one column list given as Postgres TEXT output, straight to canonical bytes:
 * `row(texts)` equals `encodeRow` of the columns typed with `fromPgText`, and `primaryKey(texts)` equals
 * `encodePrimaryKey` of the key columns typed the same way — byte for byte, and with the same errors. Build one
 * per table and reuse it: the column order and the per-type writers are worked out once.
 * @example
 * const enc = new PgTextRowEncoder([{ name: 'id', type: 'int8' }, { name: 'note', type: 'text' }], [0]);
 * enc.row(['42', null]); // = encodeRow({ id: fromPgText('int8', '42'), note: null })
 * enc.primaryKey(['42', null]); // = encodePrimaryKey([fromPgText('int8', '42')])
 */
export class PgTextRowEncoder {
  readonly #columns: readonly PgTextColumn[];
  readonly #keyColumns: readonly number[];
  readonly #writers: readonly _Writer[];
  readonly #nameBytes: readonly Uint8Array[];
  readonly #order: readonly number[];
  readonly #arena: BlockArena | undefined;

  /**
   * @param columns every column, in the order `texts` will list them.
   * @param primaryKey indexes into `columns` of the key columns, in key order.
   * @throws TypeError for input of the wrong shape; RangeError for a key index out of range;
   *   CryptoError(UNSUPPORTED_VALUE) for duplicate or invalid column names (which `encodeRow` refuses).
   */
  constructor(columns: readonly PgTextColumn[], primaryKey: readonly number[], options: PgTextRowEncoderOptions = {}) {
    if (!_isArray(columns)) throw new TypeError('columns must be an array of { name, type }');
    if (!_isArray(primaryKey)) throw new TypeError('primaryKey must be an array of column indexes');
    columns.forEach((c: unknown, i) => {
      if (typeof c !== 'object' || c === null || typeof (c as PgTextColumn).name !== 'string' || !('type' in c)) throw new TypeError(`columns[${i}] must be { name, type }`);
    });
    primaryKey.forEach((k: unknown, i) => {
      if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k >= columns.length) throw new RangeError(`primaryKey[${i}] must be a column index below ${columns.length}`);
    });
    this.#columns = columns.map((c) => ({ name: c.name, type: c.type }));
    this.#keyColumns = [...primaryKey];
    const { bytes, order } = _columnOrder(columns.map((c) => c.name));
    this.#nameBytes = bytes;
    this.#order = order;
    this.#writers = columns.map((c) => _writer(c.type));
    if (options.arena !== undefined && !(options.arena instanceof BlockArena)) throw new TypeError('options.arena must be a BlockArena');
    this.#arena = options.arena;
  }

  /**
   * `encodeRow` of the row whose column values `texts` gives (`null` is SQL NULL), in the constructor's column order.
   * @throws RangeError when `texts` does not have one entry per column; otherwise exactly what typing each value
   *   with `fromPgText` and encoding the row with `encodeRow` throws (CryptoError MALFORMED_INPUT / UNSUPPORTED_VALUE).
   */
  row(texts: readonly (string | null)[]): Uint8Array {
    const n = this.#columns.length;
    if (!_isArray(texts) || texts.length !== n) throw new RangeError(`texts must have ${n} entries, one per column`);
    let out: Uint8Array;
    try {
      const w = _scratch.reset().u8(ENCODING_VERSION).u8(EncodingKind.row).u32(n);
      for (let i = 0; i < n; i++) {
        const k = this.#order[i]!;
        w.lenBytes(this.#nameBytes[k]!);
        const t = texts[k];
        if (t === null) w.u8(ValueTag.null);
        else if (typeof t === 'string') this.#writers[k]!(w, t);
        else _giveUp();
      }
      if (this.#arena === undefined) out = w.finish();
      else {
        const bytes = w.written();
        out = this.#arena.take(bytes.length);
        out.set(bytes);
      }
    } catch {
      return encodeRow(this.#columns.map((c, i) => ({ name: c.name, value: fromPgText(c.type, texts[i]!) })));
    }
    if (out.length > _SCRATCH_KEEP_MAX) _scratch = new ByteWriter(1024); // a huge row does not pin its buffer
    return out;
  }

  /**
   * `encodePrimaryKey` of the key columns' values in `texts` (the other entries are not read).
   * @throws RangeError when `texts` does not have one entry per column; otherwise exactly what `fromPgText` and
   *   `encodePrimaryKey` throw (a NULL key value is CryptoError UNSUPPORTED_VALUE).
   */
  primaryKey(texts: readonly (string | null)[]): Uint8Array {
    const n = this.#columns.length;
    if (!_isArray(texts) || texts.length !== n) throw new RangeError(`texts must have ${n} entries, one per column`);
    const keys = this.#keyColumns;
    try {
      if (keys.length === 0) _giveUp();
      const w = _keyScratch.reset().u8(ENCODING_VERSION).u8(EncodingKind.key).u32(keys.length);
      for (const k of keys) {
        const t = texts[k];
        if (typeof t !== 'string') _giveUp();
        this.#writers[k]!(w, t);
      }
      return w.finish();
    } catch {
      return encodePrimaryKey(keys.map((k) => fromPgText(this.#columns[k]!.type, texts[k]!)));
    }
  }
}
