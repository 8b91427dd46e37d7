// Debezium's JSON representations of PostgreSQL values → the typed values of @merklesync/crypto, so that a row read
// through Debezium encodes (encodeRow) to the same bytes as the same row read through pgoutput. Every
// representation the PostgreSQL connector can emit for a supported type is decoded; representations that lost
// information on the way (timetz folded into UTC, intervals as µs, doubles without a declared scale) are refused
// with the reason, never guessed.
import { fromPgText, type PgArrayItems, type PgValue, type ResolvedPgType, type ScalarTypeName } from '@merklesync/crypto';
import { JsonNumber, isJsonObject, jsonBigInt, numberText, type ExactJson } from './json.ts';

/** How the connector was told to represent values (its `*.handling.mode` settings); used where no schema says it. */
export interface DebeziumValueModes {
  /** `decimal.handling.mode` */
  decimal: 'precise' | 'string' | 'double';
  /** `binary.handling.mode` */
  binary: 'bytes' | 'base64' | 'base64-url-safe' | 'hex';
  /** `time.precision.mode` */
  time: 'adaptive' | 'adaptive_time_microseconds' | 'connect' | 'isostring';
  /** `unavailable.value.placeholder` (unchanged TOASTed values) */
  unavailablePlaceholder: string;
}

/** The defaults of deploy/debezium/connector.json. */
export const DEFAULT_VALUE_MODES: DebeziumValueModes = {
  decimal: 'string',
  binary: 'bytes',
  time: 'adaptive_time_microseconds',
  unavailablePlaceholder: '__debezium_unavailable_value',
};

/** The Kafka Connect schema of one value (or of an array's items), when the record carries schemas. */
export interface ConnectSchema {
  /** Connect type: int8..int64, float, double, boolean, string, bytes, array, map, struct. */
  type: string;
  /** Logical name, e.g. `io.debezium.time.MicroTimestamp`, `org.apache.kafka.connect.data.Decimal`. */
  name: string | null;
  parameters: Readonly<Record<string, string>>;
  items: ConnectSchema | null;
}

/** What the decoder knows about one column. */
export interface ColumnInfo {
  name: string;
  /** The PostgreSQL type: from `__debezium.source.column.type` (column.propagate.source.type) or the catalog. */
  pgType: ResolvedPgType;
  /** Declared numeric scale (`numeric(p,s)`), when known. */
  scale: number | null;
  /** The value's Connect schema, null for schemaless records. */
  schema: ConnectSchema | null;
}

/** A value Debezium sent that cannot become the typed value pgoutput would give. `reason` is for people. */
export class ValueDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValueDecodeError';
  }
}

function _fail(col: string, why: string): never {
  throw new ValueDecodeError(`column ${col}: ${why}`);
}

const _B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const _B64URL = /^[A-Za-z0-9_-]*={0,2}$/;

function _bytes(col: string, raw: ExactJson, encoding: DebeziumValueModes['binary']): Uint8Array {
  if (typeof raw !== 'string') _fail(col, `expected ${encoding} text, got ${_kind(raw)}`);
  switch (encoding) {
    case 'hex':
      if (!/^(?:[0-9a-fA-F]{2})*$/.test(raw)) _fail(col, 'not hex');
      return Uint8Array.from(Buffer.from(raw, 'hex'));
    case 'base64-url-safe':
      if (!_B64URL.test(raw)) _fail(col, 'not base64url');
      return Uint8Array.from(Buffer.from(raw, 'base64url'));
    case 'bytes':
    case 'base64':
      if (!_B64.test(raw) || raw.length % 4 !== 0) _fail(col, 'not base64');
      return Uint8Array.from(Buffer.from(raw, 'base64'));
  }
}

function _kind(raw: ExactJson): string {
  if (raw === null) return 'null';
  if (raw instanceof JsonNumber || typeof raw === 'number') return `number ${numberText(raw)}`;
  if (Array.isArray(raw)) return 'array';
  return typeof raw === 'object' ? 'object' : `${typeof raw} ${JSON.stringify(raw).slice(0, 40)}`;
}

/** Two's-complement big-endian bytes (Connect Decimal, VariableScaleDecimal) → bigint. */
function _unscaled(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return bytes[0]! & 0x80 ? v - (1n << BigInt(bytes.length * 8)) : v;
}

