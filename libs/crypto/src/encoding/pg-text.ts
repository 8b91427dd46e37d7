// PostgreSQL TEXT output format → typed values: what pgoutput sends for each column and what a `SELECT`
// returns as text, so ingest and proxy/replay take the same path text → typed value → bytes.
import { _ParsedJson, canonicalJsonText } from './jcs.ts';
import { parsePgDate, parsePgInterval, parsePgTime, parsePgTimestamp, parsePgTimetz } from './datetime.ts';
import { formatNumeric, parseNumeric } from './numeric.ts';
import { resolvePgType } from './pg-types.ts';
import { _malformed, _unsupported } from './_util.ts';
import type { PgArrayItems, PgType, PgTypedValue, PgValue, ScalarTypeName } from './types.ts';

function _int(type: 'int2' | 'int4' | 'int8', text: string): PgTypedValue {
  if (!/^[+-]?[0-9]+$/.test(text)) _malformed(type, `not an integer: ${JSON.stringify(text.slice(0, 40))}`);
  const b = BigInt(text);
  const bits = type === 'int2' ? 15n : type === 'int4' ? 31n : 63n;
  if (b < -(1n << bits) || b >= 1n << bits) _malformed(type, 'out of range');
  return type === 'int8' ? { type, value: b } : { type, value: Number(b) };
}

function _float(type: 'float4' | 'float8', text: string): PgTypedValue {
  if (!/^(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|NaN|[+-]?Infinity)$/.test(text)) _malformed(type, `not a number: ${JSON.stringify(text.slice(0, 40))}`);
  const x = Number(text);
  // Postgres prints float4 with the shortest digits that round-trip in binary32; rounding the double finds it.
  return { type, value: type === 'float4' ? Math.fround(x) : x };
}

function _bytea(text: string): Uint8Array {
  if (text.startsWith('\\x')) {
    const hex = text.slice(2);
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) _malformed('bytea', 'bad hex format');
    return Uint8Array.from({ length: hex.length / 2 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));
  }
  // bytea_output = 'escape': printable ASCII as itself, '\\' for a backslash, '\ooo' for any other byte.
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x5c) {
      if (c >= 0x80) _malformed('bytea', 'non-ASCII character in escape format');
      out.push(c);
    } else if (text[i + 1] === '\\') {
      out.push(0x5c);
      i++;
    } else {
      const o = text.slice(i + 1, i + 4);
      if (!/^[0-3][0-7]{2}$/.test(o)) _malformed('bytea', 'bad escape');
      out.push(parseInt(o, 8));
      i += 3;
    }
  }
  return Uint8Array.from(out);
}

function _uuid(text: string): string {
  if (_isCanonicalUuid(text)) return text; // uuid_out's own form: nothing to normalise
  const hex = (text.startsWith('{') && text.endsWith('}') ? text.slice(1, -1) : text).replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex) || /--|^-|-$/.test(text.replace(/[{}]/g, ''))) _malformed('uuid', `not a uuid: ${JSON.stringify(text.slice(0, 40))}`);
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// Lowercase hyphenated 8-4-4-4-12, as uuid_out prints it.
function _isCanonicalUuid(t: string): boolean {
  if (t.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = t.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 0x2d) return false;
    } else if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

function _scalar(type: ScalarTypeName, text: string): PgTypedValue {
  switch (type) {
    case 'bool':
      if (text === 't' || text === 'true') return { type, value: true };
      if (text === 'f' || text === 'false') return { type, value: false };
      return _malformed('bool', `not t/f: ${JSON.stringify(text.slice(0, 40))}`);
    case 'int2':
    case 'int4':
    case 'int8':
      return _int(type, text);
    case 'float4':
    case 'float8':
      return _float(type, text);
    case 'numeric':
      return { type, value: formatNumeric(parseNumeric(text)) };
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'name':
      return { type, value: text };
    case 'bytea':
      return { type, value: _bytea(text) };
    case 'date':
      return { type, value: parsePgDate(text) };
    case 'time':
      return { type, value: parsePgTime(text) };
    case 'timetz':
      return { type, value: parsePgTimetz(text) };
    case 'timestamp':
    case 'timestamptz':
      return { type, value: parsePgTimestamp(text, type === 'timestamptz') };
    case 'interval':
      return { type, value: parsePgInterval(text) };
    case 'uuid':
      return { type, value: _uuid(text) };
    case 'json':
    case 'jsonb':
      // Validated now (the parser is the boundary); the canonical text is kept for the encoder.
      return new _ParsedJson(type, text, canonicalJsonText(text, { duplicates: type === 'jsonb' ? 'last' : 'reject' }));
  }
}

