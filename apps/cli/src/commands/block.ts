import { writeFile } from 'node:fs/promises';
import {
  BLOCK_MAGIC,
  Envelope,
  LocalKeyProvider,
  MAX_BLOCK_BYTES,
  MAX_BLOCK_PLAINTEXT_BYTES,
  type RowBinding,
} from '@merklesync/crypto';
import { fromBase64, fromHex, toBase64 } from '@merklesync/merkle';
import type { Command, OptionSpec, ParsedArgs } from '../args.ts';
import { CliInputError, ExitCode } from '../cli-error.ts';
import { cryptoExit, readBytes, readKeyFile } from './_crypto-io.ts';

const BINDING_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  key: { type: 'string', valueName: 'FILE', description: 'master key file (see merklesync keys new --help)' },
  source: { type: 'string', valueName: 'S', description: 'source id the row belongs to (bound into the block)' },
  table: { type: 'string', valueName: 'T', description: 'table name (bound into the block)' },
  pk: { type: 'string', valueName: 'HEX', description: "the row's canonical primary key bytes, as hex (bound into the block)" },
  'row-version': { type: 'string', valueName: 'N', description: 'row version, 0..2^64-1 (bound into the block)' },
  out: { type: 'string', valueName: 'FILE', description: 'write the output to FILE instead of standard output' },
};
const EXIT_HELP = 'Exit codes: 0 ok, 1 the block does not authenticate (wrong key, wrong source/table/pk/row version, tampered)\nor names a key version the key file lacks, 2 bad usage or malformed input (one-line reason on stderr).';

function _required(args: ParsedArgs, name: string): string {
  const v = args.values[name];
  if (typeof v !== 'string') throw new CliInputError(`--${name} is required; see --help`);
  return v;
}

function _binding(args: ParsedArgs): RowBinding {
  const source = _required(args, 'source');
  const table = _required(args, 'table');
  const pkText = _required(args, 'pk');
  const rv = _required(args, 'row-version');
  if (source === '' || table === '') throw new CliInputError('--source and --table must not be empty');
  if (Buffer.byteLength(source) > 0xffff || Buffer.byteLength(table) > 0xffff) throw new CliInputError('--source and --table must be at most 65535 UTF-8 bytes');
  let primaryKey: Uint8Array;
  try {
    primaryKey = fromHex(pkText, '--pk', true);
  } catch {
    throw new CliInputError(`--pk is not hex: ${pkText.length > 40 ? pkText.slice(0, 40) + '…' : pkText}`);
  }
  if (!/^(0|[1-9][0-9]*)$/.test(rv) || BigInt(rv) > (1n << 64n) - 1n) throw new CliInputError(`--row-version must be an integer in 0..2^64-1, got ${rv}`);
  return { source, table, primaryKey, rowVersion: BigInt(rv) };
}

async function _envelope(args: ParsedArgs): Promise<Envelope> {
  const ring = await readKeyFile(_required(args, 'key'));
  return new Envelope({ provider: new LocalKeyProvider([ring]), kid: ring.kid });
}

async function _write(args: ParsedArgs, data: Uint8Array | string): Promise<void> {
  const out = args.values['out'];
  if (typeof out !== 'string') {
    await new Promise<void>((resolve, reject) => process.stdout.write(data, (e) => (e ? reject(e) : resolve())));
    return;
  }
  try {
    await writeFile(out, data);
  } catch (e) {
    throw new CliInputError(`cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** A block as given: binary (starts with the magic "MSEB") or base64 text (what encrypt prints). */
function _decodeBlockInput(raw: Uint8Array): Uint8Array {
  if (raw.length >= 4 && BLOCK_MAGIC.every((b, i) => raw[i] === b)) return raw;
  const text = Buffer.from(raw).toString('latin1').trim();
  try {
    return fromBase64(text, 'block');
  } catch {
    throw new CliInputError('input is neither a binary block (magic "MSEB") nor base64 of one');
  }
}

export const blockCommands: readonly Command[] = [
  {
    path: ['block', 'encrypt'],
    summary: 'encrypt the row bytes in IN into a block bound to (source, table, pk, row version)',
    positionals: ['IN'],
    options: BINDING_OPTIONS,
    details:
      'IN is a file of plaintext bytes, or "-" for standard input. The block is encrypted with the current\n' +
      'version of the key file. Output: binary with --out FILE, otherwise base64 and a newline on standard output.\n' +
      EXIT_HELP,
    async run(args) {
      const binding = _binding(args);
      const env = await _envelope(args);
      const plaintext = await readBytes(args.positionals[0]!, MAX_BLOCK_PLAINTEXT_BYTES, 'plaintext');
      const block = await env.encrypt(binding, plaintext);
      await _write(args, typeof args.values['out'] === 'string' ? block : toBase64(block) + '\n');
      return ExitCode.Ok;
    },
  },
  {
    path: ['block', 'decrypt'],
    summary: 'decrypt the block in IN for the row (source, table, pk, row version) it must be bound to',
    positionals: ['IN'],
    options: BINDING_OPTIONS,
    details:
      'IN is a block file (binary or base64), or "-" for standard input. Any key version still in the key file\n' +
      'decrypts. The plaintext goes to --out FILE or standard output, only after the block authenticated.\n' +
      EXIT_HELP,
    async run(args) {
      const binding = _binding(args);
      const env = await _envelope(args);
      // base64 is 4/3 of the binary size; allow for that plus a line break before refusing.
      const raw = await readBytes(args.positionals[0]!, Math.ceil((MAX_BLOCK_BYTES * 4) / 3) + 2, 'block');
      let plaintext: Uint8Array;
      try {
        plaintext = await env.decrypt(_decodeBlockInput(raw), binding);
      } catch (e) {
        return cryptoExit(e);
      }
      await _write(args, plaintext);
      return ExitCode.Ok;
    },
  },
];
