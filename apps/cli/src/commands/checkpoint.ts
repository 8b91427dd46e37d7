import { writeFile } from 'node:fs/promises';
import {
  CryptoError,
  CryptoErrorCode,
  SignatureType,
  cosignCheckpoint,
  formatSignerKey,
  formatVerifierKey,
  generateSignerKey,
  isValidKeyName,
  parsePolicy,
  parseSignerKey,
  signCheckpoint,
  verifierKeyOf,
  verifyCheckpoint,
  type SignerKey,
} from '@merklesync/crypto';
import { LogTree, fromHex, getHashSuite } from '@merklesync/merkle';
import { intArg, type Command, type ParsedArgs } from '../args.ts';
import { CliInputError, ExitCode } from '../cli-error.ts';
import { readLeafFile, readText } from '../inputs.ts';

// Library errors about the input (bad key file, malformed note or policy) are usage errors here: exit 2.
async function _guard(f: () => Promise<number>): Promise<number> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof CryptoError) throw new CliInputError(e.message.split('\n')[0]!);
    throw e;
  }
}

function _str(args: ParsedArgs, name: string, required = true): string | undefined {
  const v = args.values[name];
  if (v === undefined) {
    if (required) throw new CliInputError(`--${name} is required; see --help`);
    return undefined;
  }
  if (typeof v !== 'string' || v === '') throw new CliInputError(`--${name} needs a value`);
  return v;
}

/** The signer key of a key file: its first line starting with PRIVATE+KEY+ (keygen's output works as is). */
async function _signerKey(file: string, type: SignatureType, role: string): Promise<SignerKey> {
  const line = (await readText(file)).split('\n').map((l) => l.trim()).find((l) => l.startsWith('PRIVATE+KEY+'));
  if (!line) throw new CliInputError(`${file}: no signer key (a line starting with PRIVATE+KEY+)`);
  const key = parseSignerKey(line);
  if (key.type !== type) {
    throw new CliInputError(`${file}: a ${role} key must be of type 0x0${type}, this one is 0x0${key.type} (keygen ${type === SignatureType.Ed25519Cosignature ? '--witness' : 'without --witness'})`);
  }
  return key;
}

function _hash32(text: string, what: string): Uint8Array {
  let b: Uint8Array;
  try {
    b = fromHex(text, what, true);
  } catch {
    throw new CliInputError(`${what} is not hex: ${text.slice(0, 80)}`);
  }
  if (b.length !== 32) throw new CliInputError(`${what} must be 32 bytes (64 hex digits), got ${b.length}`);
  return b;
}

