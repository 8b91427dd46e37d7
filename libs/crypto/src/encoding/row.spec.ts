import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { equalBytes, toHex } from '@merklesync/merkle';
import { encodeMongoDocument, encodeMongoId, encodePrimaryKey, encodeRow } from './row.ts';
import { canonicalJson } from './jcs.ts';
import type { JsonValue, PgColumn, PgValue } from './types.ts';
import { errorCode } from '../../test/error-code.ts';

const utf8 = (s: string): string => toHex(new TextEncoder().encode(s));

describe('encodeRow / encodePrimaryKey / encodeMongoDocument known answers', () => {
  it('row: version, kind R, count, columns sorted by UTF-8 name', () => {
    const row = encodeRow([
      { name: 'note', value: null },
      { name: 'id', value: { type: 'int8', value: 1n } },
    ]);
    expect(toHex(row)).toBe('01' + '52' + '00000002' + '00000002' + '6964' + '04' + '0000000000000001' + '00000004' + '6e6f7465' + '00');
    // Same row as an object, in another column order.
    expect(toHex(encodeRow({ id: { type: 'int8', value: '1' }, note: null }))).toBe(toHex(row));
  });

  it('row names sort by UTF-8 bytes, not UTF-16 code units', () => {
    // U+FF61 (UTF-8 ef bd a1) sorts before U+1F600 (f0 9f 98 80) in UTF-8, after it in UTF-16.
    const row = encodeRow({ '\u{1F600}': null, '\uFF61': null, Z: null, a: null });
    expect(toHex(row)).toBe('0152' + '00000004' + '00000001' + '5a' + '00' + '00000001' + '61' + '00' + '00000003' + 'efbda1' + '00' + '00000004' + 'f09f9880' + '00');
  });

  it('empty row', () => expect(toHex(encodeRow([]))).toBe('015200000000'));

  it('primary key: version, kind K, count, values in key order', () => {
    expect(toHex(encodePrimaryKey([{ type: 'int4', value: 7 }, { type: 'text', value: 'eu' }]))).toBe(
      '01' + '4b' + '00000002' + '03' + '0000000000000007' + '08' + '00000002' + '6575',
    );
    expect(toHex(encodePrimaryKey([{ type: 'text', value: 'eu' }, { type: 'int4', value: 7 }]))).not.toBe(
      toHex(encodePrimaryKey([{ type: 'int4', value: 7 }, { type: 'text', value: 'eu' }])),
    );
  });

  it('MongoDB document and _id', () => {
    const canon = '{"_id":{"$oid":"65f000000000000000000001"},"n":{"$numberInt":"1"}}';
    expect(toHex(encodeMongoDocument('{ "_id": {"$oid": "65F000000000000000000001"}, "n": {"$numberInt": "1"} }'))).toBe(
      '01' + '44' + '18' + '00000042' + utf8(canon),
    );
    expect(toHex(encodeMongoId('{"$oid":"65f000000000000000000001"}'))).toBe('01' + '4b' + '00000001' + '18' + '00000023' + utf8('{"$oid":"65f000000000000000000001"}'));
    expect(toHex(encodeMongoId({ value: 'abc' }))).toBe('014b0000000118' + '00000005' + utf8('"abc"'));
  });

  it('a column list seen before never stands in for another one (per-list order cache)', () => {
    expect(toHex(encodeRow({}))).toBe('0152' + '00000000');
    expect(errorCode(() => encodeRow({ '': null }))).toBe('UNSUPPORTED_VALUE');
    const ab = toHex(encodeRow({ a: null, b: null }));
    expect(toHex(encodeRow({ b: null, a: null }))).toBe(ab);
    expect(errorCode(() => encodeRow([{ name: 'a', value: null }, { name: 'a', value: null }]))).toBe('UNSUPPORTED_VALUE');
    expect(errorCode(() => encodeRow({ 'a\u0000b': null }))).toBe('UNSUPPORTED_VALUE');
    expect(toHex(encodeRow({ ab: null }))).not.toBe(ab);
  });

  it('rejects duplicate or invalid columns, NULL or empty keys, non-documents', () => {
    expect(errorCode(() => encodeRow([{ name: 'a', value: null }, { name: 'a', value: null }]))).toBe('UNSUPPORTED_VALUE');
    expect(errorCode(() => encodeRow({ '': null }))).toBe('UNSUPPORTED_VALUE');
    expect(errorCode(() => encodeRow({ 'a\u0000': null }))).toBe('UNSUPPORTED_VALUE');
    expect(errorCode(() => encodeRow({ '\ud800': null }))).toBe('UNSUPPORTED_VALUE');
    expect(errorCode(() => encodeRow({ a: { type: 'int2', value: 1e6 } }))).toBe('UNSUPPORTED_VALUE');
    expect(errorCode(() => encodeRow([{ name: 1, value: null }] as never))).toBe('TypeError');
    expect(errorCode(() => encodeRow([{ name: 'a' }] as never))).toBe('TypeError');
    expect(errorCode(() => encodeRow(5 as never))).toBe('TypeError');
    expect(errorCode(() => encodePrimaryKey([]))).toBe('UNSUPPORTED_VALUE');
    expect(errorCode(() => encodePrimaryKey([null]))).toBe('UNSUPPORTED_VALUE');
    expect(errorCode(() => encodePrimaryKey('x' as never))).toBe('TypeError');
    expect(errorCode(() => encodeMongoDocument('[1]'))).toBe('UNSUPPORTED_VALUE');
    expect(errorCode(() => encodeMongoDocument('{"$oid":"65f000000000000000000001"}'))).toBe('UNSUPPORTED_VALUE');
    expect(errorCode(() => encodeMongoDocument('{"a": 1}'))).toBe('UNSUPPORTED_VALUE');
    expect(errorCode(() => encodeMongoDocument('{"a":'))).toBe('MALFORMED_INPUT');
    expect(errorCode(() => encodeMongoId('null'))).toBe('UNSUPPORTED_VALUE');
  });
});