/** unscaled × 10^-scale as Postgres prints a numeric: `-12.340`, `0.05`, `7`. */
function _decimalText(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  let digits = (neg ? -unscaled : unscaled).toString();
  if (scale <= 0) return (neg ? '-' : '') + digits + '0'.repeat(-scale);
  if (digits.length <= scale) digits = '0'.repeat(scale - digits.length + 1) + digits;
  return `${neg ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/**
 * A double (decimal.handling.mode=double) back to the numeric Postgres stored, given the column's declared scale.
 * Exact only when the decimal has at most `scale` fraction digits and ≤ 15 significant digits; anything else is
 * refused (the double lost digits).
 */
function _doubleToNumeric(col: string, raw: JsonNumber | number, scale: number | null): string {
  if (scale === null) _fail(col, 'decimal.handling.mode=double cannot carry a numeric without a declared scale exactly; use string or precise');
  const text = numberText(raw);
  const m = /^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/.exec(text);
  if (!m) _fail(col, `not a number: ${text}`);
  let intPart = m[2]!;
  let frac = m[3] ?? '';
  let exp = Number(m[4] ?? '0');
  // Shift the decimal point by the exponent.
  while (exp > 0) {
    intPart += frac[0] ?? '0';
    frac = frac.slice(1);
    exp--;
  }
  while (exp < 0) {
    frac = (intPart.slice(-1) || '0') + frac;
    intPart = intPart.slice(0, -1);
    exp++;
  }
  frac = frac.replace(/0+$/, '');
  const significant = (intPart + frac).replace(/^0+/, '').length;
  if (frac.length > scale || significant > 15) _fail(col, `double ${text} does not carry numeric(…,${scale}) exactly; use decimal.handling.mode=string or precise`);
  const digits = (intPart.replace(/^0+/, '') || '0') + (scale > 0 ? '.' + frac.padEnd(scale, '0') : '');
  return (m[1] === '-' && /[1-9]/.test(digits) ? '-' : '') + digits;
}

/** ISO 8601 duration as io.debezium.time.Interval writes it (`P1Y2M-3DT4H5M6.7S`) → Postgres' three fields. */
function _parseIsoInterval(col: string, text: string): { months: number; days: number; micros: bigint } {
  const m = /^P(-?[0-9]+)Y(-?[0-9]+)M(-?[0-9]+)DT(-?[0-9]+)H(-?[0-9]+)M(-?)([0-9]+)(?:\.([0-9]{1,9}))?S$/.exec(text);
  if (!m) _fail(col, `not an io.debezium.time.Interval: ${JSON.stringify(text.slice(0, 60))}`);
  const months = Number(m[1]) * 12 + Number(m[2]);
  const days = Number(m[3]);
  // Debezium prints the seconds from a double with up to 9 fraction digits (4.714286 s → "4.714285999"): Postgres
  // stores whole microseconds, so the nearest microsecond is the stored value.
  const nanos = BigInt(m[7]!) * 1_000_000_000n + BigInt((m[8] ?? '').padEnd(9, '0'));
  const secMicros = (m[6] === '-' ? -1n : 1n) * ((nanos + 500n) / 1000n);
  const micros = BigInt(m[4]!) * 3_600_000_000n + BigInt(m[5]!) * 60_000_000n + secMicros;
  return { months, days, micros };
}

function _int(col: string, raw: ExactJson): bigint {
  const v = jsonBigInt(raw);
  if (v === undefined || typeof raw === 'string') _fail(col, `expected an integer, got ${_kind(raw)}`);
  return v;
}

function _float(col: string, raw: ExactJson): number {
  if (typeof raw === 'number') return raw;
  if (raw instanceof JsonNumber) return Number(raw.text);
  // Jackson quotes the non-finite doubles.
  if (raw === 'NaN') return NaN;
  if (raw === 'Infinity') return Infinity;
  if (raw === '-Infinity') return -Infinity;
  return _fail(col, `expected a number, got ${_kind(raw)}`);
}

function _string(col: string, raw: ExactJson): string {
  if (typeof raw !== 'string') _fail(col, `expected a string, got ${_kind(raw)}`);
  return raw;
}

/** Postgres' date range in days since 1970-01-01 (julian days 0 .. 2147483494 shifted). */
const _MIN_PG_DAY = -2440588n;
const _MAX_PG_DAY = 2145042906n;

const _SPECIAL_NUMERIC: Readonly<Record<string, string>> = {
  NAN: 'NaN',
  NaN: 'NaN',
  POSITIVE_INFINITY: 'Infinity',
  Infinity: 'Infinity',
  NEGATIVE_INFINITY: '-Infinity',
  '-Infinity': '-Infinity',
};

/** Scalar value of `type` from its Debezium representation (`schema` when the record carries one). */
function _scalar(col: string, type: ScalarTypeName, scale: number | null, schema: ConnectSchema | null, raw: ExactJson, modes: DebeziumValueModes): PgValue {
  const logical = schema?.name ?? null;
  switch (type) {
    case 'bool':
      if (typeof raw !== 'boolean') _fail(col, `expected a boolean, got ${_kind(raw)}`);
      return { type, value: raw };
    case 'int2':
    case 'int4':
    case 'int8':
      return { type, value: _int(col, raw) };
    case 'float4':
    case 'float8':
      return { type, value: _float(col, raw) };
    case 'numeric': {
      if (logical === 'io.debezium.data.VariableScaleDecimal' || (logical === null && isJsonObject(raw))) {
        if (!isJsonObject(raw)) _fail(col, `expected {scale, value}, got ${_kind(raw)}`);
        const s = jsonBigInt(raw.scale);
        if (s === undefined) _fail(col, 'VariableScaleDecimal without an integer scale');
        return { type, value: _decimalText(_unscaled(_bytes(col, raw.value ?? null, 'base64')), Number(s)) };
      }
      if (logical === 'org.apache.kafka.connect.data.Decimal' || (logical === null && modes.decimal === 'precise')) {
        const s = schema?.parameters.scale ?? (scale === null ? undefined : String(scale));
        if (s === undefined || !/^-?[0-9]+$/.test(s)) _fail(col, 'Connect Decimal without a scale (schemaless records need the column scale from the catalog)');
        return { type, value: _decimalText(_unscaled(_bytes(col, raw, 'base64')), Number(s)) };
      }
      if (raw instanceof JsonNumber || typeof raw === 'number') return { type, value: _doubleToNumeric(col, raw, scale) };
      const text = _string(col, raw);
      // Debezium spells the special values as its SpecialValueDecimal constants (string mode) or Jackson's (double).
      const special = _SPECIAL_NUMERIC[text];
      return special !== undefined ? { type, value: special } : fromPgText(type, text);
    }
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'name':
      return { type, value: _string(col, raw) };
    case 'bytea': {
      const enc = schema?.type === 'bytes' ? 'bytes' : modes.binary;
      return { type, value: _bytes(col, raw, enc) };
    }
    case 'date':
      if (typeof raw === 'string') return fromPgText(type, raw); // isostring mode
      {
        // ±infinity arrive as out-of-range day numbers (beyond Postgres' 4713 BC .. 5874897 AD).
        const d = _int(col, raw);
        if (d > _MAX_PG_DAY) return { type, value: 'infinity' };
        if (d < _MIN_PG_DAY) return { type, value: '-infinity' };
        return { type, value: d };
      }
    case 'time': {
      if (typeof raw === 'string') return fromPgText(type, raw.replace(/Z$/, ''));
      const v = _int(col, raw);
      const unit =
        logical === 'io.debezium.time.MicroTime' ? 'us'
        : logical === 'io.debezium.time.NanoTime' ? 'ns'
        : logical === 'io.debezium.time.Time' || logical === 'org.apache.kafka.connect.data.Time' ? 'ms'
        : logical === null && modes.time === 'adaptive_time_microseconds' ? 'us'
        : logical === null && modes.time === 'connect' ? 'ms'
        : _fail(col, `time representation ${logical ?? `unknown for time.precision.mode=${modes.time} without a schema`}`);
      if (unit === 'ns' && v % 1000n !== 0n) _fail(col, 'NanoTime below microsecond precision');
      return { type, value: unit === 'us' ? v : unit === 'ms' ? v * 1000n : v / 1000n };
    }
    case 'timestamp': {
      if (typeof raw === 'string') return fromPgText(type, raw.replace('T', ' ').replace(/Z$/, ''));
      const v = _int(col, raw);
      const unit =
        logical === 'io.debezium.time.MicroTimestamp' ? 'us'
        : logical === 'io.debezium.time.NanoTimestamp' ? 'ns'
        : logical === 'io.debezium.time.Timestamp' || logical === 'org.apache.kafka.connect.data.Timestamp' ? 'ms'
        : logical === null && modes.time === 'adaptive_time_microseconds' ? 'us'
        : logical === null && modes.time === 'connect' ? 'ms'
        : _fail(col, `timestamp representation ${logical ?? `unknown for time.precision.mode=${modes.time} without a schema`}`);
      // Debezium's documented ±infinity sentinels (9223372036825200000 / -9223372036832400000).
      if (v >= 9223372036825200000n) return { type, value: 'infinity' };
      if (v <= -9223372036832400000n) return { type, value: '-infinity' };
      if (unit === 'ns' && v % 1000n !== 0n) _fail(col, 'NanoTimestamp below microsecond precision');
      return { type, value: unit === 'us' ? v : unit === 'ms' ? v * 1000n : v / 1000n };
    }
    case 'timestamptz':
      // io.debezium.time.ZonedTimestamp: ISO 8601 in UTC ('2024-02-29T07:04:56.789000Z'); 'infinity' passes through.
      return fromPgText(type, _string(col, raw));
    case 'timetz':
      return _fail(col, 'timetz: Debezium sends io.debezium.time.ZonedTime normalized to UTC, which loses the stored offset; not representable');
    case 'interval':
      if (logical === 'io.debezium.time.MicroDuration' || raw instanceof JsonNumber || typeof raw === 'number') {
        return _fail(col, 'interval as io.debezium.time.MicroDuration folds months and days into µs; set interval.handling.mode=string');
      }
      return { type, value: _parseIsoInterval(col, _string(col, raw)) };
    case 'uuid':
      return { type, value: _string(col, raw) };
    case 'json':
    case 'jsonb':
      return { type, text: _string(col, raw) };
  }
}

function _items(col: string, elementType: ScalarTypeName, scale: number | null, schema: ConnectSchema | null, raw: ExactJson[], modes: DebeziumValueModes): PgArrayItems {
  return raw.map((item, i) => {
    if (item === null) return null;
    if (Array.isArray(item)) return _items(`${col}[${i}]`, elementType, scale, schema, item, modes);
    return _scalar(`${col}[${i}]`, elementType, scale, schema, item, modes);
  });
}

/**
 * One column value from a Debezium record → the typed value pgoutput would give for it.
 * @throws ValueDecodeError naming the column when the representation is malformed or lost information.
 * @example decodeValue({ name: 'n', pgType: { scalar: 'numeric', array: false }, scale: 2, schema: null }, '9.90', DEFAULT_VALUE_MODES)
 */
export function decodeValue(col: ColumnInfo, raw: ExactJson, modes: DebeziumValueModes): PgValue {
  if (raw === null) return null;
  if (col.pgType.array) {
    if (!Array.isArray(raw)) _fail(col.name, `expected an array, got ${_kind(raw)}`);
    // Debezium writes one-dimensional arrays with lower bound 1 (what it reads back from Postgres' text).
    return { type: 'array', elementType: col.pgType.scalar, value: _items(col.name, col.pgType.scalar, col.scale, col.schema?.items ?? null, raw, modes) };
  }
  return _scalar(col.name, col.pgType.scalar, col.scale, col.schema, raw, modes);
}

/** True when `raw` is Debezium's placeholder for an unchanged TOASTed value (in any representation). */
export function isUnavailable(raw: ExactJson, modes: DebeziumValueModes): boolean {
  const p = modes.unavailablePlaceholder;
  if (typeof raw === 'string') return raw === p || raw === Buffer.from(p).toString('base64') || raw === Buffer.from(p).toString('hex');
  if (Array.isArray(raw)) return raw.length === 1 && typeof raw[0] === 'string' && isUnavailable(raw[0], modes);
  return false;
}
