// Shared by the keys and block commands: key files on disk, bounded binary input, CryptoError → exit code.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { CryptoError, CryptoErrorCode, parseKeyFile, serializeKeyFile, type Keyring } from '@merklesync/crypto';
import { CliInputError, ExitCode } from '../cli-error.ts';

/** Reads FILE (or standard input for '-') as bytes, refusing more than `limit` bytes before reading them all. */
export async function readBytes(file: string, limit: number, what: string): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  const take = (c: Buffer): void => {
    total += c.length;
    if (total > limit) throw new CliInputError(`${what} is larger than ${limit} bytes`);
    chunks.push(c);
  };
  try {
    if (file === '-') {
      for await (const c of process.stdin) take(c as Buffer);
    } else {
      const fh = await open(file, 'r');
      try {
        const { size } = await fh.stat();
        if (size > limit) throw new CliInputError(`${what} is larger than ${limit} bytes`);
        for await (const c of fh.createReadStream()) take(c as Buffer);
      } finally {
        await fh.close();
      }
    }
  } catch (e) {
    if (e instanceof CliInputError) throw e;
    throw new CliInputError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const all = Buffer.concat(chunks);
  return new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
}

/** Reads and parses a key file; any problem is a usage error (exit 2) naming the file. */
export async function readKeyFile(file: string): Promise<Keyring> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new CliInputError(`cannot read key file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return parseKeyFile(text);
  } catch (e) {
    if (e instanceof CryptoError) throw new CliInputError(`${file}: ${e.message}`);
    throw e;
  }
}

/** Writes a key file readable by its owner only (0600); refuses to replace an existing file unless `replace`. */
export async function writeKeyFile(file: string, ring: Keyring, replace: boolean): Promise<void> {
  const text = serializeKeyFile(ring);
  // Replacing goes through a temporary file and rename, so a crash never leaves a half-written key file.
  const target = replace ? `${file}.tmp-${randomBytes(6).toString('hex')}` : file;
  try {
    const fh = await open(target, 'wx', 0o600);
    try {
      await fh.chmod(0o600);
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (replace) await rename(target, file);
  } catch (e) {
    if (replace) await rm(target, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new CliInputError(`${file} already exists; refusing to overwrite a key file`);
    throw new CliInputError(`cannot write ${file}: ${code ?? (e as Error).message}`);
  }
}

/** Exit code of a CryptoError from decrypting: authentication failures and unknown keys are 1, the rest 2. */
export function cryptoExit(e: unknown): number {
  if (!(e instanceof CryptoError)) throw e;
  process.stderr.write(`merklesync: ${e.message.split('\n')[0]!}\n`);
  switch (e.code) {
    case CryptoErrorCode.DecryptionFailed:
    case CryptoErrorCode.UnknownKey:
    case CryptoErrorCode.VerificationFailed:
      return ExitCode.Invalid;
    default:
      return ExitCode.Malformed;
  }
}
