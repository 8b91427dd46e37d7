import { describe, expect, it } from 'vitest';
import { canonicalExtendedJson } from './ejson.ts';
import { errorCode } from '../../test/error-code.ts';


describe('canonical Extended JSON v2', () => {
  it('keeps document field order and strips whitespace', () => {
    expect(canonicalExtendedJson('{ "b": "x", "a": { "d": true, "c": null }, "1": [] }')).toBe('{"b":"x","a":{"d":true,"c":null},"1":[]}');
  });

  it('rewrites every type wrapper to one canonical spelling', () => {
    const cases: [string, string][] = [
      ['{"$oid":"5F1E00000000000000000001"}', '{"$oid":"5f1e00000000000000000001"}'],
      ['{"$numberInt":"007"}', '{"$numberInt":"7"}'],
      ['{"$numberInt":"-0"}', '{"$numberInt":"0"}'],
      ['{"$numberLong":"-9223372036854775808"}', '{"$numberLong":"-9223372036854775808"}'],
      ['{"$numberDouble":"1"}', '{"$numberDouble":"1.0"}'],
      ['{"$numberDouble":"1.0"}', '{"$numberDouble":"1.0"}'],
      ['{"$numberDouble":"-0.0"}', '{"$numberDouble":"-0.0"}'],
      ['{"$numberDouble":"1.5e300"}', '{"$numberDouble":"1.5e+300"}'],
      ['{"$numberDouble":"1E21"}', '{"$numberDouble":"1e+21"}'],
      ['{"$numberDouble":"0.1"}', '{"$numberDouble":"0.1"}'],
      ['{"$numberDouble":"NaN"}', '{"$numberDouble":"NaN"}'],
      ['{"$numberDouble":"-Infinity"}', '{"$numberDouble":"-Infinity"}'],
      // Decimal128 keeps its exponent (cohort): 1.50 ≠ 1.5; spec to-string rule.
      ['{"$numberDecimal":"1.50"}', '{"$numberDecimal":"1.50"}'],
      ['{"$numberDecimal":"1.5"}', '{"$numberDecimal":"1.5"}'],
      ['{"$numberDecimal":"1.5E+3"}', '{"$numberDecimal":"1.5E+3"}'],
      ['{"$numberDecimal":"1500"}', '{"$numberDecimal":"1500"}'],
      ['{"$numberDecimal":"0.0000001"}', '{"$numberDecimal":"1E-7"}'],
      ['{"$numberDecimal":"0.000001"}', '{"$numberDecimal":"0.000001"}'],
      ['{"$numberDecimal":"-0"}', '{"$numberDecimal":"-0"}'],
      ['{"$numberDecimal":"0E+3"}', '{"$numberDecimal":"0E+3"}'],
      ['{"$numberDecimal":"-inf"}', '{"$numberDecimal":"-Infinity"}'],
      ['{"$numberDecimal":"1E+6144"}', '{"$numberDecimal":"1.000000000000000000000000000000000E+6144"}'],
      ['{"$binary":{"subType":"4","base64":"AQI="}}', '{"$binary":{"base64":"AQI=","subType":"04"}}'],
      ['{"$uuid":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}', '{"$binary":{"base64":"oO68mZwLTvi7bWu5vTgKEQ==","subType":"04"}}'],
      ['{"$date":{"$numberLong":"1700000000000"}}', '{"$date":{"$numberLong":"1700000000000"}}'],
      ['{"$timestamp":{"i":2,"t":1}}', '{"$timestamp":{"t":1,"i":2}}'],
      ['{"$regularExpression":{"pattern":"^a","options":"xi"}}', '{"$regularExpression":{"pattern":"^a","options":"ix"}}'],
      ['{"$code":"f()"}', '{"$code":"f()"}'],
      ['{"$scope":{"x":{"$numberInt":"1"}},"$code":"f()"}', '{"$code":"f()","$scope":{"x":{"$numberInt":"1"}}}'],
      ['{"$symbol":"s"}', '{"$symbol":"s"}'],
      ['{"$minKey":1}', '{"$minKey":1}'],
      ['{"$undefined":true}', '{"$undefined":true}'],
      ['{"$dbPointer":{"$ref":"c","$id":{"$oid":"5F1E00000000000000000001"}}}', '{"$dbPointer":{"$ref":"c","$id":{"$oid":"5f1e00000000000000000001"}}}'],
      // DBRef is an ordinary document.
      ['{"$ref":"c","$id":{"$oid":"5f1e00000000000000000001"}}', '{"$ref":"c","$id":{"$oid":"5f1e00000000000000000001"}}'],
    ];
    for (const [input, want] of cases) expect(canonicalExtendedJson(input), input).toBe(want);
  });

  it('accepts the JSON.parse of the text, but not when JS has reordered the fields', () => {
    const text = '{"_id":{"$oid":"65f000000000000000000001"},"n":{"$numberInt":"1"}}';
    expect(canonicalExtendedJson({ value: JSON.parse(text) })).toBe(text);
    expect(canonicalExtendedJson({ text })).toBe(text);
    expect(errorCode(() => canonicalExtendedJson({ value: JSON.parse('{"b":true,"1":true}') }))).toBe('UNSUPPORTED_VALUE');
    expect(canonicalExtendedJson('{"b":true,"1":true}')).toBe('{"b":true,"1":true}');
  });

  it('refuses relaxed mode, bad wrappers and malformed text', () => {
    const unsupported = [
      '{"n": 1}',
      '{"d": {"$date": "2024-01-01T00:00:00Z"}}',
      '{"$numberInt":"2147483648"}',
      '{"$numberInt":1}',
      '{"$numberLong":"1.0"}',
      '{"$numberDouble":"abc"}',
      '{"$numberDecimal":"1.2.3"}',
      '{"$numberDecimal":"12345678901234567890123456789012345"}',
      '{"$oid":"xyz"}',
      '{"$oid":"5f1e00000000000000000001","x":true}',
      '{"$binary":{"base64":"AQI","subType":"00"}}',
      '{"$binary":"AQI=","$type":"00"}',
      '{"$timestamp":{"t":-1,"i":0}}',
      '{"$regularExpression":{"pattern":"a","options":"q"}}',
      '{"$minKey":2}',
      '{"$scope":{}}',
      '{"a":1,"a":2}',
      '"\\ud800"',
    ];
    for (const s of unsupported) expect(errorCode(() => canonicalExtendedJson(s)), s).toBe('UNSUPPORTED_VALUE');
    expect(errorCode(() => canonicalExtendedJson('{"a":'))).toBe('MALFORMED_INPUT');
    expect(() => canonicalExtendedJson(5 as never)).toThrow(TypeError);
  });
});
