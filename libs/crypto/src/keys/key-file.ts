import { toBase64 } from '@merklesync/merkle';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { Keyring } from './keyring.ts';
import { masterKeyFromBase64 } from './master-key.ts';

/** Version of the key file format (`"v"`). */
export const KEY_FILE_VERSION = 1;

/** Key files are small; anything bigger is refused before parsing. */
export const MAX_KEY_FILE_CHARS = 1 << 20;

function _bad(reason: string): never {
  throw new CryptoError(CryptoErrorCode.MalformedInput, `key file: ${reason}`);
}

function _isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function _onlyFields(o: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) _bad(`${where}: unknown field ${JSON.stringify(k)}`);
}

/**
 * Parses a key file (JSON, format in libs/crypto/README.md part B):
 * `{ "v": 1, "kid": "prod-1", "keys": [{ "version": 1, "key": "<base64 of 32 bytes>", "created": "2025-01-31T12:00:00.000Z" }] }`.
 * Strict: unknown fields, repeated versions, keys of the wrong length are refused.
 * @throws CryptoError(MALFORMED_INPUT) for anything but a valid key file; CryptoError(INVALID_KEY) for a key
 *   that is not 32 bytes; TypeError when `text` is not a string.
 * @example const ring = parseKeyFile(await readFile('master.key', 'utf8'));
 */
export function parseKeyFile(text: string): Keyring {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  if (text.length > MAX_KEY_FILE_CHARS) _bad(`larger than ${MAX_KEY_FILE_CHARS} characters`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    _bad('not JSON');
  }
  if (!_isObject(doc)) _bad('not a JSON object');
  _onlyFields(doc, ['v', 'kid', 'keys'], 'top level');
  if (doc['v'] !== KEY_FILE_VERSION) _bad(`unsupported format version ${JSON.stringify(doc['v'])} (expected ${KEY_FILE_VERSION})`);
  const kid = doc['kid'];
  if (typeof kid !== 'string') _bad('"kid" must be a string');
  const keys = doc['keys'];
  if (!Array.isArray(keys) || keys.length === 0) _bad('"keys" must be a non-empty array');
  const versions = keys.map((entry: unknown, i) => {
    const where = `keys[${i}]`;
    if (!_isObject(entry)) _bad(`${where} is not an object`);
    _onlyFields(entry, ['version', 'key', 'created'], where);
    const { version, key, created } = entry;
    if (typeof version !== 'number' || typeof key !== 'string' || typeof created !== 'string') {
      _bad(`${where} needs "version" (number), "key" (base64 string) and "created" (string)`);
    }
    return { version, key: masterKeyFromBase64(key, `key file: ${where}.key`), created };
  });
  try {
    return new Keyring(kid, versions);
  } catch (e) {
    if (e instanceof CryptoError) throw e;
    _bad((e as Error).message);
  }
}

/**
 * The key file text of `ring` (pretty JSON, trailing newline), versions ascending. Contains the keys:
 * write it with owner-only permissions (0600).
 * @example await writeFile('master.key', serializeKeyFile(ring), { mode: 0o600, flag: 'wx' });
 */
export function serializeKeyFile(ring: Keyring): string {
  if (!(ring instanceof Keyring)) throw new TypeError('ring must be a Keyring');
  const doc = {
    v: KEY_FILE_VERSION,
    kid: ring.kid,
    keys: ring.versions.map((v) => ({ version: v.version, key: toBase64(v.key), created: v.created })),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
