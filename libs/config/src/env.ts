// Reading variables from an environment object with a table of defaults. Pure: the caller passes the object
// (main.ts hands in process.env once), so loaders are testable with plain records.

/** An environment: variable name → value (process.env fits). */
export type Env = Readonly<Record<string, string | undefined>>;

/** Thrown at start-up for a missing or invalid variable; the message names it. */
export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, why: string) {
    super(`${variable}: ${why}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/** Typed accessors over one environment; every variable has a default (unset or blank → default). */
export interface EnvReader<N extends string> {
  /** The trimmed value, or the default when unset or blank. */
  str(name: N): string;
  /**
   * A decimal integer in [min, max].
   * @throws ConfigError naming the variable otherwise.
   */
  int(name: N, min: number, max: number): number;
  /**
   * The value when it matches `re`.
   * @throws ConfigError naming the variable otherwise.
   */
  match(name: N, re: RegExp): string;
}

/**
 * Accessors over `env` with `defaults` for every name they accept.
 * @example const r = envReader(process.env, { APP_PORT: '8080' }); const port = r.int('APP_PORT', 0, 65535)
 */
export function envReader<N extends string>(env: Env, defaults: Readonly<Record<N, string>>): EnvReader<N> {
  const str = (name: N): string => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? defaults[name] : v.trim();
  };
  return {
    str,
    int(name, min, max) {
      const raw = str(name);
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) throw new ConfigError(name, `must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
      return n;
    },
    match(name, re) {
      const v = str(name);
      if (!re.test(v)) throw new ConfigError(name, `must match ${String(re)}, got ${JSON.stringify(v)}`);
      return v;
    },
  };
}