/** array_out text → nested string|null items, and the lower bounds when a '[lb:ub]=' prefix gives them. */
export function _parseArrayText(text: string): { items: unknown[]; lowerBounds?: number[] } {
  const bad = (r: string): never => _malformed('array', `${r}: ${JSON.stringify(text.slice(0, 60))}`);
  let i = 0;
  let bounds: [number, number][] | undefined;
  if (text.startsWith('[')) {
    bounds = [];
    const m = /^((?:\[-?[0-9]+:-?[0-9]+\])+)=/.exec(text);
    if (!m) bad('bad dimension decoration');
    for (const b of m![1]!.matchAll(/\[(-?[0-9]+):(-?[0-9]+)\]/g)) bounds.push([Number(b[1]), Number(b[2])]);
    i = m![0].length;
  }
  const ws = (): void => {
    while (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r') i++;
  };
  const element = (): string | null => {
    ws();
    let out = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) bad('unterminated quoted element');
        const c = text[i++]!;
        if (c === '"') break;
        if (c === '\\') {
          if (i >= text.length) bad('dangling backslash');
          out += text[i++]!;
        } else out += c;
      }
      return out;
    }
    let trailing = '';
    let escaped = false;
    while (i < text.length && text[i] !== ',' && text[i] !== '}') {
      const c = text[i++]!;
      if (c === '{' || c === '"') bad(`unexpected ${c}`);
      if (c === '\\') {
        if (i >= text.length) bad('dangling backslash');
        out += trailing + text[i++]!;
        trailing = '';
        escaped = true;
      } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') trailing += c;
      else {
        out += trailing + c;
        trailing = '';
      }
    }
    if (out === '' && !escaped) bad('empty unquoted element');
    // Only a bare, unescaped NULL is NULL; "NULL" (quoted) or N\ULL is the string.
    return !escaped && out.toUpperCase() === 'NULL' ? null : out;
  };
  const list = (depth: number): unknown[] => {
    if (depth > 6) bad('more than 6 dimensions');
    ws();
    if (text[i] !== '{') bad("expected '{'");
    i++;
    const items: unknown[] = [];
    ws();
    if (text[i] === '}') {
      i++;
      return items;
    }
    for (;;) {
      ws();
      items.push(text[i] === '{' ? list(depth + 1) : element());
      ws();
      if (text[i] === ',') i++;
      else if (text[i] === '}') {
        i++;
        return items;
      } else bad("expected ',' or '}'");
    }
  };
  const items = list(1);
  ws();
  if (i !== text.length) bad('trailing characters');
  // Postgres arrays are rectangular: every sub-array of a level has the same length and depth.
  const dims: number[] = [];
  for (let lvl: unknown = items; Array.isArray(lvl); lvl = lvl[0]) dims.push(lvl.length);
  const check = (lvl: unknown[], d: number): void => {
    if (lvl.length !== dims[d]) bad('sub-arrays of different sizes');
    for (const x of lvl) {
      if (Array.isArray(x) !== d < dims.length - 1) bad('sub-arrays of different depths');
      if (Array.isArray(x)) check(x, d + 1);
    }
  };
  if (items.length > 0) check(items, 0);
  if (dims.length > 1 && dims.includes(0)) bad('empty sub-array');
  if (bounds) {
    if (bounds.length !== dims.length || items.length === 0) bad('dimension decoration does not match the elements');
    let lvl: unknown[] = items;
    for (const [lb, ub] of bounds) {
      if (ub - lb + 1 !== lvl.length) bad('dimension decoration does not match the elements');
      lvl = lvl[0] as unknown[];
    }
    return { items, lowerBounds: bounds.map((b) => b[0]) };
  }
  return { items };
}

