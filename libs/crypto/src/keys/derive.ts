import { assertBytes, concatBytes } from '@merklesync/merkle';
import { getCryptoBackend, type CryptoBackend } from '../backend/index.ts';
import { _name, _u16 } from './_bytes.ts';
import { MASTER_KEY_BYTES } from './master-key.ts';

const _enc = new TextEncoder();
/** HKDF salt: empty (RFC 5869 then uses 32 zero bytes). The input keys are already uniformly random. */
const _SALT = new Uint8Array(0);

/** HKDF info labels; each derived key has its own, so no two purposes ever share a key. */
export const KEY_DERIVATION_LABELS = Object.freeze({
  table: 'merklesync/v1/table-secret',
  dataKey: 'merklesync/v1/data-key',
  leafHmacSha256: 'merklesync/v1/commit/leaf/hmac-sha256',
  leafBlake3: 'merklesync/v1/commit/leaf/blake3',
  mapKeyHmacSha256: 'merklesync/v1/commit/map-key/hmac-sha256',
  mapKeyBlake3: 'merklesync/v1/commit/map-key/blake3',
});

/**
 * The HKDF info of a table secret: label || 0x00 || u16 len(source) || source || u16 len(table) || table
 * (UTF-8, lengths big-endian), so no two (source, table) pairs share an info.
 * @throws TypeError/RangeError for an empty, too long or ill-formed source or table.
 * @example tableSecretInfo('pg-main', 'public.users')
 */
export function tableSecretInfo(source: string, table: string): Uint8Array {
  const s = _name('source', source);
  const t = _name('table', table);
  return concatBytes(_enc.encode(KEY_DERIVATION_LABELS.table), Uint8Array.of(0), _u16(s.length), s, _u16(t.length), t);
}

/**
 * The per-table secret of one master key version: HKDF-SHA256(ikm = master key, salt = empty,
 * info = tableSecretInfo(source, table), L = 32). Everything per table (data key, commitment keys)
 * derives from it, so handing it to a client authorizes that client for that table only.
 * @throws TypeError/RangeError for a key that is not 32 bytes or bad names.
 * @example const ts = deriveTableSecret(masterKey, 'pg-main', 'public.users');
 */
export function deriveTableSecret(masterKey: Uint8Array, source: string, table: string, backend: CryptoBackend = getCryptoBackend()): Uint8Array {
  assertBytes('masterKey', masterKey, MASTER_KEY_BYTES);
  return backend.hkdfSha256(masterKey, _SALT, tableSecretInfo(source, table), 32);
}

/**
 * A 32-byte subkey of a table secret for one purpose: HKDF-SHA256(ikm = tableSecret, salt = empty,
 * info = ASCII label, L = 32), label one of KEY_DERIVATION_LABELS other than `table`.
 * @throws TypeError/RangeError for a secret that is not 32 bytes or an unknown label.
 * @example const dataKey = deriveSubkey(ts, KEY_DERIVATION_LABELS.dataKey);
 */
export function deriveSubkey(tableSecret: Uint8Array, label: string, backend: CryptoBackend = getCryptoBackend()): Uint8Array {
  assertBytes('tableSecret', tableSecret, 32);
  if (label === KEY_DERIVATION_LABELS.table || !(Object.values(KEY_DERIVATION_LABELS) as string[]).includes(label)) {
    throw new RangeError(`label must be one of the subkey labels of KEY_DERIVATION_LABELS, got ${JSON.stringify(label)}`);
  }
  return backend.hkdfSha256(tableSecret, _SALT, _enc.encode(label), 32);
}

/**
 * The AES-256-GCM data key of a table: deriveSubkey(tableSecret, "merklesync/v1/data-key").
 * @throws RangeError for a secret that is not 32 bytes.
 * @example deriveDataKey(deriveTableSecret(master, 'pg-main', 'public.users'))
 */
export function deriveDataKey(tableSecret: Uint8Array, backend: CryptoBackend = getCryptoBackend()): Uint8Array {
  return deriveSubkey(tableSecret, KEY_DERIVATION_LABELS.dataKey, backend);
}
