import { describe, expect, it } from 'vitest';
import { toHex } from '@merklesync/merkle';
import { encodeValue } from './value.ts';
import type { PgValue } from './types.ts';
import { errorCode } from '../../test/error-code.ts';

const hex = (v: PgValue): string => toHex(encodeValue(v));

// Known answers: the examples of README.md part A, one or more per type (hex written out from the spec).
const KNOWN: [string, PgValue, string][] = [
  ['NULL', null, '00'],
  ['bool true', { type: 'bool', value: true }, '0101'],
  ['bool false', { type: 'bool', value: false }, '0100'],
  ['int2 5', { type: 'int2', value: 5 }, '02' + '0000000000000005'],
  ['int4 5', { type: 'int4', value: 5 }, '03' + '0000000000000005'],
  ['int8 5 (string)', { type: 'int8', value: '5' }, '04' + '0000000000000005'],
  ['int8 -1 (bigint)', { type: 'int8', value: -1n }, '04' + 'ffffffffffffffff'],
  ['int8 max', { type: 'int8', value: 9223372036854775807n }, '04' + '7fffffffffffffff'],
  ['int2 min', { type: 'int2', value: -32768 }, '02' + 'ffffffffffff8000'],
  ['float8 1.5', { type: 'float8', value: 1.5 }, '06' + '3ff8000000000000'],
  ['float8 -0', { type: 'float8', value: -0 }, '06' + '8000000000000000'],
  ['float8 NaN', { type: 'float8', value: NaN }, '06' + '7ff8000000000000'],
  ['float8 Infinity', { type: 'float8', value: Infinity }, '06' + '7ff0000000000000'],
  ['float8 -Infinity', { type: 'float8', value: -Infinity }, '06' + 'fff0000000000000'],
  ['float4 1.1 (rounded to binary32)', { type: 'float4', value: 1.1 }, '05' + '3f8ccccd'],
  ['float4 NaN', { type: 'float4', value: NaN }, '05' + '7fc00000'],
  ['numeric 12.3400', { type: 'numeric', value: '12.3400' }, '07' + '00' + '00000004' + '00000006' + '313233343030'],
  ['numeric -0.5', { type: 'numeric', value: '-0.5' }, '07' + '01' + '00000001' + '00000001' + '35'],
  ['numeric -0.00 is 0.00', { type: 'numeric', value: '-0.00' }, '07' + '00' + '00000002' + '00000001' + '30'],
  ['numeric bigint 42', { type: 'numeric', value: 42n }, '07' + '00' + '00000000' + '00000002' + '3432'],
  ['numeric NaN', { type: 'numeric', value: 'NaN' }, '0702'],
  ['numeric Infinity', { type: 'numeric', value: 'Infinity' }, '0703'],
  ['numeric -Infinity', { type: 'numeric', value: '-Infinity' }, '0704'],
  ['text héllo', { type: 'text', value: 'héllo' }, '08' + '00000006' + '68c3a96c6c6f'],
  ['text empty', { type: 'text', value: '' }, '08' + '00000000'],
  ['varchar ab', { type: 'varchar', value: 'ab' }, '09' + '00000002' + '6162'],
  ['bpchar "ab  "', { type: 'bpchar', value: 'ab  ' }, '0a' + '00000004' + '61622020'],
  ['name x', { type: 'name', value: 'x' }, '0b' + '00000001' + '78'],
  ['bytea 00ff', { type: 'bytea', value: Uint8Array.of(0, 255) }, '0c' + '00000002' + '00ff'],
  ['date 2024-02-29', { type: 'date', value: 19782 }, '0d' + '0000000000004d46'],
  ['date 44 BC-03-15', { type: 'date', value: -735160 }, '0d' + 'fffffffffff4c848'],
  ['date infinity', { type: 'date', value: 'infinity' }, '0d' + '7fffffffffffffff'],
  ['date -infinity', { type: 'date', value: '-infinity' }, '0d' + '8000000000000000'],
  ['time 24:00:00', { type: 'time', value: 86400000000n }, '0e' + '000000141dd76000'],
  ['timetz 04:05:06.789+05:30', { type: 'timetz', value: { micros: 14706789000n, offsetSeconds: 19800 } }, '0f' + '000000036c97ca88' + '00004d58'],
  ['timestamp 1970-01-01 00:00:01', { type: 'timestamp', value: 1_000_000 }, '10' + '00000000000f4240'],
  ['timestamptz 2024-02-29 07:04:56.789Z', { type: 'timestamptz', value: 1709190296789000n }, '11' + '0006127fe07e6008'],
  ['timestamptz -infinity', { type: 'timestamptz', value: '-infinity' }, '11' + '8000000000000000'],
  ['interval 1 year 2 mons 3 days 04:05:06.7', { type: 'interval', value: { months: 14, days: 3, micros: 14706700000n } }, '12' + '0000000e' + '00000003' + '000000036c966ee0'],
  ['interval -1 days +02:03:00', { type: 'interval', value: { months: 0, days: -1, micros: 7380000000 } }, '12' + '00000000' + 'ffffffff' + '00000001b7e1dd00'],
  ['interval infinity', { type: 'interval', value: 'infinity' }, '12' + '7fffffff' + '7fffffff' + '7fffffffffffffff'],
  ['uuid (upper case in, 16 bytes out)', { type: 'uuid', value: 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11' }, '13' + 'a0eebc999c0b4ef8bb6d6bb9bd380a11'],
  ['jsonb text', { type: 'jsonb', text: '{"b": [1.0, 2e2], "a": "é"}' }, '15' + '00000016' + toHex(new TextEncoder().encode('{"a":"é","b":[1,200]}'))],
  ['json value', { type: 'json', value: { b: 1, a: null } }, '14' + '00000010' + toHex(new TextEncoder().encode('{"a":null,"b":1}'))],
  [
    'int4[] {1,NULL,3}',
    { type: 'array', elementType: 'int4', value: [{ type: 'int4', value: 1 }, null, { type: 'int4', value: 3 }] },
    '16' + '03' + '01' + '00000003' + '00000001' + '030000000000000001' + '00' + '030000000000000003',
  ],
  ['int4[] {} (empty)', { type: 'array', elementType: 'int4', value: [] }, '16' + '03' + '00'],
  ['text[] {} (empty)', { type: 'array', elementType: 'text', value: [] }, '16' + '08' + '00'],
  [
    'int4[] [0:1]={{1},{2}} (2-D, lower bound 0)',
    { type: 'array', elementType: 'int4', value: [[{ type: 'int4', value: 1 }], [{ type: 'int4', value: 2 }]], lowerBounds: [0, 1] },
    '16' + '03' + '02' + '00000002' + '00000000' + '00000001' + '00000001' + '030000000000000001' + '030000000000000002',
  ],
  [
    'composite (1,"x y")',
    { type: 'composite', fields: [{ type: 'int4', value: 1 }, { type: 'text', value: 'x y' }] },
    '17' + '00000002' + '030000000000000001' + '08' + '00000003' + '782079',
  ],
  ['composite (,) two NULLs', { type: 'composite', fields: [null, null] }, '17' + '00000002' + '0000'],
  ['ejson $numberLong', { type: 'ejson', text: '{"$numberLong": "05"}' }, '18' + '00000013' + toHex(new TextEncoder().encode('{"$numberLong":"5"}'))],
];

describe('encodeValue known answers', () => {
  for (const [name, value, want] of KNOWN) it(name, () => expect(hex(value)).toBe(want));

  it('the type tag separates equal values of different types (a type change is a state change)', () => {
    expect(hex({ type: 'int2', value: 5 }).slice(2)).toBe(hex({ type: 'int8', value: 5 }).slice(2));
    expect(hex({ type: 'int2', value: 5 })).not.toBe(hex({ type: 'int8', value: 5 }));
    expect(hex({ type: 'text', value: 'a' })).not.toBe(hex({ type: 'varchar', value: 'a' }));
    expect(hex({ type: 'json', value: 1 })).not.toBe(hex({ type: 'jsonb', value: 1 }));
  });

  it('numeric keeps the scale: 1.50 and 1.5 differ, 1.5e1 is 15', () => {
    expect(hex({ type: 'numeric', value: '1.50' })).not.toBe(hex({ type: 'numeric', value: '1.5' }));
    expect(hex({ type: 'numeric', value: '1.5e1' })).toBe(hex({ type: 'numeric', value: '15' }));
    expect(hex({ type: 'numeric', value: '007.10' })).toBe(hex({ type: 'numeric', value: '7.10' }));
  });

  it('every NaN is one NaN; -0 is not 0', () => {
    const otherNaN = new DataView(Uint8Array.from([0x7f, 0xf0, 0, 0, 0, 0, 0, 1]).buffer).getFloat64(0);
    expect(hex({ type: 'float8', value: otherNaN })).toBe('067ff8000000000000');
    expect(hex({ type: 'float8', value: -0 })).not.toBe(hex({ type: 'float8', value: 0 }));
  });

  it('equivalent inputs give identical bytes', () => {
    expect(hex({ type: 'int8', value: 5 })).toBe(hex({ type: 'int8', value: 5n }));
    expect(hex({ type: 'uuid', value: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' })).toBe(
      hex({ type: 'uuid', value: Uint8Array.from([0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11]) }),
    );
    expect(hex({ type: 'jsonb', text: '{"a": 1, "a": 2}' })).toBe(hex({ type: 'jsonb', value: { a: 2 } }));
    expect(hex({ type: 'timestamptz', value: 9223372036854775807n })).toBe(hex({ type: 'timestamptz', value: 'infinity' }));
  });

  it('rejects values it cannot represent with UNSUPPORTED_VALUE', () => {
    const bad: PgValue[] = [
      { type: 'int2', value: 32768 },
      { type: 'int4', value: 2147483648n },
      { type: 'int8', value: 9223372036854775808n },
      { type: 'int8', value: 2 ** 53 },
      { type: 'int8', value: 1.5 },
      { type: 'int8', value: '05' },
      { type: 'int8', value: '-0' },
      { type: 'int8', value: ' 5' },
      { type: 'numeric', value: '1,5' },
      { type: 'numeric', value: 'nan' },
      { type: 'text', value: 'a\ud800b' },
      { type: 'text', value: 'a\u0000b' },
      { type: 'time', value: 86400000001n },
      { type: 'time', value: -1 },
      { type: 'timetz', value: { micros: 0, offsetSeconds: 16 * 3600 } },
      { type: 'interval', value: { months: 2 ** 31, days: 0, micros: 0 } },
      { type: 'uuid', value: 'not-a-uuid' },
      { type: 'uuid', value: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1' },
      { type: 'uuid', value: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g' },
      { type: 'uuid', value: 'a0eebc999-c0b-4ef8-bb6d-6bb9bd380a11' },
      { type: 'uuid', value: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 ' },
      { type: 'uuid', value: 'a0eebc99a9c0b-4ef8-bb6d-6bb9bd380a11' },
      { type: 'uuid', value: new Uint8Array(15) },
      { type: 'json', value: { a: NaN } },
      { type: 'json', text: '{"a":1,"a":1}' },
      { type: 'array', elementType: 'int4', value: [{ type: 'int8', value: 1 }] },
      { type: 'array', elementType: 'int4', value: [[{ type: 'int4', value: 1 }], []] },
      { type: 'array', elementType: 'int4', value: [[{ type: 'int4', value: 1 }], { type: 'int4', value: 1 }] },
      { type: 'array', elementType: 'int4', value: [[], []] },
      { type: 'array', elementType: 'array' as never, value: [] },
      { type: 'array', elementType: 'int4', value: [[[[[[[{ type: 'int4', value: 1 }]]]]]]] },
      { type: 'array', elementType: 'int4', value: [], lowerBounds: [0] },
      { type: 'array', elementType: 'int4', value: [{ type: 'int4', value: 1 }], lowerBounds: [2 ** 31 - 1 + 1] },
      { type: 'ejson', text: '{"a": 1}' },
      { type: 'money' } as never,
    ];
    for (const v of bad) expect(errorCode(() => encodeValue(v)), JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x))).toBe('UNSUPPORTED_VALUE');
  });

  it('rejects wrong JS shapes with TypeError', () => {
    const bad = [
      5,
      'x',
      [],
      { type: 'bool', value: 1 },
      { type: 'int4', value: true },
      { type: 'float8', value: '1.5' },
      { type: 'numeric', value: 1.5 },
      { type: 'text', value: 5 },
      { type: 'bytea', value: [1, 2] },
      { type: 'timetz', value: 5 },
      { type: 'interval', value: 5 },
      { type: 'array', elementType: 'int4', value: 'x' },
      { type: 'composite', fields: 'x' },
    ];
    for (const v of bad) expect(errorCode(() => encodeValue(v as never)), JSON.stringify(v)).toBe('TypeError');
  });
});
