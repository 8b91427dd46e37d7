/**
 * The typed value model of the canonical row encoding. Rows arrive in different shapes (pgoutput text,
 * Debezium JSON, node-postgres results, browser objects); every source first builds these typed values
 * (directly or with `fromPgText`), and only typed values are encoded. Byte format: README.md part A.
 */

/** Scalar PostgreSQL types the encoding supports (canonical `pg_type.typname`). */
export const SCALAR_TYPES = [
  'bool',
  'int2',
  'int4',
  'int8',
  'float4',
  'float8',
  'numeric',
  'text',
  'varchar',
  'bpchar',
  'name',
  'bytea',
  'date',
  'time',
  'timetz',
  'timestamp',
  'timestamptz',
  'interval',
  'uuid',
  'json',
  'jsonb',
] as const;
export type ScalarTypeName = (typeof SCALAR_TYPES)[number];

/** Element types an array may have: any scalar, or composite (record) elements. */
export type ArrayElementType = ScalarTypeName | 'composite';

/** ±infinity, as Postgres spells them for date, timestamp(tz), numeric-less temporal types and interval. */
export type Infinite = 'infinity' | '-infinity';

/** A JSON value as `JSON.parse` produces it (numbers are IEEE doubles). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Postgres `interval` as Postgres stores it: three independent fields, never normalized into each other. */
export interface IntervalFields {
  /** int32 */
  months: number;
  /** int32 */
  days: number;
  /** int64 microseconds */
  micros: bigint | number;
}

/** A non-NULL typed value. NULL is the JS `null` (see `PgValue`). */
export type PgTypedValue =
  | { type: 'bool'; value: boolean }
  | { type: 'int2' | 'int4' | 'int8'; value: bigint | number | string }
  /** float4 values are rounded to binary32 (Math.fround) before encoding. */
  | { type: 'float4' | 'float8'; value: number }
  /** Decimal text as Postgres prints it ('12.3400', '-0.5', 'NaN', 'Infinity', '-Infinity'), or an integer. */
  | { type: 'numeric'; value: string | bigint }
  | { type: 'text' | 'varchar' | 'bpchar' | 'name'; value: string }
  | { type: 'bytea'; value: Uint8Array }
  /** Days since 1970-01-01 (proleptic Gregorian). */
  | { type: 'date'; value: bigint | number | Infinite }
  /** Microseconds since midnight, 0 ..= 86_400_000_000 (Postgres allows 24:00:00). */
  | { type: 'time'; value: bigint | number }
  /** Local time of day in microseconds and the UTC offset in seconds, east of Greenwich positive. */
  | { type: 'timetz'; value: { micros: bigint | number; offsetSeconds: number } }
  /** Microseconds since 1970-01-01 00:00:00 (timestamptz: UTC; timestamp: no zone). */
  | { type: 'timestamp' | 'timestamptz'; value: bigint | number | Infinite }
  | { type: 'interval'; value: IntervalFields | Infinite }
  /** 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx' (either case) or 16 bytes. */
  | { type: 'uuid'; value: string | Uint8Array }
  /** A parsed JSON value... */
  | { type: 'json' | 'jsonb'; value: JsonValue }
  /** ...or the JSON text exactly as Postgres returns it (preferred: numbers keep their precision). */
  | { type: 'json' | 'jsonb'; text: string }
  /**
   * A Postgres array: nested JS arrays, one level per dimension (rectangular), elements typed values or null.
   * `lowerBounds` defaults to 1 for every dimension.
   */
  | { type: 'array'; elementType: ArrayElementType; value: PgArrayItems; lowerBounds?: readonly number[] }
  /** A composite value (row type): its fields in declaration order. */
  | { type: 'composite'; fields: readonly PgValue[] }
  /** A MongoDB value in canonical Extended JSON v2: the text, or the `JSON.parse` of that text. */
  | { type: 'ejson'; text: string }
  | { type: 'ejson'; value: unknown };

/** Any encodable value; `null` is SQL NULL (untyped). */
export type PgValue = PgTypedValue | null;

/** The items of one array dimension. */
export type PgArrayItems = readonly (PgValue | PgArrayItems)[];

/** A Postgres type for `fromPgText`: a type name or OID, or a structural descriptor. */
export type PgType =
  | string
  | number
  | { array: PgType }
  | { composite: readonly PgType[] };

/** One column of a row: its name and typed value. */
export interface PgColumn {
  name: string;
  value: PgValue;
}

/** Type tags: the first byte of every encoded value. */
export const ValueTag = {
  null: 0x00,
  bool: 0x01,
  int2: 0x02,
  int4: 0x03,
  int8: 0x04,
  float4: 0x05,
  float8: 0x06,
  numeric: 0x07,
  text: 0x08,
  varchar: 0x09,
  bpchar: 0x0a,
  name: 0x0b,
  bytea: 0x0c,
  date: 0x0d,
  time: 0x0e,
  timetz: 0x0f,
  timestamp: 0x10,
  timestamptz: 0x11,
  interval: 0x12,
  uuid: 0x13,
  json: 0x14,
  jsonb: 0x15,
  array: 0x16,
  composite: 0x17,
  ejson: 0x18,
} as const;
export type ValueTag = (typeof ValueTag)[keyof typeof ValueTag];

/** Version byte that starts every top-level encoding (row, document, primary key). */
export const ENCODING_VERSION = 0x01;

/** Kind byte after the version: what the encoding is. */
export const EncodingKind = {
  /** A relational row: columns sorted by name. */
  row: 0x52, // 'R'
  /** A MongoDB document. */
  document: 0x44, // 'D'
  /** A primary key (values in key-column order). */
  key: 0x4b, // 'K'
} as const;
