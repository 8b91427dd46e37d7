import { LogTree, getHashSuite, logProofToJson, proveLogConsistency, proveLogInclusion, toHex } from '@merklesync/merkle';
import { HASH_OPTION, hashOption, intArg, type Command, type ParsedArgs } from '../args.ts';
import { CliInputError, ExitCode } from '../cli-error.ts';
import { readLeafFile } from '../inputs.ts';

const FILE_HELP = 'FILE holds one leaf per line: the leaf data as hex (hashed as H(0x00 || data)); "-" reads standard input.';

async function _tree(args: ParsedArgs): Promise<LogTree> {
  const tree = new LogTree(getHashSuite(hashOption(args)));
  tree.appendMany(await readLeafFile(args.positionals[0]!));
  return tree;
}

function _printJson(value: unknown): number {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
  return ExitCode.Ok;
}

export const logCommands: readonly Command[] = [
  {
    path: ['log', 'root'],
    summary: 'print the RFC 9162 Merkle tree hash of the leaves in FILE (lowercase hex)',
    positionals: ['FILE'],
    options: HASH_OPTION,
    details: FILE_HELP,
    async run(args) {
      process.stdout.write(toHex((await _tree(args)).root()) + '\n');
      return ExitCode.Ok;
    },
  },
  {
    path: ['log', 'prove'],
    summary: 'print an inclusion proof (JSON) of leaf INDEX in the tree of the first N leaves',
    positionals: ['FILE', 'INDEX'],
    options: { ...HASH_OPTION, size: { type: 'string', valueName: 'N', description: 'tree size to prove against (default: all leaves)' } },
    details: FILE_HELP,
    async run(args) {
      const tree = await _tree(args);
      const index = intArg('INDEX', args.positionals[1]);
      const size = args.values['size'] === undefined ? tree.size : intArg('--size', args.values['size']);
      if (size > tree.size) throw new CliInputError(`--size ${size} is larger than the ${tree.size} leaves in the file`);
      if (index >= size) throw new CliInputError(`INDEX ${index} is not below the tree size ${size}`);
      return _printJson(logProofToJson(proveLogInclusion(tree, index, size)));
    },
  },
  {
    path: ['log', 'consistency'],
    summary: 'print a consistency proof (JSON) that the tree of the first N leaves extends that of the first M',
    positionals: ['FILE', 'M', 'N'],
    options: HASH_OPTION,
    details: `${FILE_HELP}\nRequires 0 < M <= N <= number of leaves.`,
    async run(args) {
      const tree = await _tree(args);
      const m = intArg('M', args.positionals[1]);
      const n = intArg('N', args.positionals[2]);
      if (m === 0 || m > n || n > tree.size) throw new CliInputError(`need 0 < M <= N <= ${tree.size}, got M=${m} N=${n}`);
      return _printJson(logProofToJson(proveLogConsistency(tree, m, n)));
    },
  },
];
