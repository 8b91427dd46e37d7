import { describe, expect, it } from 'vitest';
import { binaryCopyOfRows } from './copy.ts';

const HEADER = '5047434f50590aff0d0a00' + '00000000' + '00000000';
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('binaryCopyOfRows', () => {
  it('writes the Postgres binary COPY format: header, per row the field count and length-prefixed fields, trailer', () => {
    const file = binaryCopyOfRows(
      ['text', 'bytea', 'int2', 'int8', 'int8'],
      [
        ['pé', Uint8Array.of(1, 2), 3, 5, -2n],
        [null, new Uint8Array(0), -1, -5_000_000_000, 0x7fff_ffff_ffff_ffffn],
        ['pé', null, 0, Number.MAX_SAFE_INTEGER, null],
      ],
    );
    expect(hex(file)).toBe(
      HEADER +
        // row 1: 5 fields; 'pé' (3 UTF-8 bytes); 0102; int2 3; int8 5; int8 -2
        '0005' + '00000003' + '70c3a9' + '00000002' + '0102' + '00000002' + '0003' + '00000008' + '0000000000000005' + '00000008' + 'fffffffffffffffe' +
        // row 2: NULL; empty bytea; int2 -1; int8 -5e9 (a number); int8 max (a bigint)
        '0005' + 'ffffffff' + '00000000' + '00000002' + 'ffff' + '00000008' + 'fffffffed5fa0e00' + '00000008' + '7fffffffffffffff' +
        // row 3: the repeated text; NULL; int2 0; 2^53 - 1; NULL
        '0005' + '00000003' + '70c3a9' + 'ffffffff' + '00000002' + '0000' + '00000008' + '001fffffffffffff' + 'ffffffff' +
        'ffff',
    );
  });

  it('an empty file is the header and the trailer; an int8 that is not an integer or out of range is refused', () => {
    expect(hex(binaryCopyOfRows(['int8'], []))).toBe(HEADER + 'ffff');
    expect(() => binaryCopyOfRows(['int8'], [[1.5]])).toThrow(RangeError);
    expect(() => binaryCopyOfRows(['int8'], [[1n << 63n]])).toThrow(RangeError);
  });
});
