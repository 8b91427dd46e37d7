import { readFile } from 'node:fs/promises';
import { fromHex } from '@merklesync/merkle';
import { CliInputError } from './cli-error.ts';

/** Reads FILE, or standard input for '-'. Unreadable files are input errors. */
export async function readText(file: string): Promise<string> {
  try {
    if (file === '-') {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    }
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new CliInputError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Splits into lines; a final newline does not make an extra line; CR before LF is dropped. */
function _lines(text: string): string[] {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function _hex(file: string, lineNo: number, text: string, what: string): Uint8Array {
  try {
    return fromHex(text, what);
  } catch {
    throw new CliInputError(`${file}:${lineNo}: ${what} is not hex: ${text.length > 40 ? text.slice(0, 40) + '…' : text}`);
  }
}

/**
 * A leaf file: one leaf per line, the leaf's data as hex (an empty line is an empty leaf;
 * surrounding spaces are ignored).
 */
export async function readLeafFile(file: string): Promise<Uint8Array[]> {
  const lines = _lines(await readText(file));
  return lines.map((l, i) => _hex(file, i + 1, l.trim(), 'leaf'));
}

/** A map file: `keyhex valuehex` per line (key 32 bytes); blank lines are skipped; a repeated key is an error. */
export async function readMapFile(file: string): Promise<{ key: Uint8Array; value: Uint8Array }[]> {
  const lines = _lines(await readText(file));
  const seen = new Set<string>();
  const out: { key: Uint8Array; value: Uint8Array }[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const parts = line.split(/\s+/);
    if (parts.length !== 2) throw new CliInputError(`${file}:${i + 1}: expected "keyhex valuehex"`);
    const key = _hex(file, i + 1, parts[0]!, 'key');
    if (key.length !== 32) throw new CliInputError(`${file}:${i + 1}: key must be 32 bytes (64 hex digits), got ${key.length}`);
    const k = parts[0]!.toLowerCase();
    if (seen.has(k)) throw new CliInputError(`${file}:${i + 1}: key ${k} appears twice`);
    seen.add(k);
    out.push({ key, value: _hex(file, i + 1, parts[1]!, 'value') });
  });
  return out;
}

/** Parses a 32-byte key given as 64 hex digits on the command line. */
export function keyArg(text: string): Uint8Array {
  let key: Uint8Array;
  try {
    key = fromHex(text, 'KEYHEX', true);
  } catch {
    throw new CliInputError(`KEYHEX is not hex: ${text}`);
  }
  if (key.length !== 32) throw new CliInputError(`KEYHEX must be 32 bytes (64 hex digits), got ${key.length}`);
  return key;
}
