// Top-level encodings: a relational row, a MongoDB document, a primary key. Each starts with the version
// byte and a kind byte, so the three can never be confused with each other or with a later format.
import { ByteWriter, compareBytes } from '@merklesync/merkle';
import { _canonicalEjson } from './ejson.ts';
import { _encodeValue } from './value.ts';
import { _unsupported, _utf8 } from './_util.ts';
import { ENCODING_VERSION, EncodingKind, ValueTag, type PgColumn, type PgValue } from './types.ts';

const _enc = new TextEncoder();

/**
 * The canonical encoding of a row: version, kind 'R', the column count, then per column — sorted by the
 * UTF-8 bytes of its name, so the table's column order does not matter — the name and the typed value.
 * The table and primary key are not part of it (the commitment and the AAD bind them separately).
 * @param columns `[{ name, value }, ...]` or an object `{ name: value, ... }`.
 * @throws TypeError for input of the wrong shape; CryptoError(UNSUPPORTED_VALUE) for duplicate or invalid
 *   column names and for values the encoding cannot represent.
 * @example encodeRow({ id: { type: 'int8', value: 1n }, note: null })
 */
export function encodeRow(columns: readonly PgColumn[] | Readonly<Record<string, PgValue>>): Uint8Array {
  let names: string[];
  let values: PgValue[];
  if (Array.isArray(columns)) {
    const n = columns.length;
    names = new Array<string>(n);
    values = new Array<PgValue>(n);
    for (let i = 0; i < n; i++) {
      const c: unknown = columns[i];
      if (typeof c !== 'object' || c === null || typeof (c as PgColumn).name !== 'string' || !('value' in c)) throw new TypeError(`columns[${i}] must be { name, value }`);
      names[i] = (c as PgColumn).name;
      values[i] = (c as PgColumn).value;
    }
  } else if (typeof columns === 'object' && columns !== null) {
    names = Object.keys(columns);
    values = names.map((k) => (columns as Record<string, PgValue>)[k]!);
  } else throw new TypeError('columns must be an array of { name, value } or an object');
  const n = names.length;
  const { bytes, order } = _columnOrder(names);
  const w = _scratch.reset().u8(ENCODING_VERSION).u8(EncodingKind.row).u32(n);
  for (let i = 0; i < n; i++) {
    const k = order[i]!;
    w.lenBytes(bytes[k]!);
    _encodeValue(w, `row.${names[k]!}`, values[k]!);
  }
  const out = w.finish();
  if (out.length > _SCRATCH_KEEP_MAX) _scratch = new ByteWriter(1024); // a huge row does not pin its buffer
  return out;
}

// One writer for every row (encodeRow is synchronous and not re-entered): its buffer grows to the largest row once
// instead of two allocations per row; finish() copies the row out.
let _scratch = new ByteWriter(1024);
const _SCRATCH_KEEP_MAX = 1 << 20;

// Rows of one table repeat the same column list: its names' UTF-8 and their order by bytes are kept per list.
const _ORDER_CACHE_MAX = 256;
const _orders = new Map<string, { readonly bytes: readonly Uint8Array[]; readonly order: readonly number[] }>();

export function _columnOrder(names: readonly string[]): { readonly bytes: readonly Uint8Array[]; readonly order: readonly number[] } {
  // Count, then the names NUL-separated: valid names are non-empty and NUL-free, so no other list (valid or not)
  // has the key of a valid list, and only valid lists are cached.
  const key = `${names.length}\u0000${names.join('\u0000')}`;
  const hit = _orders.get(key);
  if (hit !== undefined) return hit;
  const n = names.length;
  const bytes = names.map(_columnName);
  // Column order by name bytes (insertion sort of indexes: rows have few columns).
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = 1; i < n; i++) {
    const x = order[i]!;
    let j = i - 1;
    while (j >= 0 && compareBytes(bytes[order[j]!]!, bytes[x]!) > 0) {
      order[j + 1] = order[j]!;
      j--;
    }
    order[j + 1] = x;
  }
  for (let i = 1; i < n; i++) {
    if (compareBytes(bytes[order[i - 1]!]!, bytes[order[i]!]!) === 0) _unsupported('row', `duplicate column ${JSON.stringify(names[order[i]!])}`);
  }
  const out = { bytes, order };
  if (_orders.size >= _ORDER_CACHE_MAX) _orders.clear();
  _orders.set(key, out);
  return out;
}

