import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { _decimalKey, canonicalJson, canonicalJsonText } from './jcs.ts';
import { errorCode } from '../../test/error-code.ts';
import { _isWellFormed, _isWellFormedLoop } from './_util.ts';


describe('RFC 8785 (JCS)', () => {
  it('§3.2.2 example: whitespace, numbers, string escapes, literals', () => {
    const input = `{
  "numbers": [333333333.33333329, 1E30, 4.50,
              2e-3, 0.000000000000000000000000001],
  "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
  "literals": [null, true, false]
}`;
    const expected = `{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA'B\\"\\\\\\\\\\"/"}`;
    expect(canonicalJsonText(input, { numbers: 'double' })).toBe(expected);
    // RFC 8785 §3.2.4 gives the UTF-8 bytes of that output.
    const hex = Array.from(new TextEncoder().encode(expected), (b) => b.toString(16).padStart(2, '0')).join(' ');
    expect(hex).toBe(
      '7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72 75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a 5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31 65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37 5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30 30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d',
    );
    // The same document given as a JS value.
    expect(canonicalJson(JSON.parse(input))).toBe(expected);
  });

  it('§3.2.2 number under the default exact rule: 333333333.33333329 is not a double, so it keeps its exact value', () => {
    expect(canonicalJsonText('[333333333.33333329]')).toBe('[3.3333333333333329e+8]');
    expect(canonicalJsonText('[333333333.33333329]', { numbers: 'double' })).toBe('[333333333.3333333]');
    expect(canonicalJsonText('[1E30, 4.50, 2e-3, 0.000000000000000000000000001]')).toBe('[1e+30,4.5,0.002,1e-27]');
  });

  it('§3.2.3 sorting by UTF-16 code units', () => {
    const input = `{
  "\\u20ac": "Euro Sign",
  "\\r": "Carriage Return",
  "\\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\\ud83d\\ude00": "Emoji: Grinning Face",
  "\\u0080": "Control",
  "\\u00f6": "Latin Small Letter O With Diaeresis"
}`;
    const out = canonicalJsonText(input);
    expect(out).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('Appendix B number serialization', () => {
    const vectors: [string, string][] = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [bits, want] of vectors) {
      const x = new DataView(Uint8Array.from(bits.match(/../g)!, (h) => parseInt(h, 16)).buffer).getFloat64(0);
      expect(canonicalJson(x)).toBe(want);
      // The shortest form round-trips, so the exact-number rule accepts it as text too.
      expect(canonicalJsonText(want)).toBe(want);
    }
    for (const bad of [NaN, Infinity, -Infinity]) expect(errorCode(() => canonicalJson(bad))).toBe('UNSUPPORTED_VALUE');
  });

  it('escapes only quote, backslash and C0 controls', () => {
    expect(canonicalJson('\u0000\u001f\u007f\u2028"\\/é')).toBe('"\\u0000\\u001f\u007f\u2028\\"\\\\/é"');
    expect(canonicalJson('\b\t\n\f\r')).toBe('"\\b\\t\\n\\f\\r"');
  });

  it('refuses what JCS cannot represent', () => {
    expect(errorCode(() => canonicalJson('\ud800'))).toBe('UNSUPPORTED_VALUE');
    expect(errorCode(() => canonicalJsonText('"\\ud800"'))).toBe('UNSUPPORTED_VALUE');
    expect(errorCode(() => canonicalJsonText('"\\udc00\\ud800"'))).toBe('UNSUPPORTED_VALUE');
    expect(errorCode(() => canonicalJsonText('{"a":1,"a":2}'))).toBe('UNSUPPORTED_VALUE');
    expect(canonicalJsonText('{"a":1,"a":2}', { duplicates: 'last' })).toBe('{"a":2}');
    expect(canonicalJsonText('12345678901234567890', { numbers: 'double' })).toBe('12345678901234567000');
    expect(errorCode(() => canonicalJsonText('1e400', { numbers: 'double' }))).toBe('UNSUPPORTED_VALUE');
    expect(errorCode(() => canonicalJson({ a: undefined } as never))).toBe('UNSUPPORTED_VALUE');
    expect(errorCode(() => canonicalJson(new Date(0) as never))).toBe('UNSUPPORTED_VALUE');
    expect(errorCode(() => canonicalJson(1n as never))).toBe('UNSUPPORTED_VALUE');
    // A hole of a sparse array is undefined, refused like any undefined (not written as "[1,,2]").
    // eslint-disable-next-line no-sparse-arrays
    expect(errorCode(() => canonicalJson([1, , 2] as never))).toBe('UNSUPPORTED_VALUE');
    expect(errorCode(() => canonicalJson([1, [{ b: '\udfff' }]] as never))).toBe('UNSUPPORTED_VALUE');
  });

  it('orders members by UTF-16 code units at every object size (insertion sort up to 16 members, sort() above)', () => {
    const names = ['b', 'a', '\u20ac', '\r', '1', '\ud83d\ude00', '\ufb33', 'aa', 'A', '', 'ab', 'Z', '\u0080', 'é', 'e\u0301', '10', '9', 'z'];
    for (let n = 0; n <= names.length; n++) {
      const obj: Record<string, number> = {};
      names.slice(0, n).forEach((k, i) => (obj[k] = i));
      // Reference: JSON.stringify of the members in Array.prototype.sort order (UTF-16 code units); integer-like
      // names ('1', '9', '10') make it the reference for object-order corner cases too.
      const sorted = Object.keys(obj).sort();
      const expected = '{' + sorted.map((k) => JSON.stringify(k) + ':' + String(obj[k])).join(',') + '}';
      expect(canonicalJson(obj)).toBe(expected);
      expect(canonicalJsonText(JSON.stringify(obj))).toBe(expected);
    }
  });

  it('finds lone surrogates the same way with and without String.prototype.isWellFormed', () => {
    const unit = fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(0xd800, 0xdbff, 0xdc00, 0xdfff, 0x41));
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 12 }), (units) => {
        const s = String.fromCharCode(...units);
        expect(_isWellFormedLoop(s)).toBe(_isWellFormed(s));
      }),
      { numRuns: 2000 },
    );
    const cases: [string, boolean][] = [['', true], ['abc', true], ['\ud83d\ude00', true], ['\udbff\udfff', true], ['\ud800', false], ['a\udc00', false], ['\ud800\ud800\udc00', false], ['\ude00\ud83d', false]];
    for (const [s, ok] of cases) {
      expect(_isWellFormedLoop(s)).toBe(ok);
      expect(_isWellFormed(s)).toBe(ok);
    }
  });

  it('writes numbers a double cannot carry in exact scientific form (injective in the decimal value)', () => {
    expect(canonicalJsonText('12345678901234567890')).toBe('1.234567890123456789e+19');
    expect(canonicalJsonText('[1e400, -1E400, 0.10000000000000001]')).toBe('[1e+400,-1e+400,1.0000000000000001e-1]');
    // equal decimal values agree whatever their spelling; numbers a double carries keep RFC 8785's form
    expect(canonicalJsonText('123456789012345678900e-1')).toBe(canonicalJsonText('12345678901234567890.000'));
    expect(canonicalJsonText('[0.1, 1.0, 100, 1e21]')).toBe('[0.1,1,100,1e+21]');
    // the exact form of a value never equals RFC 8785's text of another value
    expect(canonicalJsonText('12345678901234567890')).not.toBe(canonicalJsonText('12345678901234567000'));
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: -30, max: 30 }), (mant, exp) => {
        const text = `${mant}e${exp}`;
        const out = canonicalJsonText(text);
        // the output denotes the same decimal value as the input
        expect(_decimalKey(out)).toBe(_decimalKey(text));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses malformed JSON text', () => {
    for (const bad of ['', '{', '[1,]', '{"a":1,}', '01', '1.', '.5', '+1', 'NaN', "'a'", '"\t"', '"\\x"', '[1] 2', 'tru', '{"a" 1}', '"\\u12"'])
      expect(errorCode(() => canonicalJsonText(bad)), bad).toBe('MALFORMED_INPUT');
    expect(() => canonicalJsonText(1 as never)).toThrow(TypeError);
  });

  it('property: text and value paths agree with JSON.parse, and output is a fixed point', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const canon = canonicalJson(v as never);
        expect(canonicalJsonText(JSON.stringify(v), { numbers: 'double' })).toBe(canon);
        expect(canonicalJsonText(canon)).toBe(canon);
        expect(canonicalJson(JSON.parse(canon))).toBe(canon);
      }),
      { numRuns: 300 },
    );
  });
});
