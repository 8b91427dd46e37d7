import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { toHex } from '@merklesync/merkle';
import { CryptoError } from '../errors.ts';
import { fromPgText } from './pg-text.ts';
import { BlockArena } from '../envelope/seal.ts';
import { PgTextRowEncoder } from './pg-text-row.ts';
import { encodePrimaryKey, encodeRow } from './row.ts';
import { PG_TYPE_OIDS } from './pg-types.ts';
import type { PgType } from './types.ts';

/** What a call returns or throws, comparable across the two paths: hex, or the error's class, code and message. */
function outcome(f: () => Uint8Array): string {
  try {
    return toHex(f());
  } catch (e) {
    if (e instanceof CryptoError) return `CryptoError ${e.code}: ${e.message}`;
    if (e instanceof Error) return `${e.constructor.name}: ${e.message}`;
    return `untyped ${String(e)}`;
  }
}

/** The reference: type every text with fromPgText, then encodeRow / encodePrimaryKey. */
function referenceRow(columns: { name: string; type: PgType }[], texts: (string | null)[]): Uint8Array {
  return encodeRow(columns.map((c, i) => ({ name: c.name, value: fromPgText(c.type, texts[i]!) })));
}
function referenceKey(columns: { name: string; type: PgType }[], key: number[], texts: (string | null)[]): Uint8Array {
  return encodePrimaryKey(key.map((k) => fromPgText(columns[k]!.type, texts[k]!)));
}

/** Asserts the encoder agrees with the reference on one single-column row and on it as a one-column key. */
function agrees(type: PgType, text: string | null): void {
  const columns = [{ name: 'c', type }];
  const enc = new PgTextRowEncoder(columns, [0]);
  const what = `${JSON.stringify(type)} ${JSON.stringify(text)}`;
  expect(outcome(() => enc.row([text])), what).toBe(outcome(() => referenceRow(columns, [text])));
  expect(outcome(() => enc.primaryKey([text])), what).toBe(outcome(() => referenceKey(columns, [0], [text])));
}

