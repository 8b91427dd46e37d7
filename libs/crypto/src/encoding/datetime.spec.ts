import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { daysFromCivil, parsePgTimestamp } from './datetime.ts';
import { formatNumeric, parseNumeric } from './numeric.ts';

describe('calendar and numeric helpers', () => {
  it('daysFromCivil agrees with the proleptic Gregorian calendar of JS Date', () => {
    fc.assert(
      fc.property(fc.integer({ min: -271820, max: 275759 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }), (y, m, d) => {
        const dt = new Date(0);
        dt.setUTCFullYear(y, m - 1, d);
        expect(daysFromCivil(y, m, d)).toBe(dt.getTime() / 86_400_000);
      }),
      { numRuns: 500 },
    );
    expect(() => daysFromCivil(2023, 2, 29)).toThrow(RangeError);
    expect(daysFromCivil(2000, 2, 29)).toBe(11016);
  });

  it('timestamptz text agrees with Date for millisecond instants in years 1000..9999', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1000-01-02T00:00:00Z'), max: new Date('9999-12-30T00:00:00Z'), noInvalidDate: true }), fc.integer({ min: -15, max: 15 }), (dt, offH) => {
        const local = new Date(dt.getTime() + offH * 3_600_000).toISOString(); // 'YYYY-MM-DDTHH:MM:SS.mmmZ'
        const sign = offH < 0 ? '-' : '+';
        const text = `${local.slice(0, 10)} ${local.slice(11, 23)}${sign}${String(Math.abs(offH)).padStart(2, '0')}`;
        expect(parsePgTimestamp(text, true)).toBe(BigInt(dt.getTime()) * 1000n);
      }),
      { numRuns: 300 },
    );
  });

  it('numeric text round-trips through the canonical form', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), fc.nat(20), (n, scale) => {
        const mag = String(n < 0n ? -n : n).padStart(scale + 1, '0');
        const text = (n < 0n ? '-' : '') + (scale ? `${mag.slice(0, mag.length - scale)}.${mag.slice(mag.length - scale)}` : mag);
        expect(formatNumeric(parseNumeric(text))).toBe(text);
      }),
      { numRuns: 300 },
    );
    expect(formatNumeric(parseNumeric('1.5e-3'))).toBe('0.0015');
    expect(formatNumeric(parseNumeric('-.50'))).toBe('-0.50');
    expect(formatNumeric(parseNumeric('-0.000'))).toBe('0.000');
  });
});
