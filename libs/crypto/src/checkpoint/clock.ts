/** Milliseconds since the Unix epoch, injectable so tests and replays are deterministic. */
export type Clock = () => number;

/** The wall clock. @example systemClock() // Date.now() */
export const systemClock: Clock = () => Date.now();

/** A clock's reading checked to be a usable time (a broken clock must not turn into "no expiry"). */
export function _now(clock: Clock): number {
  const t = clock();
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) throw new RangeError('clock must return non-negative integer milliseconds');
  return t;
}