// Texts per type: what Postgres prints (edge cases included), other spellings the parsers accept, and malformed
// input; each must give the reference's bytes or the reference's error.
const CASES: Record<string, string[]> = {
  bool: ['t', 'f', 'true', 'false', 'yes', 'T', ''],
  int2: ['0', '-0', '+7', '007', '-32768', '32767', '32768', '-32769', '1.0', '', ' 1', '1e3'],
  int4: ['0', '-2147483648', '2147483647', '2147483648', '000000000000000000001', '12a', '-', '+'],
  int8: ['0', '-0', '999999999999999', '-999999999999999', '1000000000000000', '-9223372036854775808', '9223372036854775807', '9223372036854775808', '-9223372036854775809', '+9223372036854775807', '0x10', '1_000'],
  float4: ['0', '-0', '1.1', '3.4028235e+38', '1e39', '1.4e-45', 'NaN', 'Infinity', '-Infinity', '+Infinity', 'inf', '.5', '5.', ' 1'],
  float8: ['0', '-0', '0.1', '1e+100', '1.7976931348623157e+308', '5e-324', 'NaN', '-Infinity', '1e400', 'nan', '1,5', ''],
  numeric: ['0', '-0', '0.00', '-0.00', '12.3400', '-1.5', '1e3', '1.5e-3', '+.5', 'NaN', 'Infinity', '-Infinity', '+Infinity', '1,5', '', 'abc', '9'.repeat(200), `0.${'0'.repeat(16400)}1`],
  text: ['', 'x', 'héllo wörld ✓', '\u{1f600}', 'a\u0000b', 'NULL', ' spaced '],
  varchar: ['x', ''],
  bpchar: ['x  '],
  name: ['pg_class'],
  bytea: ['\\x', '\\x00ff', 'a\\000\\\\\\377', '\\x0', '\\9'],
  date: ['2024-02-29', '1970-01-01', '0044-03-15 BC', '10000-01-01', 'infinity', '-infinity', '2023-02-29', '0000-01-01', '24-01-01', '2024-13-01', ''],
  time: ['04:05:06.7', '24:00:00', '25:00:00'],
  timetz: ['04:05:06.789+05:30', '12:00:00'],
  timestamp: ['2024-02-29 12:34:56.789', '2024-02-29T12:34:56', '0044-03-15 12:00:00 BC', 'infinity', '-infinity', '2024-01-01 00:00:00+00', '294277-01-01 00:00:00'],
  timestamptz: [
    '0001-01-01 00:00:00.000001+00',
    '9999-12-31 23:59:59.999999+00',
    '1699-12-31 23:59:59.999999+00',
    '1700-01-01 00:00:00+00',
    '2200-12-31 23:59:59.999999-15:59:59',
    '2201-01-01 00:00:00+00',
    '2025-06-30 24:00:00+00',
    '2025-06-30 24:00:00.000001+00',
    '2025-06-30 12:00:00.1234567+00',
    '2025-06-30 12:00:00.+00',
    '2025-06-30 12:00:00+0530',
    '2025-06-30 12:00:00+05:30:15',
    '2025-06-30 12:00:00+15:59:59',
    '2025-06-30 12:00:00+16',
    '2025-06-30 12:00:00+05:60',
    '2025-06-30 12:00:00+05:3',
    '2025-06-30 12:00:00Z',
    '2025-06-30T12:00:00+02',
    '2025-02-29 12:00:00+00',
    '2025-00-10 12:00:00+00',
    '2025-06-30 12:60:00+00',
    '2025-06-30 1a:00:00+00',
    '2024-02-29 12:34:56.789+05:30', '2024-02-29T07:04:56.789Z', '1900-01-01 00:00:00+05:53:28', '1970-01-01 00:00:00+00', 'infinity', '-infinity', '2024-01-01 00:00:00', '2024-01-01 00:00:00+16', '2024-01-01', '0001-01-01 00:00:00+00 BC'],
  interval: ['1 year 2 mons 3 days 04:05:06.7', 'infinity', 'P1D'],
  uuid: ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', 'a0eebc999c0b4ef8bb6d6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1', 'a0ee-bc99-9c0b-4ef8-bb6d6bb9bd380a11'],
  json: ['{"b": 2, "a": 1.50}', '{"a": 1, "a": 2}', '[1, "x", null, true]', '12345678901234567890', '"\\ud800"', '{"a":', ''],
  jsonb: [
    '{"a": 1, "b": [1, 2.50, {"c": null}]}',
    '{"a": 1, "a": 2}',
    '1e400',
    '1e-400',
    '-0',
    '[0.5, -0.0, 1.50, 123456789012345, 1234567890123456, 0.000000000000001, 12345678901234.5]',
    "{'a': 1}",
    '{"n": 0.10000000000000001}',
    String.raw`{"__proto__": 1, "10": 2, "9": 3, "a": 4, "": 5, "\uffff": 6, "\ud83d\ude00": 7, "é": 8, "😀": 9}`,
    String.raw`{"s": "tab\there \"q\" back\\slash \/ \u0001 \u001f \u007f \u2028 \b\f\n\r ✓"}`,
    '{"raw": "tab\there"}', // a raw control character: not JSON
    '{"note": "gift wrap, leave at the door", "n": 1, "tier": 1}',
    '{"code": "1e5 is not a number here"}',
    String.raw`{"lone": "\udc00"}`,
    '{"raw lone": "\udc00"}',
    String.raw`{"\ud800": 1}`,
    `${'['.repeat(70)}1${']'.repeat(70)}`,
    `${'['.repeat(600)}${']'.repeat(600)}`,
    ' {"a" : 1} ',
    '{"a": 1,}',
    '\ufeff{}',
    '',
    'null',
    'true',
    '"x"',
  ],
  _int4: ['{1,NULL,3}', '{}', '{{1,2},{3,4}}', '[0:2]={1,2,3}', '[1:1][-1:0]={{1,2}}', '[2147483647:2147483648]={1,2}', '{1,2', '{1,,2}', '{{1,2},{3}}', '{{}}', '[0:1]={1,2,3}', '{1,x}', '{2147483648}', '{{{{{{{1}}}}}}}', '{{{{{{1}}}}}}'],
  _text: ['{t1,bench,NULL}', '{t1,bench,priority}', '{nuLL,NULLx,xNULL,é,✓}', '{a,,b}', '{a, b}', '{a\u000bb}', '{,}', '{a}}', '{{a}', '{a', 'a}', '{"a \\"b\\"",c}', '{NULL,"NULL",N\\ULL,"",null}', '{"a,b","{x}","back\\\\slash"}', '{"abc}', '{"a\\u0000"}'],
  _int8: ['{9223372036854775807,-1}', '{9223372036854775808}'],
  _numeric: ['{1.50,NaN,NULL}', '{1,2'],
  _bool: ['{t,f}', '{yes}'],
  _float8: ['{1.5,NaN,-Infinity}'],
  _date: ['{2024-02-29,infinity}'],
  _timestamptz: ['{"2024-02-29 12:34:56+00"}'],
  _uuid: ['{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}', '{a0eebc999c0b4ef8bb6d6bb9bd380a11}'],
  _jsonb: ['{"{\\"a\\": 1}",NULL}', '{"{"}'],
  _bytea: ['{"\\\\x00ff"}'],
  _interval: ['{"1 day"}'],
  money: ['$1.00'],
};

