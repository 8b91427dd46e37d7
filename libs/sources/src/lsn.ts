/**
 * Log sequence numbers. Postgres prints an LSN as two hex halves `XXXXXXXX/XXXXXXXX`; on the wire it is a
 * uint64. Internally we keep bigints (ordered, exact); the public API uses Postgres' text form.
 */

/**
 * Parses Postgres' `hi/lo` LSN text.
 * @throws RangeError when `text` is not an LSN.
 * @example parseLsn('0/16B3748') // 23803720n
 */
export function parseLsn(text: string): bigint {
  if (typeof text !== 'string') throw new TypeError('lsn must be a string');
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!m) throw new RangeError(`lsn: not an LSN: ${JSON.stringify(text)}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/**
 * Formats a uint64 LSN the way Postgres prints it (upper-case hex, no padding).
 * @throws RangeError when `lsn` is negative or wider than 64 bits.
 * @example formatLsn(23803720n) // '0/16B3748'
 */
export function formatLsn(lsn: bigint): string {
  if (lsn < 0n || lsn > 0xffffffffffffffffn) throw new RangeError('lsn: out of range');
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}
