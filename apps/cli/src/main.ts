import { CryptoError } from '@merklesync/crypto';
import { MerkleError } from '@merklesync/merkle';
import { commandHelp, parseCommandArgs, type Command } from './args.ts';
import { CliInputError, ExitCode } from './cli-error.ts';
import { COMMANDS } from './commands/index.ts';

function _globalHelp(): string {
  const rows = COMMANDS.map((c) => `  merklesync ${[...c.path, ...c.positionals].join(' ').padEnd(36)} ${c.summary}`);
  return [
    'merklesync — offline tools for MerkleSync trees and proofs',
    '',
    'Commands:',
    ...rows,
    '',
    'Every command takes --help. Exit codes: 0 ok, 1 did not verify, 2 bad usage or malformed input, 3 internal error.',
  ].join('\n');
}

/** Longest command path that prefixes argv. */
function _find(argv: readonly string[]): Command | undefined {
  let best: Command | undefined;
  for (const c of COMMANDS) {
    if (c.path.every((p, i) => argv[i] === p) && (!best || c.path.length > best.path.length)) best = c;
  }
  return best;
}

/**
 * Runs the CLI on argv (without node and script) and returns the exit code. Never throws.
 * @example process.exitCode = await main(['log', 'root', 'leaves.txt'])
 */
export async function main(argv: readonly string[]): Promise<number> {
  const out = (s: string): void => void process.stdout.write(s.endsWith('\n') ? s : s + '\n');
  const err = (s: string): void => void process.stderr.write(`merklesync: ${s}\n`);
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    out(_globalHelp());
    return argv.length === 0 ? ExitCode.Malformed : ExitCode.Ok;
  }
  const cmd = _find(argv);
  if (!cmd) {
    const group = COMMANDS.filter((c) => c.path[0] === argv[0]);
    if (group.length > 0 && (argv.length === 1 || argv[1] === '--help')) {
      out(group.map((c) => commandHelp(c)).join('\n\n'));
      return argv[1] === '--help' ? ExitCode.Ok : ExitCode.Malformed;
    }
    err(`unknown command: ${argv.slice(0, 2).join(' ')} (see merklesync --help)`);
    return ExitCode.Malformed;
  }
  const rest = argv.slice(cmd.path.length);
  if (rest.includes('--help') || rest.includes('-h')) {
    out(commandHelp(cmd));
    return ExitCode.Ok;
  }
  try {
    return await cmd.run(parseCommandArgs(cmd, rest));
  } catch (e) {
    // Commands validate their arguments themselves, so a library TypeError/RangeError here is a bug.
    if (e instanceof CliInputError || e instanceof MerkleError || e instanceof CryptoError) {
      err(e.message.split('\n')[0]!);
      return ExitCode.Malformed;
    }
    err(`internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return ExitCode.Internal;
  }
}