describe('PgTextRowEncoder: Postgres text → canonical bytes in one pass, equal to fromPgText + encodeRow', () => {
  it('every listed text of every type: the reference bytes, or the reference error', () => {
    for (const [type, texts] of Object.entries(CASES)) for (const text of [...texts, null]) agrees(type, text);
  });

  it('types given as OIDs, modifiers and descriptors, including composites and types of no support', () => {
    agrees(PG_TYPE_OIDS.int4.oid, '5');
    agrees(PG_TYPE_OIDS.jsonb.arrayOid, '{"{\\"b\\": 1, \\"a\\": 2}"}');
    agrees('numeric(10,2)', '1.50');
    agrees('timestamp(3) with time zone', '2024-02-29 12:34:56.789+00');
    agrees({ array: 'text' }, '{a,b}');
    agrees({ array: { array: 'int4' } }, '{1}');
    agrees({ composite: ['int4', 'text'] }, '(1,"x y")');
    agrees({ array: { composite: ['int4', 'text'] } }, '{"(1,x)"}');
    agrees({} as PgType, '1');
  });

  it('a row of many columns: columns sorted by name bytes, whatever their order in the table', () => {
    const columns = [
      { name: 'zeta', type: 'int8' },
      { name: 'amount', type: 'numeric' },
      { name: 'Tags', type: '_text' },
      { name: 'é', type: 'text' },
      { name: 'attrs', type: 'jsonb' },
      { name: 'at', type: 'timestamptz' },
      { name: 'b', type: 'bytea' },
      { name: 'ref', type: 'uuid' },
    ];
    const texts = ['42', '12.50', '{x,NULL}', 'é', '{"b": 1, "a": [2]}', '2025-01-01 00:00:00+00', '\\x00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'];
    const enc = new PgTextRowEncoder(columns, [0, 7]);
    expect(toHex(enc.row(texts))).toBe(toHex(referenceRow(columns, texts)));
    expect(toHex(enc.primaryKey(texts))).toBe(toHex(referenceKey(columns, [0, 7], texts)));
    // The same encoder, many rows: the shared scratch writer never leaks one row into the next.
    const other = ['7', null, '{}', '', 'null', 'infinity', '\\x', '00000000-0000-0000-0000-000000000000'];
    expect(toHex(enc.row(other))).toBe(toHex(referenceRow(columns, other)));
    expect(toHex(enc.row(texts))).toBe(toHex(referenceRow(columns, texts)));
  });

  it('with an arena: the same bytes, each row its own view of a shared chunk (none overlaps another); a big row its own array', () => {
    const columns = [
      { name: 'id', type: 'int8' },
      { name: 'note', type: 'text' },
    ];
    const arena = new BlockArena(1024);
    const enc = new PgTextRowEncoder(columns, [0], { arena });
    const rows = Array.from({ length: 40 }, (_, i) => [String(i), 'x'.repeat(i)]);
    const out = rows.map((t) => enc.row(t));
    for (const [i, t] of rows.entries()) expect(toHex(out[i]!)).toBe(toHex(referenceRow(columns, t)));
    expect(out[1]!.buffer).toBe(out[0]!.buffer);
    const spans = out.map((b) => [b.buffer, b.byteOffset, b.byteOffset + b.length] as const);
    for (let i = 0; i < spans.length; i++) for (let j = i + 1; j < spans.length; j++) if (spans[i]![0] === spans[j]![0]) expect(spans[i]![2] <= spans[j]![1] || spans[j]![2] <= spans[i]![1]).toBe(true);
    const big = enc.row(['1', 'y'.repeat(600)]);
    expect(toHex(big)).toBe(toHex(referenceRow(columns, ['1', 'y'.repeat(600)])));
    expect(big.buffer.byteLength).toBe(big.length);
    // A refused value still takes the reference path (and error); keys are never put in the arena.
    expect(outcome(() => new PgTextRowEncoder([{ name: 'd', type: 'date' }], [], { arena }).row(['2023-02-29']))).toMatch(/^CryptoError MALFORMED_INPUT/);
    expect(enc.primaryKey(['5', 'z']).byteOffset).toBe(0);
    expect(() => new PgTextRowEncoder(columns, [0], { arena: {} as BlockArena })).toThrow(TypeError);
  });

  it('a bad value anywhere in the row: the reference error, after the fast path had written earlier columns', () => {
    const columns = [
      { name: 'a', type: 'int4' },
      { name: 'b', type: 'date' },
    ];
    const enc = new PgTextRowEncoder(columns, [1]);
    expect(outcome(() => enc.row(['1', '2023-02-29']))).toBe(outcome(() => referenceRow(columns, ['1', '2023-02-29'])));
    expect(outcome(() => enc.row(['1', '2023-02-29']))).toMatch(/^CryptoError MALFORMED_INPUT/);
    expect(outcome(() => enc.primaryKey(['1', null]))).toMatch(/^CryptoError UNSUPPORTED_VALUE: .*NULL/);
    expect(toHex(enc.row(['1', '2023-02-28']))).toBe(toHex(referenceRow(columns, ['1', '2023-02-28'])));
  });

  it('arguments: the wrong number of texts, a non-string text, bad columns, key indexes and names', () => {
    const enc = new PgTextRowEncoder([{ name: 'a', type: 'int4' }], [0]);
    expect(() => enc.row([])).toThrow(RangeError);
    expect(() => enc.primaryKey(['1', '2'])).toThrow(RangeError);
    expect(() => enc.row([5 as never])).toThrow(TypeError);
    expect(() => new PgTextRowEncoder([{ name: 'a' } as never], [])).toThrow(TypeError);
    expect(() => new PgTextRowEncoder('a' as never, [])).toThrow(TypeError);
    expect(() => new PgTextRowEncoder([{ name: 'a', type: 'int4' }], [1])).toThrow(RangeError);
    expect(outcome(() => new PgTextRowEncoder([{ name: 'a', type: 'int4' }, { name: 'a', type: 'text' }], []).row(['1', 'x']))).toMatch(/^CryptoError UNSUPPORTED_VALUE: .*duplicate/);
    expect(outcome(() => new PgTextRowEncoder([{ name: '', type: 'int4' }], []).row(['1']))).toMatch(/^CryptoError UNSUPPORTED_VALUE/);
    expect(outcome(() => new PgTextRowEncoder([{ name: 'a', type: 'int4' }], []).primaryKey(['1']))).toBe(outcome(() => encodePrimaryKey([])));
  });

  it('property: jsonb as Postgres prints it (its spacing, members in its order) agrees with the reference', () => {
    // jsonb_out: ', ' and ': ' separators, members sorted by length then bytes; numbers as numeric_out prints them.
    const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('__proto__', '10', '9', 'é', '\u{1f600}', ''));
    const num = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => x.toFixed(3)), fc.bigInt().map(String));
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.constant('null'), fc.boolean().map(String), num.map(String), fc.string().map((x) => JSON.stringify(x)), tie('array'), tie('object')),
      array: fc.array(tie('value'), { maxLength: 4 }).map((xs) => `[${xs.join(', ')}]`),
      object: fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map((ms) => `{${ms.map(([k, v]) => `${JSON.stringify(k)}: ${v as string}`).join(', ')}}`),
    }));
    fc.assert(
      fc.property(value, (text) => {
        agrees('jsonb', text as string);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: the one-scan paths (plain numerics, ISO dates, simple arrays, JSON members in any order) agree with the reference', () => {
    const numeric = fc.tuple(fc.constantFrom('', '-', '+'), fc.stringMatching(/^[0-9]{0,20}$/), fc.option(fc.stringMatching(/^[0-9]{0,12}$/), { nil: undefined })).map(([s, i, f]) => `${s}${i}${f === undefined ? '' : '.' + f}`);
    const date = fc.tuple(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 })).map(([y, m, d]) => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`);
    const element = fc.oneof(fc.constantFrom('NULL', 'null', 'NuLl', 'NULLx', '', '1', '-2', '3.50', 'x y', 'é'), fc.stringMatching(/^[a-z0-9.]{1,6}$/));
    const array = fc.array(element, { maxLength: 5 }).map((xs) => `{${xs.join(',')}}`);
    const key = fc.oneof(fc.constantFrom('a', 'b', 'ab', 'a!', 'a ', 'A', '10', '9', 'é', '\u{1f600}', '\uffff', ''), fc.string({ maxLength: 3 }));
    const num = fc.oneof(fc.integer().map(String), fc.constantFrom('-0', '0.0', '-0.0', '1.50', '0.000000000001', '123456789012345', '1234567890123456', '1e2', '1E-2', '12345678901234.5', '0.1000000000000001'));
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.constantFrom('null', 'true', 'false'), num, fc.string({ maxLength: 8 }).map((x) => JSON.stringify(x)), tie('array'), tie('object')),
      array: fc.tuple(fc.array(tie('value'), { maxLength: 4 }), fc.constantFrom(',', ', ', ' ,\n')).map(([xs, sep]) => `[${xs.join(sep)}]`),
      object: fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }).map((ms) => `{${ms.map(([k, v]) => `${JSON.stringify(k)}: ${v as string}`).join(', ')}}`),
    }));
    fc.assert(
      fc.property(numeric, date, array, value, fc.constantFrom('int4', 'text', 'numeric'), (n, d, a, j, elementType) => {
        agrees('numeric', n);
        agrees('date', d);
        agrees(`_${elementType}`, a);
        agrees('jsonb', j as string);
        agrees('json', j as string);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: JSON objects of more members than the one-scan path insertion-sorts, in any order, duplicates anywhere', () => {
    // Above 16 members the scan sorts with Array.prototype.sort and looks for duplicates after the sort.
    const names = fc.uniqueArray(fc.oneof(fc.stringMatching(/^[a-z0-9]{0,4}$/), fc.constantFrom('é', '\u{1f600}', '\uffff', 'A', '10', '9')), { minLength: 17, maxLength: 60 });
    fc.assert(
      fc.property(names, fc.option(fc.tuple(fc.nat(), fc.nat()), { nil: undefined }), fc.boolean(), (ks, dup, nested) => {
        const keys = [...ks];
        if (dup !== undefined) keys.splice(dup[1] % (keys.length + 1), 0, keys[dup[0] % keys.length]!); // a second copy anywhere
        const text = `{${keys.map((k, i) => `${JSON.stringify(k)}: ${nested && i % 7 === 0 ? `{"b": ${i}, "a": [${i}]}` : String(i)}`).join(', ')}}`;
        agrees('jsonb', text);
        agrees('json', text);
      }),
      { numRuns: 300 },
    );
  });

  it('property: timestamps as timestamp_out prints them, around the fast path\'s year limits', () => {
    const two = (n: number): string => String(n).padStart(2, '0');
    fc.assert(
      fc.property(
        fc.integer({ min: 1650, max: 2250 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 24 }),
        fc.integer({ min: 0, max: 999_999 }),
        fc.constantFrom('', '+00', '-08', '+05:30', '-03:30:15', '+15:59:59', '+16'),
        fc.boolean(),
        (y, mo, d, h, us, off, tz) => {
          const text = `${y}-${two(mo)}-${two(d)} ${two(h)}:${two(us % 60)}:${two((us >> 6) % 61)}${us % 3 === 0 ? '' : '.' + String(us).padStart(6, '0').replace(/0+$/, '')}${off}`;
          agrees(tz ? 'timestamptz' : 'timestamp', text);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('property: random texts of every scalar and array type agree with the reference', () => {
    const types = [...Object.keys(PG_TYPE_OIDS), ...Object.keys(PG_TYPE_OIDS).map((t) => `_${t}`)];
    const digits = fc.stringMatching(/^[+-]?[0-9]{1,22}(\.[0-9]{0,8})?([eE][+-]?[0-9]{1,3})?$/);
    const dates = fc.stringMatching(/^[0-9]{4,5}-[01][0-9]-[0-3][0-9]( [0-2][0-9]:[0-5][0-9]:[0-6][0-9](\.[0-9]{1,7})?([+-][01][0-9](:[0-5][0-9])?)?)?( BC)?$/);
    const uuids = fc.uuid().chain((u) => fc.constantFrom(u, u.toUpperCase(), u.replace(/-/g, ''), `{${u}}`));
    const json = fc.json().map((j) => j);
    const scalar = fc.oneof(digits, dates, uuids, json, fc.string(), fc.constantFrom('t', 'f', 'NaN', 'Infinity', '-Infinity', 'infinity', '-infinity'));
    const quote = (s: string): string => (s === '' || /[{},"\\\s]/.test(s) || s.toUpperCase() === 'NULL' ? `"${s.replace(/[\\"]/g, (c) => '\\' + c)}"` : s);
    const array = fc.array(fc.option(scalar, { nil: null }), { maxLength: 5 }).map((items) => `{${items.map((s) => (s === null ? 'NULL' : quote(s))).join(',')}}`);
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.oneof(scalar, array), (type, text) => {
        agrees(type, text);
      }),
      { numRuns: 4000 },
    );
  });
});