// Column names repeat on every row of a table: their checked UTF-8 is kept (bounded; never handed out).
const _COLUMN_CACHE_MAX = 4096;
const _columnNames = new Map<string, Uint8Array>();

function _columnName(name: string): Uint8Array {
  const hit = _columnNames.get(name);
  if (hit !== undefined) return hit;
  if (name === '' || name.includes('\u0000')) _unsupported('column name', `invalid name ${JSON.stringify(name)}`);
  const b = _utf8('column name', name);
  if (name.length <= 256) {
    if (_columnNames.size >= _COLUMN_CACHE_MAX) _columnNames.clear();
    _columnNames.set(name, b);
  }
  return b;
}

/**
 * The canonical encoding of a primary key: version, kind 'K', the count, then the key columns' typed values
 * in the key's column order (no names: the key's definition fixes them). Used for map keys and the AAD.
 * @throws TypeError for input of the wrong shape; CryptoError(UNSUPPORTED_VALUE) for an empty key, a NULL
 *   (primary keys are NOT NULL) or a value the encoding cannot represent.
 * @example encodePrimaryKey([{ type: 'int4', value: 7 }, { type: 'text', value: 'eu' }])
 */
export function encodePrimaryKey(values: readonly PgValue[]): Uint8Array {
  if (!Array.isArray(values)) throw new TypeError('values must be an array');
  if (values.length === 0) _unsupported('primary key', 'no columns');
  const w = new ByteWriter().u8(ENCODING_VERSION).u8(EncodingKind.key).u32(values.length);
  values.forEach((v: PgValue, i) => {
    if (v === null) _unsupported(`primary key[${i}]`, 'NULL in a primary key');
    _encodeValue(w, `primary key[${i}]`, v);
  });
  return w.finish();
}

/**
 * The canonical encoding of a MongoDB document: version, kind 'D', then the document as an `ejson` value
 * (tag 0x18, u32 length, canonical Extended JSON text; field order kept).
 * @param doc canonical Extended JSON v2 text, or `{ text }`, or `{ value }` (the JSON.parse of that text).
 * @throws CryptoError(MALFORMED_INPUT) for text that is not JSON; CryptoError(UNSUPPORTED_VALUE) for non-canonical EJSON or a non-document.
 * @example encodeMongoDocument('{"_id":{"$oid":"65f000000000000000000001"},"n":{"$numberInt":"1"}}')
 */
export function encodeMongoDocument(doc: string | { text: string } | { value: unknown }): Uint8Array {
  const canon = _enc.encode(_canonicalEjson(doc, true));
  return new ByteWriter().u8(ENCODING_VERSION).u8(EncodingKind.document).u8(ValueTag.ejson).lenBytes(canon).finish();
}

/**
 * The primary-key encoding of a MongoDB `_id`: version, kind 'K', count 1, the `_id` as an `ejson` value.
 * @throws CryptoError(MALFORMED_INPUT / UNSUPPORTED_VALUE) as encodeMongoDocument; UNSUPPORTED_VALUE for a null `_id`.
 * @example encodeMongoId('{"$oid":"65f000000000000000000001"}')
 */
export function encodeMongoId(id: string | { text: string } | { value: unknown }): Uint8Array {
  const canon = _canonicalEjson(id, false);
  if (canon === 'null') _unsupported('ejson', 'a null _id');
  return new ByteWriter().u8(ENCODING_VERSION).u8(EncodingKind.key).u32(1).u8(ValueTag.ejson).lenBytes(_enc.encode(canon)).finish();
}
