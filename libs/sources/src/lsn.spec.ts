import { describe, expect, it } from 'vitest';
import { formatLsn, parseLsn } from './lsn.ts';

describe('lsn', () => {
  it('round-trips Postgres text', () => {
    expect(parseLsn('0/16B3748')).toBe(0x16b3748n);
    expect(parseLsn('1/0')).toBe(1n << 32n);
    expect(formatLsn(0x16b3748n)).toBe('0/16B3748');
    expect(formatLsn(parseLsn('FFFFFFFF/FFFFFFFF'))).toBe('FFFFFFFF/FFFFFFFF');
  });
  it('rejects non-LSNs', () => {
    expect(() => parseLsn('16B3748')).toThrow(RangeError);
    expect(() => parseLsn('0/123456789')).toThrow(RangeError);
    expect(() => formatLsn(-1n)).toThrow(RangeError);
  });
});
