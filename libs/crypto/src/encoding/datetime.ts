// Postgres date/time text (DateStyle ISO, IntervalStyle postgres — the defaults, and what pgoutput and
// node-postgres see) → the integers Postgres stores: days, microseconds, (months, days, micros).
import { _I32_MAX, _I32_MIN, _I64_MAX, _I64_MIN, _malformed } from './_util.ts';
import type { Infinite, IntervalFields } from './types.ts';

const _US_PER_DAY = 86_400_000_000n;
const _DAYS_IN_MONTH: readonly number[] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const _DAYS_IN_MONTH_LEAP: readonly number[] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Days since 1970-01-01 of a proleptic Gregorian date, `year` astronomical (1 BC = 0, 2 BC = −1).
 * Howard Hinnant's days_from_civil.
 * @throws RangeError for a month/day that does not exist.
 * @example daysFromCivil(2024, 2, 29) // 19782
 */
export function daysFromCivil(year: number, month: number, day: number): number {
  if (!Number.isSafeInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) throw new TypeError('year, month and day must be integers');
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const dim = (leap ? _DAYS_IN_MONTH_LEAP : _DAYS_IN_MONTH)[month - 1];
  if (dim === undefined || day < 1 || day > dim) throw new RangeError(`no such date: ${year}-${month}-${day}`);
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function _date(what: string, y: string, mo: string, d: string, bc: boolean): number {
  let year = Number(y);
  if (year === 0) _malformed(what, 'there is no year 0 (use 1 BC)');
  if (bc) year = 1 - year;
  try {
    return daysFromCivil(year, Number(mo), Number(d));
  } catch {
    return _malformed(what, `no such date ${y}-${mo}-${d}${bc ? ' BC' : ''}`);
  }
}

function _timeMicros(what: string, h: string, mi: string, s: string, frac: string | undefined): bigint {
  const H = Number(h);
  const M = Number(mi);
  const S = Number(s);
  if (M > 59 || S > 59) _malformed(what, 'minutes/seconds out of range');
  const us = BigInt((frac ?? '').padEnd(6, '0'));
  const total = ((BigInt(H) * 60n + BigInt(M)) * 60n + BigInt(S)) * 1_000_000n + us;
  if (H > 24 || total > _US_PER_DAY) _malformed(what, 'time of day out of range');
  return total;
}

/** '+05:30' / '-08' / '+05:53:28' / 'Z' → seconds east of UTC. */
function _offset(what: string, tz: string): number {
  if (tz === 'Z') return 0;
  const m = /^([+-])([0-9]{2})(?::?([0-9]{2}))?(?::?([0-9]{2}))?$/.exec(tz);
  if (!m) return _malformed(what, `bad UTC offset ${JSON.stringify(tz)}`);
  const secs = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  if (Number(m[3] ?? 0) > 59 || Number(m[4] ?? 0) > 59 || secs > 15 * 3600 + 59 * 60 + 59) _malformed(what, 'UTC offset out of range');
  return m[1] === '-' ? -secs : secs;
}

/**
 * Postgres `date` text ('2024-02-29', '0044-03-15 BC', 'infinity', '-infinity') → days since 1970-01-01.
 * @throws CryptoError(MALFORMED_INPUT) for anything else.
 * @example parsePgDate('1970-01-02') // 1
 */
export function parsePgDate(text: string): number | Infinite {
  if (text === 'infinity' || text === '-infinity') return text;
  const m = /^([0-9]{4,})-([0-9]{2})-([0-9]{2})( BC)?$/.exec(text);
  if (!m) return _malformed('date', `not an ISO date: ${JSON.stringify(text.slice(0, 40))}`);
  return _date('date', m[1]!, m[2]!, m[3]!, m[4] !== undefined);
}

/**
 * Postgres `time` text ('04:05:06.789', '24:00:00') → microseconds since midnight.
 * @throws CryptoError(MALFORMED_INPUT) for anything else.
 * @example parsePgTime('00:00:01.5') // 1500000n
 */
export function parsePgTime(text: string): bigint {
  const m = /^([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?$/.exec(text);
  if (!m) return _malformed('time', `not a time: ${JSON.stringify(text.slice(0, 40))}`);
  return _timeMicros('time', m[1]!, m[2]!, m[3]!, m[4]);
}

/**
 * Postgres `timetz` text ('04:05:06.789+05:30') → local microseconds and offset seconds (east positive).
 * @throws CryptoError(MALFORMED_INPUT) for anything else.
 * @example parsePgTimetz('12:00:00-08') // { micros: 43200000000n, offsetSeconds: -28800 }
 */
export function parsePgTimetz(text: string): { micros: bigint; offsetSeconds: number } {
  const m = /^([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?([+-][0-9:]+|Z)$/.exec(text);
  if (!m) return _malformed('timetz', `not a time with time zone: ${JSON.stringify(text.slice(0, 40))}`);
  return { micros: _timeMicros('timetz', m[1]!, m[2]!, m[3]!, m[4]), offsetSeconds: _offset('timetz', m[5]!) };
}

/**
 * Postgres `timestamp` / `timestamptz` text → microseconds since 1970-01-01 00:00:00 (UTC for timestamptz:
 * the printed offset is applied). Accepts 'YYYY-MM-DD HH:MM:SS[.ffffff][offset][ BC]' (a 'T' separator and
 * 'Z' too, as ISO 8601 emitters such as Debezium write them), 'infinity', '-infinity'. An offset is
 * required for timestamptz and refused for timestamp.
 * @throws CryptoError(MALFORMED_INPUT) for anything else.
 * @example parsePgTimestamp('2024-02-29 12:34:56.789+05:30', true) // 1709190296789000n
 */
export function parsePgTimestamp(text: string, withTimeZone: boolean): bigint | Infinite {
  const what = withTimeZone ? 'timestamptz' : 'timestamp';
  if (text === 'infinity' || text === '-infinity') return text;
  const m = /^([0-9]{4,})-([0-9]{2})-([0-9]{2})[ T]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?([+-][0-9:]+|Z)?( BC)?$/.exec(text);
  if (!m) return _malformed(what, `not an ISO timestamp: ${JSON.stringify(text.slice(0, 40))}`);
  if (withTimeZone !== (m[8] !== undefined)) _malformed(what, withTimeZone ? 'UTC offset missing' : 'unexpected UTC offset');
  const days = _date(what, m[1]!, m[2]!, m[3]!, m[9] !== undefined);
  const tod = _timeMicros(what, m[4]!, m[5]!, m[6]!, m[7]);
  const off = m[8] === undefined ? 0 : _offset(what, m[8]);
  const us = BigInt(days) * _US_PER_DAY + tod - BigInt(off) * 1_000_000n;
  if (us <= _I64_MIN || us >= _I64_MAX) _malformed(what, 'out of range');
  return us;
}

const _UNITS: Record<string, 'y' | 'm' | 'd'> = { year: 'y', years: 'y', mon: 'm', mons: 'm', month: 'm', months: 'm', day: 'd', days: 'd' };

/**
 * Postgres `interval` text in IntervalStyle postgres ('1 year 2 mons 3 days 04:05:06.7',
 * '-1 days +02:03:00', '00:00:00', 'infinity') → months, days, microseconds, kept apart as Postgres keeps them.
 * @throws CryptoError(MALFORMED_INPUT) for anything else (other IntervalStyles included).
 * @example parsePgInterval('1 year 2 mons 3 days 04:05:06.7') // { months: 14, days: 3, micros: 14706700000n }
 */
export function parsePgInterval(text: string): IntervalFields | Infinite {
  if (text === 'infinity' || text === '-infinity') return text;
  const bad = (r: string): never => _malformed('interval', `${r}: ${JSON.stringify(text.slice(0, 40))}`);
  const tokens = text.split(' ');
  let months = 0;
  let days = 0;
  let micros = 0n;
  const seen = new Set<string>();
  if (text === '') bad('empty');
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const tm = /^([+-]?)([0-9]+):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?$/.exec(t);
    if (tm) {
      if (seen.has('t') || i !== tokens.length - 1) bad('misplaced time field');
      seen.add('t');
      if (Number(tm[3]) > 59 || Number(tm[4]) > 59) bad('minutes/seconds out of range');
      const mag = ((BigInt(tm[2]!) * 60n + BigInt(tm[3]!)) * 60n + BigInt(tm[4]!)) * 1_000_000n + BigInt((tm[5] ?? '').padEnd(6, '0'));
      micros = tm[1] === '-' ? -mag : mag;
      continue;
    }
    if (!/^[+-]?[0-9]+$/.test(t)) bad('expected a number');
    const word = tokens[++i];
    const unit = word === undefined ? undefined : _UNITS[word];
    if (unit === undefined || seen.has(unit) || seen.has('t')) return bad('expected year(s), mon(s) or day(s)');
    seen.add(unit);
    const n = Number(t);
    if (unit === 'y') months += n * 12;
    else if (unit === 'm') months += n;
    else days = n;
  }
  if (!Number.isSafeInteger(months) || months < _I32_MIN || months > _I32_MAX || days < _I32_MIN || days > _I32_MAX) bad('out of range');
  if (micros < _I64_MIN || micros > _I64_MAX) bad('out of range');
  return { months, days, micros };
}
