import { randomBytes } from 'node:crypto';
import { Keyring, serializeKeyFile } from '@merklesync/crypto';
import type { Command } from '../args.ts';
import { CliInputError, ExitCode } from '../cli-error.ts';
import { readKeyFile, writeKeyFile } from './_crypto-io.ts';

const KEY_FILE_HELP =
  'A key file is JSON: {"v":1,"kid":ID,"keys":[{"version":N,"key":BASE64(32 bytes),"created":RFC3339}]};\n' +
  'the highest version is current (libs/crypto/README.md part B). It is written with mode 0600.';

function _kid(args: { values: Readonly<Record<string, string | boolean | undefined>> }): string {
  const kid = args.values['kid'];
  if (kid === undefined) return `key-${randomBytes(4).toString('hex')}`;
  if (typeof kid !== 'string' || !/^[A-Za-z0-9._:-]{1,64}$/.test(kid)) throw new CliInputError(`--kid must be 1..64 characters of [A-Za-z0-9._:-], got ${String(kid)}`);
  return kid;
}

export const keysCommands: readonly Command[] = [
  {
    path: ['keys', 'new'],
    summary: 'create a master key file (32 random bytes, version 1); never prints the key unless --print',
    positionals: [],
    options: {
      out: { type: 'string', valueName: 'FILE', description: 'write the key file to FILE (mode 0600; an existing FILE is not replaced)' },
      kid: { type: 'string', valueName: 'ID', description: 'key id, 1..64 of [A-Za-z0-9._:-] (default: key-<8 random hex>)' },
      print: { type: 'boolean', description: 'write the key file to standard output (it contains the secret key)' },
    },
    details: KEY_FILE_HELP,
    async run(args) {
      const out = args.values['out'];
      const print = args.values['print'] === true;
      if (out === undefined && !print) throw new CliInputError('nothing to do: give --out FILE (or --print to write the key file to standard output)');
      const ring = Keyring.generate(_kid(args));
      if (typeof out === 'string') await writeKeyFile(out, ring, false);
      if (print) process.stdout.write(serializeKeyFile(ring));
      else process.stdout.write(`wrote ${String(out)}: kid ${ring.kid}, version 1\n`);
      return ExitCode.Ok;
    },
  },
  {
    path: ['keys', 'rotate'],
    summary: 'add a new random version to the key file FILE; it becomes current, older versions are kept',
    positionals: ['FILE'],
    options: {},
    details: `${KEY_FILE_HELP}\nNew blocks use the new version; blocks of older versions still decrypt.`,
    async run(args) {
      const file = args.positionals[0]!;
      const ring = (await readKeyFile(file)).rotate();
      await writeKeyFile(file, ring, true);
      process.stdout.write(`${file}: kid ${ring.kid}, version ${ring.currentVersion} is now current (${ring.versions.length} versions kept)\n`);
      return ExitCode.Ok;
    },
  },
];
