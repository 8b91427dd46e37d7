import type { StatementInfo } from './analyze.ts';

/**
 * The warnings a statement earns: one per non-deterministic function and one per capture limit, each naming
 * the statement's position in its transaction.
 * @example nondeterminismWarnings(info, 2) // ['statement 2: non-deterministic function random()']
 */
export function nondeterminismWarnings(info: StatementInfo, index: number): string[] {
  const out = info.nondeterministic.map((f) => `statement ${index}: non-deterministic function ${f}()`);
  for (const l of info.captureLimits) out.push(`statement ${index}: ${l}`);
  return out;
}
