// Loads the master keys once at start-up from the key file (libs/crypto key file format) and checks that the
// configured key id and commitment version are there, so a wrong file fails start-up, not the first batch.
import { readFile } from 'node:fs/promises';
import { LocalKeyProvider, type KeyProvider } from '@merklesync/crypto';
import type { IngestConfig } from '../config.ts';
import { IngestError, IngestErrorCode } from '../ingest/ingest.errors.ts';

/**
 * Reads and parses the key file named by `INGEST_KEY_FILE`.
 * @throws IngestError(KEY_MATERIAL) naming the variable: unreadable or malformed file, unknown key id
 *   (`INGEST_KEY_ID`), missing commitment version (`INGEST_COMMITMENT_KEY_VERSION`).
 * @example const provider = await loadKeyProvider(config.keys);
 */
export async function loadKeyProvider(keys: IngestConfig['keys'], read: (path: string) => Promise<string> = (p) => readFile(p, 'utf8')): Promise<KeyProvider> {
  let provider: LocalKeyProvider;
  try {
    provider = LocalKeyProvider.fromKeyFile(await read(keys.file));
  } catch (e) {
    throw new IngestError(IngestErrorCode.KeyMaterial, `INGEST_KEY_FILE: cannot use ${keys.file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const ring = provider.keyring(keys.kid);
  if (!ring) throw new IngestError(IngestErrorCode.KeyMaterial, `INGEST_KEY_ID: key file ${keys.file} holds ${provider.kids().join(', ')}, not ${keys.kid}`);
  if (!ring.key(keys.commitmentKeyVersion)) {
    throw new IngestError(IngestErrorCode.KeyMaterial, `INGEST_COMMITMENT_KEY_VERSION: key ${keys.kid} has no version ${keys.commitmentKeyVersion} in ${keys.file}`);
  }
  return provider;
}
