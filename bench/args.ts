// Command-line options of the benchmark scripts: `--flag` and `--name <integer>` (digits may be grouped by _ or ,).

const _argv = process.argv.slice(2);

/** True when `name` is on the command line. */
export const flag = (name: string): boolean => _argv.includes(name);

/**
 * The integer after `name`, or `dflt` when `name` is absent.
 * @throws RangeError when the value is not an integer ≥ `min`.
 * @example const changes = intArg('--changes', 100_000, 1)
 */
export function intArg(name: string, dflt: number, min: number): number {
  const i = _argv.indexOf(name);
  if (i < 0) return dflt;
  const raw = _argv[i + 1] ?? '';
  const v = Number(raw.replace(/[_,]/g, ''));
  if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`${name} needs an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return v;
}

/**
 * The word after `name`, one of `choices`, or `dflt` when `name` is absent.
 * @throws RangeError when the value is not one of `choices`.
 * @example const server = choiceArg('--store-server', ['shared', 'own'] as const, 'shared')
 */
export function choiceArg<T extends string>(name: string, choices: readonly T[], dflt: T): T {
  const i = _argv.indexOf(name);
  if (i < 0) return dflt;
  const raw = _argv[i + 1] ?? '';
  const v = choices.find((c) => c === raw);
  if (v === undefined) throw new RangeError(`${name} needs one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
  return v;
}

/** The servers the benchmarks use: BENCH_PG_URL (no database) and BENCH_NATS, defaulting to this machine's. */
export const PG_URL = process.env['BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432';
export const NATS = process.env['BENCH_NATS'] ?? '127.0.0.1:4222';
