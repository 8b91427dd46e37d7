// Postgres `numeric`: arbitrary-precision decimal that keeps its display scale ('1.50' and '1.5' are
// equal under `=` but are different stored values and print differently, so they encode differently).
import { _malformed, _unsupported } from './_util.ts';

/** Canonical numeric: special value, or sign + scale + unscaled magnitude digits. */
export type CanonicalNumeric =
  | { kind: 'nan' | 'infinity' | '-infinity' }
  | { kind: 'finite'; negative: boolean; scale: number; digits: string };

// Postgres limits (numeric.c): 131072 digits before the point, 16383 after.
const _MAX_SCALE = 16383;
const _MAX_DIGITS = 131072 + 16383;
const _NUM_RE = /^([+-]?)(?:([0-9]+)(?:\.([0-9]*))?|\.([0-9]+))(?:[eE]([+-]?[0-9]+))?$/;

/**
 * Parses numeric text the way Postgres' numeric_in does for the decimal forms it prints (plus an
 * exponent, with Postgres' scale rule scale = max(0, fraction digits − exponent)). 'NaN', 'Infinity'
 * and '-Infinity' are the special values. Negative zero becomes zero (Postgres has no −0 numeric).
 * @throws CryptoError(MALFORMED_INPUT) for any other text; CryptoError(UNSUPPORTED_VALUE) beyond Postgres' limits.
 * @example parseNumeric('12.3400') // { kind: 'finite', negative: false, scale: 4, digits: '123400' }
 */
export function parseNumeric(text: string, what = 'numeric'): CanonicalNumeric {
  if (typeof text !== 'string') throw new TypeError(`${what} must be a string`);
  if (text === 'NaN') return { kind: 'nan' };
  if (text === 'Infinity' || text === '+Infinity') return { kind: 'infinity' };
  if (text === '-Infinity') return { kind: '-infinity' };
  const m = _NUM_RE.exec(text);
  if (!m) return _malformed(what, `not a decimal number: ${JSON.stringify(text.slice(0, 40))}`);
  const intPart = m[2] ?? '';
  const frac = m[3] ?? m[4] ?? '';
  const expText = m[5];
  if (expText !== undefined && Math.abs(Number(expText)) > 1_000_000) _unsupported(what, 'exponent out of range');
  const exp = expText === undefined ? 0 : Number(expText);
  // value = (intPart frac) × 10^(exp − frac.length); Postgres keeps max(0, frac.length − exp) decimals.
  let digits = intPart + frac;
  const shift = exp - frac.length;
  let scale: number;
  if (shift >= 0) {
    digits += '0'.repeat(shift);
    scale = 0;
  } else scale = -shift;
  digits = digits.replace(/^0+/, '') || '0';
  if (scale > _MAX_SCALE || digits.length > _MAX_DIGITS) _unsupported(what, 'beyond Postgres numeric limits');
  return { kind: 'finite', negative: m[1] === '-' && digits !== '0', scale, digits };
}

/**
 * Postgres' text form of a canonical numeric (what `SELECT x::text` prints).
 * @throws never for values from parseNumeric.
 * @example formatNumeric(parseNumeric('1.5e3')) // '1500'
 */
export function formatNumeric(n: CanonicalNumeric): string {
  if (n.kind !== 'finite') return n.kind === 'nan' ? 'NaN' : n.kind === 'infinity' ? 'Infinity' : '-Infinity';
  const padded = n.digits.padStart(n.scale + 1, '0');
  const int = padded.slice(0, padded.length - n.scale);
  const frac = padded.slice(padded.length - n.scale);
  return (n.negative ? '-' : '') + int + (n.scale > 0 ? '.' + frac : '');
}