// Generators of values already in their canonical typed form, so structural equality is value equality.
const i64 = fc.bigInt({ min: -(2n ** 63n) + 1n, max: 2n ** 63n - 2n });
const text = fc.string({ unit: 'grapheme', maxLength: 6 }).filter((s) => !s.includes('\u0000'));
const numericText = fc.tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.nat(6)).map(([neg, mag, scale]) => {
  const d = String(mag).padStart(scale + 1, '0');
  const s = scale ? `${d.slice(0, d.length - scale)}.${d.slice(d.length - scale)}` : d;
  return neg && /[1-9]/.test(d) ? `-${s}` : s;
});
const scalar: fc.Arbitrary<PgValue> = fc.oneof(
  fc.constant(null),
  fc.boolean().map((value) => ({ type: 'bool' as const, value })),
  fc.integer({ min: -32768, max: 32767 }).map((value) => ({ type: 'int2' as const, value })),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((value) => ({ type: 'int4' as const, value })),
  i64.map((value) => ({ type: 'int8' as const, value })),
  fc.double().map((value) => ({ type: 'float8' as const, value })),
  fc.float().map((value) => ({ type: 'float4' as const, value })),
  fc.oneof(numericText, fc.constantFrom('NaN', 'Infinity', '-Infinity')).map((value) => ({ type: 'numeric' as const, value })),
  fc.tuple(fc.constantFrom('text' as const, 'varchar' as const, 'bpchar' as const, 'name' as const), text).map(([type, value]) => ({ type, value })),
  fc.uint8Array({ maxLength: 8 }).map((value) => ({ type: 'bytea' as const, value })),
  fc.oneof(fc.integer({ min: -3e6, max: 3e6 }), fc.constantFrom('infinity' as const, '-infinity' as const)).map((value) => ({ type: 'date' as const, value })),
  fc.bigInt({ min: 0n, max: 86_400_000_000n }).map((value) => ({ type: 'time' as const, value })),
  fc.tuple(fc.bigInt({ min: 0n, max: 86_400_000_000n }), fc.integer({ min: -57599, max: 57599 })).map(([micros, offsetSeconds]) => ({ type: 'timetz' as const, value: { micros, offsetSeconds } })),
  fc.tuple(fc.constantFrom('timestamp' as const, 'timestamptz' as const), fc.oneof(i64, fc.constantFrom('infinity' as const, '-infinity' as const))).map(([type, value]) => ({ type, value })),
  fc.tuple(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 2 }), fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 2 }), i64).map(([months, days, micros]) => ({ type: 'interval' as const, value: { months, days, micros } })),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((value) => ({ type: 'uuid' as const, value })),
  fc.tuple(fc.constantFrom('json' as const, 'jsonb' as const), fc.jsonValue({ maxDepth: 2 })).map(([type, value]) => ({ type, value: value as JsonValue })),
);
const int4 = fc.option(fc.integer({ min: -5, max: 5 }).map((value): PgValue => ({ type: 'int4', value })), { nil: null });
const value: fc.Arbitrary<PgValue> = fc.oneof(
  { weight: 6, arbitrary: scalar },
  fc.array(int4, { maxLength: 4 }).map((items): PgValue => ({ type: 'array', elementType: 'int4', value: items })),
  fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: -2, max: 2 }), fc.array(int4, { minLength: 4, maxLength: 4 })).map(
    ([rows, cols, lb, cells]): PgValue => ({
      type: 'array',
      elementType: 'int4',
      value: Array.from({ length: rows }, (_, r) => cells.slice(r * cols, r * cols + cols)),
      lowerBounds: [lb, 1],
    }),
  ),
  fc.array(scalar, { maxLength: 3 }).map((fields): PgValue => ({ type: 'composite', fields })),
);
const row = fc.uniqueArray(fc.record({ name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }).filter((s) => !s.includes('\u0000')), value }), {
  selector: (c) => c.name,
  maxLength: 4,
});

