import { parseArgs } from 'node:util';
import { isHashSuiteName, type HashSuiteName } from '@merklesync/merkle';
import { CliInputError } from './cli-error.ts';

/** One option a command accepts (all options take a string value, except booleans). */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly description: string;
  readonly valueName?: string;
}

/** A command of the CLI: `merklesync <path...> [positionals] [--options]`. */
export interface Command {
  readonly path: readonly string[];
  readonly summary: string;
  /** Positional argument names, e.g. ['FILE', 'INDEX']. */
  readonly positionals: readonly string[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Extra help text after the option list. */
  readonly details?: string;
  run(args: ParsedArgs): Promise<number> | number;
}

export interface ParsedArgs {
  readonly positionals: readonly string[];
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
}

/** `--hash`, accepted by every Merkle command. */
export const HASH_OPTION: Readonly<Record<string, OptionSpec>> = {
  hash: { type: 'string', valueName: 'sha256|blake3', description: 'hash suite (default sha256)' },
};

/**
 * Parses argv for `cmd`; unknown options, missing or extra positionals are CliInputErrors.
 * `--help` is handled by the caller before this.
 */
export function parseCommandArgs(cmd: Command, argv: readonly string[]): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const [name, spec] of Object.entries(cmd.options)) options[name] = { type: spec.type };
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new CliInputError((e as Error).message);
  }
  if (parsed.positionals.length !== cmd.positionals.length) {
    throw new CliInputError(`expected ${cmd.positionals.length} argument(s) (${cmd.positionals.join(' ')}), got ${parsed.positionals.length}; see --help`);
  }
  return { positionals: parsed.positionals, values: parsed.values };
}

/** The `--hash` value, validated. */
export function hashOption(args: ParsedArgs): HashSuiteName {
  const v = args.values['hash'];
  if (v === undefined) return 'sha256';
  if (!isHashSuiteName(v)) throw new CliInputError(`--hash must be sha256 or blake3, got ${String(v)}`);
  return v;
}

/** A non-negative decimal integer argument. */
export function intArg(name: string, text: string | boolean | undefined): number {
  if (typeof text !== 'string' || !/^(0|[1-9][0-9]*)$/.test(text)) throw new CliInputError(`${name} must be a non-negative integer, got ${String(text)}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new CliInputError(`${name} is too large: ${text}`);
  return n;
}

/** Help text of one command. */
export function commandHelp(cmd: Command): string {
  const lines = [`Usage: merklesync ${[...cmd.path, ...cmd.positionals].join(' ')} [options]`, '', cmd.summary, '', 'Options:'];
  const all: Record<string, OptionSpec> = { ...cmd.options, help: { type: 'boolean', description: 'show this help' } };
  for (const [name, spec] of Object.entries(all)) {
    const flag = spec.type === 'string' ? `--${name} ${spec.valueName ?? 'VALUE'}` : `--${name}`;
    lines.push(`  ${flag.padEnd(24)} ${spec.description}`);
  }
  if (cmd.details) lines.push('', cmd.details);
  return lines.join('\n');
}
