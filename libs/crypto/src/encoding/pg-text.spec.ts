import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { toHex } from '@merklesync/merkle';
import { fromPgText } from './pg-text.ts';
import { encodeValue } from './value.ts';
import { PG_TYPE_OIDS, resolvePgType } from './pg-types.ts';
import type { PgType, PgValue } from './types.ts';
import { errorCode } from '../../test/error-code.ts';

const i4 = (value: number): PgValue => ({ type: 'int4', value });
const t = (value: string): PgValue => ({ type: 'text', value });

describe('fromPgText: Postgres text output → typed values', () => {
  it('timestamptz with a +05:30 offset → UTC microseconds', () => {
    expect(fromPgText('timestamptz', '2024-02-29 12:34:56.789+05:30')).toEqual({ type: 'timestamptz', value: 1709190296789000n });
    expect(fromPgText('timestamptz', '2024-02-29T07:04:56.789Z')).toEqual({ type: 'timestamptz', value: 1709190296789000n });
    expect(fromPgText('timestamptz', '2024-02-28 23:04:56.789-08')).toEqual({ type: 'timestamptz', value: 1709190296789000n });
    expect(fromPgText('timestamptz', '1970-01-01 00:00:00+00')).toEqual({ type: 'timestamptz', value: 0n });
    expect(fromPgText('timestamptz', '1900-01-01 00:00:00+05:53:28')).toEqual({ type: 'timestamptz', value: -2208988800000000n - 21208000000n });
  });

  it('±infinity and BC', () => {
    expect(fromPgText('timestamptz', '-infinity')).toEqual({ type: 'timestamptz', value: '-infinity' });
    expect(fromPgText('timestamp', 'infinity')).toEqual({ type: 'timestamp', value: 'infinity' });
    expect(fromPgText('date', '-infinity')).toEqual({ type: 'date', value: '-infinity' });
    expect(fromPgText('date', '0044-03-15 BC')).toEqual({ type: 'date', value: -735160 });
    expect(fromPgText('date', '0001-12-31 BC')).toEqual({ type: 'date', value: -719163 }); // 0000-12-31 proleptic
    expect(fromPgText('timestamptz', '0044-03-15 12:00:00+00 BC')).toEqual({ type: 'timestamptz', value: -735160n * 86400000000n + 43200000000n });
    expect(fromPgText('date', '2024-02-29')).toEqual({ type: 'date', value: 19782 });
    expect(fromPgText('date', '10000-01-01')).toEqual({ type: 'date', value: 2932897 });
  });

  it('time, timetz, interval', () => {
    expect(fromPgText('time', '04:05:06.7')).toEqual({ type: 'time', value: 14706700000n });
    expect(fromPgText('time', '24:00:00')).toEqual({ type: 'time', value: 86400000000n });
    expect(fromPgText('timetz', '04:05:06.789+05:30')).toEqual({ type: 'timetz', value: { micros: 14706789000n, offsetSeconds: 19800 } });
    expect(fromPgText('interval', '1 year 2 mons 3 days 04:05:06.7')).toEqual({ type: 'interval', value: { months: 14, days: 3, micros: 14706700000n } });
    expect(fromPgText('interval', '-1 days +02:03:00')).toEqual({ type: 'interval', value: { months: 0, days: -1, micros: 7380000000n } });
    expect(fromPgText('interval', '-1 years -2 mons')).toEqual({ type: 'interval', value: { months: -14, days: 0, micros: 0n } });
    expect(fromPgText('interval', '00:00:00')).toEqual({ type: 'interval', value: { months: 0, days: 0, micros: 0n } });
    expect(fromPgText('interval', '-00:00:00.000001')).toEqual({ type: 'interval', value: { months: 0, days: 0, micros: -1n } });
    expect(fromPgText('interval', '100:00:00')).toEqual({ type: 'interval', value: { months: 0, days: 0, micros: 360000000000n } });
    expect(fromPgText('interval', '1 day')).toEqual({ type: 'interval', value: { months: 0, days: 1, micros: 0n } });
    expect(fromPgText('interval', 'infinity')).toEqual({ type: 'interval', value: 'infinity' });
  });

  it('numbers: NaN, -0, numeric scale', () => {
    expect(fromPgText('numeric', 'NaN')).toEqual({ type: 'numeric', value: 'NaN' });
    expect(fromPgText('numeric', '-Infinity')).toEqual({ type: 'numeric', value: '-Infinity' });
    expect(fromPgText('numeric', '12.3400')).toEqual({ type: 'numeric', value: '12.3400' });
    expect(fromPgText('float8', 'NaN')).toEqual({ type: 'float8', value: NaN });
    const negZero = fromPgText('float8', '-0');
    expect(negZero).toEqual({ type: 'float8', value: -0 });
    expect(Object.is((negZero as { value: number }).value, -0)).toBe(true);
    expect(fromPgText('float8', '-Infinity')).toEqual({ type: 'float8', value: -Infinity });
    expect(fromPgText('float8', '1e+100')).toEqual({ type: 'float8', value: 1e100 });
    expect(fromPgText('float4', '1.1')).toEqual({ type: 'float4', value: Math.fround(1.1) });
    expect(fromPgText('int8', '-9223372036854775808')).toEqual({ type: 'int8', value: -9223372036854775808n });
    expect(fromPgText('int2', '-32768')).toEqual({ type: 'int2', value: -32768 });
  });

  it('arrays: NULLs, quoting, bounds, dimensions', () => {
    expect(fromPgText('_int4', '{1,NULL,3}')).toEqual({ type: 'array', elementType: 'int4', value: [i4(1), null, i4(3)] });
    expect(fromPgText('text[]', '{"a \\"b\\"",c}')).toEqual({ type: 'array', elementType: 'text', value: [t('a "b"'), t('c')] });
    expect(fromPgText('_text', '{NULL,"NULL",N\\ULL,"",null}')).toEqual({ type: 'array', elementType: 'text', value: [null, t('NULL'), t('NULL'), t(''), null] });
    expect(fromPgText('_text', '{"a,b","{x}","back\\\\slash"}')).toEqual({ type: 'array', elementType: 'text', value: [t('a,b'), t('{x}'), t('back\\slash')] });
    expect(fromPgText('_int4', '{{1,2},{3,4}}')).toEqual({ type: 'array', elementType: 'int4', value: [[i4(1), i4(2)], [i4(3), i4(4)]] });
    expect(fromPgText('_int4', '[0:2]={1,2,3}')).toEqual({ type: 'array', elementType: 'int4', value: [i4(1), i4(2), i4(3)], lowerBounds: [0] });
    expect(fromPgText('_int4', '[1:1][-1:0]={{1,2}}')).toEqual({ type: 'array', elementType: 'int4', value: [[i4(1), i4(2)]], lowerBounds: [1, -1] });
    expect(fromPgText('_int4', '{}')).toEqual({ type: 'array', elementType: 'int4', value: [] });
    expect(fromPgText(1007, '{7}')).toEqual({ type: 'array', elementType: 'int4', value: [i4(7)] });
    expect(fromPgText({ array: 'jsonb' }, '{"{\\"a\\": 1}",NULL}')).toEqual({ type: 'array', elementType: 'jsonb', value: [{ type: 'jsonb', text: '{"a": 1}' }, null] });
  });

  it('composites, also inside arrays', () => {
    expect(fromPgText({ composite: ['int4', 'text'] }, '(1,"x y")')).toEqual({ type: 'composite', fields: [i4(1), t('x y')] });
    expect(fromPgText({ composite: ['int4', 'text'] }, '(,)')).toEqual({ type: 'composite', fields: [null, null] });
    expect(fromPgText({ composite: ['int4', 'text'] }, '(,"")')).toEqual({ type: 'composite', fields: [null, t('')] });
    expect(fromPgText({ composite: ['text'] }, '("a""b\\\\c")')).toEqual({ type: 'composite', fields: [t('a"b\\c')] });
    expect(fromPgText({ composite: ['text'] }, '()')).toEqual({ type: 'composite', fields: [null] });
    expect(fromPgText({ composite: ['int4', { composite: ['text', '_int4'] }] }, '(1,"(a,""{1,2}"")")')).toEqual({
      type: 'composite',
      fields: [i4(1), { type: 'composite', fields: [t('a'), { type: 'array', elementType: 'int4', value: [i4(1), i4(2)] }] }],
    });
    expect(fromPgText({ array: { composite: ['int4', 'text'] } }, '{"(1,x)","(2,\\"y z\\")"}')).toEqual({
      type: 'array',
      elementType: 'composite',
      value: [{ type: 'composite', fields: [i4(1), t('x')] }, { type: 'composite', fields: [{ type: 'int4', value: 2 }, t('y z')] }],
    });
  });

  it('bytea hex and escape formats, uuid, bool, json', () => {
    expect(fromPgText('bytea', '\\x00ff')).toEqual({ type: 'bytea', value: Uint8Array.of(0, 255) });
    expect(fromPgText('bytea', '\\x')).toEqual({ type: 'bytea', value: new Uint8Array(0) });
    expect(fromPgText('bytea', 'a\\000\\\\\\377')).toEqual({ type: 'bytea', value: Uint8Array.of(0x61, 0, 0x5c, 0xff) });
    expect(fromPgText('uuid', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11')).toEqual({ type: 'uuid', value: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' });
    expect(fromPgText('bool', 'f')).toEqual({ type: 'bool', value: false });
    expect(fromPgText('jsonb', '{"a": 1}')).toEqual({ type: 'jsonb', text: '{"a": 1}' });
    expect(fromPgText('varchar(20)', 'x')).toEqual({ type: 'varchar', value: 'x' });
    expect(fromPgText('character varying', 'x')).toEqual({ type: 'varchar', value: 'x' });
    expect(fromPgText('INT8', null)).toBeNull();
  });

  it('text → bytes end to end', () => {
    expect(toHex(encodeValue(fromPgText('_int4', '{1,NULL,3}')))).toBe('16030100000003000000010300000000000000010003' + '0000000000000003');
    expect(toHex(encodeValue(fromPgText('timestamptz', '2024-02-29 12:34:56.789+05:30')))).toBe('110006127fe07e6008');
  });

  it('a json value whose text changes after parsing encodes its new text (the remembered canonical form is not reused)', () => {
    const v = fromPgText('jsonb', '{"b": 1, "a": 2}') as { type: 'jsonb'; text: string };
    expect(toHex(encodeValue(v))).toBe(toHex(encodeValue({ type: 'jsonb', text: '{"a":2,"b":1}' })));
    v.text = '{"c": 3}';
    expect(toHex(encodeValue(v))).toBe(toHex(encodeValue({ type: 'jsonb', text: '{"c":3}' })));
    const j = fromPgText('jsonb', '{"a": 1, "a": 2}') as { type: string; text: string };
    j.type = 'json'; // json rejects what jsonb accepted: the type is part of what was remembered
    expect(errorCode(() => encodeValue(j as PgValue))).toBe('UNSUPPORTED_VALUE');
  });

  it('uuids in any accepted spelling come out as uuid_out prints them', () => {
    for (const t of ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', 'a0eebc999c0b4ef8bb6d6bb9bd380a11']) {
      expect(fromPgText('uuid', t)).toEqual({ type: 'uuid', value: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' });
    }
    expect(errorCode(() => fromPgText('uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g'))).toBe('MALFORMED_INPUT');
  });

  it('type names and OIDs resolve', () => {
    for (const [name, { oid, arrayOid }] of Object.entries(PG_TYPE_OIDS)) {
      expect(resolvePgType(oid)).toEqual({ scalar: name, array: false });
      expect(resolvePgType(arrayOid)).toEqual({ scalar: name, array: true });
      expect(resolvePgType(`_${name}`)).toEqual({ scalar: name, array: true });
      expect(resolvePgType(name.toUpperCase())).toEqual({ scalar: name, array: false });
    }
    expect(resolvePgType('timestamp(3) with time zone')).toEqual({ scalar: 'timestamptz', array: false });
    expect(resolvePgType('numeric(10,2)[]')).toEqual({ scalar: 'numeric', array: true });
    expect(resolvePgType('money')).toBeUndefined();
    expect(resolvePgType(790)).toBeUndefined();
  });

  it('malformed text → MALFORMED_INPUT', () => {
    const bad: [PgType, string][] = [
      ['bool', 'yes'],
      ['int4', '2147483648'],
      ['int4', '1.0'],
      ['int4', ''],
      ['int8', '0x10'],
      ['float8', ' 1'],
      ['float8', '0x10'],
      ['float8', 'inf'],
      ['numeric', '1,5'],
      ['numeric', ''],
      ['bytea', '\\x0'],
      ['bytea', '\\xzz'],
      ['bytea', '\\9'],
      ['date', '2023-02-29'],
      ['date', '0000-01-01'],
      ['date', '24-01-01'],
      ['date', '2024-13-01'],
      ['time', '25:00:00'],
      ['time', '24:00:01'],
      ['time', '12:60:00'],
      ['time', '12:00:00.1234567'],
      ['timetz', '12:00:00'],
      ['timestamp', '2024-01-01 00:00:00+00'],
      ['timestamptz', '2024-01-01 00:00:00'],
      ['timestamptz', '2024-01-01'],
      ['timestamptz', '2024-01-01 00:00:00+16'],
      ['interval', ''],
      ['interval', '1 fortnight'],
      ['interval', 'P1D'],
      ['interval', '1 day 1 day'],
      ['interval', '01:00:00 1 day'],
      ['uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1'],
      ['uuid', 'g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
      ['json', '{"a":'],
      ['jsonb', "{'a': 1}"],
      ['_int4', '{1,2'],
      ['_int4', '1,2}'],
      ['_int4', '{1,,2}'],
      ['_int4', '{{1,2},{3}}'],
      ['_int4', '{{1},2}'],
      ['_int4', '[0:1]={1,2,3}'],
      ['_int4', '{1} x'],
      ['_text', '{"abc}'],
      ['_int4', '{1,x}'],
      [{ composite: ['int4', 'text'] }, '(1)'],
      [{ composite: ['int4', 'text'] }, '1,2'],
      [{ composite: ['int4', 'text'] }, '(1,"x)'],
    ];
    for (const [type, text] of bad) expect(errorCode(() => fromPgText(type, text)), `${JSON.stringify(type)} ${text}`).toBe('MALFORMED_INPUT');
  });

  it('unsupported types → UNSUPPORTED_VALUE; bad arguments → TypeError', () => {
    expect(errorCode(() => fromPgText('money', '$1.00'))).toBe('UNSUPPORTED_VALUE');
    expect(errorCode(() => fromPgText('record', '(1)'))).toBe('UNSUPPORTED_VALUE');
    expect(errorCode(() => fromPgText({ array: '_int4' }, '{}'))).toBe('UNSUPPORTED_VALUE');
    expect(() => fromPgText('int4', 5 as never)).toThrow(TypeError);
    expect(() => fromPgText({} as never, '5')).toThrow(TypeError);
  });

  it('property: int/float text round trip, arrays of random text survive quoting', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.double(), (n, x) => {
        expect(fromPgText('int8', String(n))).toEqual({ type: 'int8', value: n });
        const text = Number.isNaN(x) ? 'NaN' : Object.is(x, -0) ? '-0' : String(x);
        expect(fromPgText('float8', text)).toEqual({ type: 'float8', value: x });
      }),
      { numRuns: 300 },
    );
    // array_out quotes elements with special characters and backslash-escapes '"' and '\'.
    const quote = (s: string): string => (s === '' || /[{},"\\\s]/.test(s) || s.toUpperCase() === 'NULL' ? `"${s.replace(/[\\"]/g, (c) => '\\' + c)}"` : s);
    fc.assert(
      fc.property(fc.array(fc.option(fc.string({ unit: 'grapheme' }), { nil: null }), { minLength: 1, maxLength: 6 }), (items) => {
        const text = `{${items.map((s) => (s === null ? 'NULL' : quote(s))).join(',')}}`;
        expect(fromPgText('_text', text)).toEqual({ type: 'array', elementType: 'text', value: items.map((s) => (s === null ? null : t(s))) });
      }),
      { numRuns: 300 },
    );
  });
});