/** record_out text → its fields as string|null ('' is an empty string only when quoted). */
function _parseRecordText(text: string): (string | null)[] {
  const bad = (r: string): never => _malformed('composite', `${r}: ${JSON.stringify(text.slice(0, 60))}`);
  if (!text.startsWith('(') || !text.endsWith(')')) bad("expected '(...)'");
  const fields: (string | null)[] = [];
  let i = 1;
  const end = text.length - 1;
  for (;;) {
    let out = '';
    let seen = false;
    let inQuotes = false;
    while (i < end && (inQuotes || (text[i] !== ',' && text[i] !== ')'))) {
      const c = text[i++]!;
      seen = true;
      if (c === '\\') {
        if (i >= end) bad('dangling backslash');
        out += text[i++]!;
      } else if (c === '"') {
        if (!inQuotes) inQuotes = true;
        else if (text[i] === '"') {
          out += '"';
          i++;
        } else inQuotes = false;
      } else out += c;
    }
    if (inQuotes) bad('unterminated quoted field');
    fields.push(seen ? out : null);
    if (i === end) return fields;
    if (text[i] !== ',') bad("expected ','");
    i++;
  }
}

export function _resolve(type: PgType): { kind: 'scalar'; scalar: ScalarTypeName } | { kind: 'array'; element: PgType } | { kind: 'composite'; fields: readonly PgType[] } {
  if (typeof type === 'string' || typeof type === 'number') {
    const r = resolvePgType(type);
    if (!r) return _unsupported('type', `unsupported Postgres type ${JSON.stringify(type)}`);
    return r.array ? { kind: 'array', element: r.scalar } : { kind: 'scalar', scalar: r.scalar };
  }
  if (typeof type === 'object' && type !== null) {
    if ('array' in type) return { kind: 'array', element: type.array };
    if ('composite' in type && Array.isArray(type.composite)) return { kind: 'composite', fields: type.composite };
  }
  throw new TypeError('type must be a type name, an OID, { array } or { composite: [...] }');
}

function _fromText(type: PgType, text: string, depth: number): PgTypedValue {
  if (depth > 32) _unsupported('type', 'nesting deeper than 32');
  const t = _resolve(type);
  if (t.kind === 'scalar') return _scalar(t.scalar, text);
  if (t.kind === 'composite') {
    const raw = _parseRecordText(text);
    if (raw.length !== t.fields.length) _malformed('composite', `${raw.length} fields, the type has ${t.fields.length}`);
    return { type: 'composite', fields: raw.map((f, k) => (f === null ? null : _fromText(t.fields[k]!, f, depth + 1))) };
  }
  const el = _resolve(t.element);
  if (el.kind === 'array') _unsupported('type', 'arrays of arrays are multi-dimensional arrays in Postgres: use the element type');
  const { items, lowerBounds } = _parseArrayText(text);
  const map = (lvl: unknown[]): PgArrayItems =>
    lvl.map((x) => (Array.isArray(x) ? map(x) : x === null ? null : _fromText(t.element, x as string, depth + 1)));
  const value = map(items);
  const out: PgTypedValue = { type: 'array', elementType: el.kind === 'composite' ? 'composite' : el.scalar, value };
  if (lowerBounds && lowerBounds.some((b) => b !== 1)) out.lowerBounds = lowerBounds;
  return out;
}

/**
 * Parses one column value in PostgreSQL's TEXT output format (DateStyle ISO, IntervalStyle postgres,
 * bytea_output hex or escape, extra_float_digits ≥ 1 as pgoutput and node-postgres use) into a typed value.
 * `text === null` is SQL NULL.
 * @param type a type name ('int4', 'integer', '_int4', 'int4[]', 'varchar(20)'), a built-in OID, or a
 *   descriptor `{ array: T }` / `{ composite: [T, ...] }` (composites need their field types).
 * @throws CryptoError(MALFORMED_INPUT) when the text is not that type's output; CryptoError(UNSUPPORTED_VALUE) for an unsupported type.
 * @example fromPgText('_int4', '{1,NULL,3}') // { type: 'array', elementType: 'int4', value: [{type:'int4',value:1}, null, {type:'int4',value:3}] }
 */
export function fromPgText(type: PgType, text: string | null): PgValue {
  if (text === null) return null;
  if (typeof text !== 'string') throw new TypeError('text must be a string or null');
  return _fromText(type, text, 0);
}