/** An evidently injective description of a canonical value: the equality the encoding must agree with. */
function key(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
  if (v instanceof Uint8Array) return `0x${toHex(v)}`;
  if (Array.isArray(v)) return `[${v.map(key).join(',')}]`;
  const o = v as Record<string, unknown>;
  if ((o['type'] === 'json' || o['type'] === 'jsonb') && 'value' in o) return `${String(o['type'])}:${canonicalJson(o['value'] as JsonValue)}`;
  // Defaults the encoding applies: lower bounds 1.
  if (o['type'] === 'array' && o['lowerBounds'] === undefined && Array.isArray(o['value']) && o['value'].length > 0) return key({ ...o, lowerBounds: [1] });
  if (o['type'] === 'array' && Array.isArray(o['value']) && o['value'].length === 0) return `array:${String(o['elementType'])}:empty`;
  return `{${Object.keys(o).sort().map((k) => `${k}=${key(o[k])}`).join(';')}}`;
}
const rowKey = (cols: PgColumn[]): string => key([...cols].sort((a, b) => (a.name < b.name ? -1 : 1)).map((c) => [c.name, c.value]));

describe('properties', () => {
  it('determinism: same row in any column order → same bytes', () => {
    fc.assert(
      fc.property(row, fc.infiniteStream(fc.nat()), (cols, seeds) => {
        const shuffled = [...cols].map((c) => ({ c, r: seeds.next().value as number })).sort((a, b) => a.r - b.r).map((x) => x.c);
        expect(equalBytes(encodeRow(cols), encodeRow(shuffled))).toBe(true);
        expect(equalBytes(encodeRow(cols), encodeRow(structuredClone(cols)))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('injectivity: different rows never share an encoding (pairs, and a collision scan)', () => {
    fc.assert(
      fc.property(row, row, (a, b) => {
        expect(equalBytes(encodeRow(a), encodeRow(b))).toBe(rowKey(a) === rowKey(b));
      }),
      { numRuns: 300 },
    );
    // Near-misses: one column's value changed, or its value moved to a column of another name.
    fc.assert(
      fc.property(row.filter((r) => r.length > 0), value, fc.string({ minLength: 1, maxLength: 3 }), (a, v, n) => {
        const b = a.map((c, i) => (i === 0 ? { name: c.name, value: v } : c));
        expect(equalBytes(encodeRow(a), encodeRow(b))).toBe(rowKey(a) === rowKey(b));
        if (!a.some((c) => c.name === n) && !n.includes('\u0000')) {
          const c = a.map((col, i) => (i === 0 ? { name: n, value: col.value } : col));
          expect(equalBytes(encodeRow(a), encodeRow(c))).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.array(row, { minLength: 2, maxLength: 20 }), (rows) => {
        const seen = new Map<string, string>();
        for (const r of rows) {
          const h = toHex(encodeRow(r));
          const k = rowKey(r);
          const prev = seen.get(h);
          if (prev !== undefined) expect(prev).toBe(k);
          seen.set(h, k);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('injectivity of primary keys', () => {
    const pk = fc.array(scalar.filter((v) => v !== null), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(pk, pk, (a, b) => {
        expect(equalBytes(encodePrimaryKey(a), encodePrimaryKey(b))).toBe(key(a) === key(b));
      }),
      { numRuns: 300 },
    );
  });

  it('boundary shifts between column name and value never collide', () => {
    const a = encodeRow({ ab: { type: 'text', value: 'c' } });
    const b = encodeRow({ a: { type: 'text', value: 'bc' } });
    expect(equalBytes(a, b)).toBe(false);
    const c = encodeRow({ a: { type: 'composite', fields: [null] }, b: null });
    const d = encodeRow({ a: { type: 'composite', fields: [null, null] } });
    expect(equalBytes(c, d)).toBe(false);
  });
});