const keygen: Command = {
  path: ['checkpoint', 'keygen'],
  summary: 'generate an Ed25519 signer key and print it with its verifier key (or write PREFIX.key / PREFIX.vkey)',
  positionals: [],
  options: {
    name: { type: 'string', valueName: 'NAME', description: 'key name, e.g. the log origin or the witness name (no spaces, no +)' },
    witness: { type: 'boolean', description: 'a witness cosigning key (signature type 0x04) instead of a log key (0x01)' },
    out: { type: 'string', valueName: 'PREFIX', description: 'write PREFIX.key (mode 600) and PREFIX.vkey; print the verifier key' },
  },
  details: 'Without --out, prints two lines: the signer key (PRIVATE+KEY+..., keep it secret) and the verifier key.',
  async run(args) {
    const name = _str(args, 'name')!;
    if (!isValidKeyName(name)) throw new CliInputError(`--name must be non-empty without spaces or +: ${JSON.stringify(name)}`);
    const key = generateSignerKey(name, args.values['witness'] === true ? SignatureType.Ed25519Cosignature : SignatureType.Ed25519);
    const skey = formatSignerKey(key);
    const vkey = formatVerifierKey(verifierKeyOf(key));
    const out = _str(args, 'out', false);
    if (out === undefined) {
      process.stdout.write(`${skey}\n${vkey}\n`);
      return ExitCode.Ok;
    }
    try {
      await writeFile(`${out}.key`, skey + '\n', { mode: 0o600, flag: 'wx' });
      await writeFile(`${out}.vkey`, vkey + '\n', { flag: 'wx' });
    } catch (e) {
      throw new CliInputError(`cannot write ${out}.key/.vkey: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    process.stdout.write(vkey + '\n');
    return ExitCode.Ok;
  },
};

const sign: Command = {
  path: ['checkpoint', 'sign'],
  summary: 'print a checkpoint signed by the log key (a C2SP signed note)',
  positionals: [],
  options: {
    key: { type: 'string', valueName: 'FILE', description: 'the log signer key file (keygen without --witness)' },
    origin: { type: 'string', valueName: 'O', description: 'origin line (default: the key name)' },
    size: { type: 'string', valueName: 'N', description: 'tree size (with --root)' },
    root: { type: 'string', valueName: 'HEX', description: '32-byte log root (with --size)' },
    'log-file': { type: 'string', valueName: 'FILE', description: 'or: leaf file (one hex leaf per line); size and SHA-256 root computed' },
    'state-root': { type: 'string', valueName: 'HEX', description: '32-byte state (map) root: merklesync-state line (with --seq)' },
    seq: { type: 'string', valueName: 'N', description: 'checkpoint sequence number: merklesync-seq line (with --state-root)' },
  },
  details: 'Give either --size and --root, or --log-file. --state-root and --seq go together.',
  run: (args) =>
    _guard(async () => {
      const key = await _signerKey(_str(args, 'key')!, SignatureType.Ed25519, 'log');
      const logFile = _str(args, 'log-file', false);
      let size: number;
      let rootHash: Uint8Array;
      if (logFile !== undefined) {
        if (args.values['size'] !== undefined || args.values['root'] !== undefined) throw new CliInputError('give either --log-file or --size and --root, not both');
        const tree = new LogTree(getHashSuite('sha256'));
        tree.appendMany(await readLeafFile(logFile));
        size = tree.size;
        rootHash = tree.root();
      } else {
        size = intArg('--size', _str(args, 'size'));
        rootHash = _hash32(_str(args, 'root')!, '--root');
      }
      const stateText = _str(args, 'state-root', false);
      const seqText = _str(args, 'seq', false);
      if ((stateText === undefined) !== (seqText === undefined)) throw new CliInputError('--state-root and --seq go together');
      const origin = _str(args, 'origin', false) ?? key.name;
      if (!isValidKeyName(origin)) throw new CliInputError(`--origin must be non-empty without spaces or +: ${JSON.stringify(origin)}`);
      const note = signCheckpoint(
        {
          origin,
          size,
          rootHash,
          ...(stateText !== undefined ? { stateRoot: _hash32(stateText, '--state-root'), seq: intArg('--seq', seqText) } : {}),
        },
        key,
      );
      process.stdout.write(note);
      return ExitCode.Ok;
    }),
};

const cosign: Command = {
  path: ['checkpoint', 'cosign'],
  summary: 'print the checkpoint with a witness cosignature added (C2SP tlog-cosignature, Ed25519)',
  positionals: ['CHECKPOINT'],
  options: {
    key: { type: 'string', valueName: 'FILE', description: 'the witness signer key file (keygen --witness)' },
    time: { type: 'string', valueName: 'SECONDS', description: 'cosignature timestamp, Unix seconds (default: now)' },
  },
  details: '"-" reads the checkpoint from standard input. A previous cosignature by the same key is replaced.\n' +
    'This only signs: a real witness first checks the log signature and consistency with what it saw before.',
  run: (args) =>
    _guard(async () => {
      const key = await _signerKey(_str(args, 'key')!, SignatureType.Ed25519Cosignature, 'witness');
      const timeText = _str(args, 'time', false);
      const clock = timeText === undefined ? undefined : ((t: number) => () => t * 1000)(intArg('--time', timeText));
      const note = await readText(args.positionals[0]!);
      process.stdout.write(cosignCheckpoint(note, key, clock));
      return ExitCode.Ok;
    }),
};

const verify: Command = {
  path: ['checkpoint', 'verify'],
  summary: 'verify a checkpoint against a policy: exit 0 valid, 1 invalid (signature/threshold), 2 malformed',
  positionals: ['CHECKPOINT'],
  options: {
    policy: { type: 'string', valueName: 'FILE', description: 'policy file (JSON: origin, log vkey, witness vkeys and weights, threshold)' },
    now: { type: 'string', valueName: 'SECONDS', description: 'the time for cosignature age checks, Unix seconds (default: now)' },
  },
  details: '"-" reads the checkpoint from standard input. The policy format is in libs/crypto/README.md part C.',
  run: (args) =>
    _guard(async () => {
      const policy = parsePolicy(await readText(_str(args, 'policy')!));
      const nowText = _str(args, 'now', false);
      const now = nowText === undefined ? undefined : intArg('--now', nowText) * 1000;
      const r = verifyCheckpoint(await readText(args.positionals[0]!), policy, now === undefined ? {} : { clock: () => now });
      if (!r.ok) {
        process.stderr.write(`merklesync: not verified: ${r.reason.split('\n')[0]}\n`);
        return r.code === CryptoErrorCode.MalformedInput ? ExitCode.Malformed : ExitCode.Invalid;
      }
      const cp = r.checkpoint;
      process.stdout.write(
        `verified: ${cp.origin} size ${cp.size}` +
          (cp.seq !== undefined ? ` seq ${cp.seq}` : '') +
          `; cosigned weight ${r.weight} of ${policy.totalWeight} (threshold ${r.threshold}) by ${r.cosignatures.filter((c) => c.counted).map((c) => c.name).join(', ') || 'no witness'}\n`,
      );
      return ExitCode.Ok;
    }),
};

/** `merklesync checkpoint keygen|sign|cosign|verify`. */
export const checkpointCommands: readonly Command[] = [keygen, sign, cosign, verify];
