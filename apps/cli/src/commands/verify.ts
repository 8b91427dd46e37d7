import { proofFromJson, verifyProof } from '@merklesync/merkle';
import { HASH_OPTION, hashOption, type Command } from '../args.ts';
import { ExitCode } from '../cli-error.ts';
import { readText } from '../inputs.ts';

export const verifyCommand: Command = {
  path: ['verify'],
  summary: 'verify a proof (JSON) against the root it names: exit 0 verified, 1 not verified, 2 malformed',
  positionals: ['PROOF.json'],
  options: {
    hash: { ...HASH_OPTION['hash']!, description: 'require this hash suite (default: the one the proof names)' },
  },
  details:
    'Handles every proof kind: log-inclusion, log-consistency, map-membership, map-non-membership, map-multi.\n' +
    '"-" reads standard input. With --hash, a proof in another suite does not verify (exit 1).',
  async run(args) {
    const proof = proofFromJson(await readText(args.positionals[0]!));
    if (args.values['hash'] !== undefined && hashOption(args) !== proof.hash) {
      process.stderr.write(`merklesync: not verified: the proof uses ${proof.hash}, --hash requires ${hashOption(args)}\n`);
      return ExitCode.Invalid;
    }
    if (verifyProof(proof)) {
      process.stdout.write(`verified: ${proof.kind} (${proof.hash})\n`);
      return ExitCode.Ok;
    }
    process.stderr.write(`merklesync: not verified: ${proof.kind} does not match the root it names\n`);
    return ExitCode.Invalid;
  },
};
