import { getCryptoBackend, type CryptoBackend } from '../backend/index.ts';
import { KEY_DERIVATION_LABELS, deriveSubkey } from '../keys/derive.ts';
import { isCommitmentAlgorithm, type CommitmentAlgorithm } from './algorithm.ts';

/** The two keys of one table's commitments for one algorithm. Secret: whoever holds them can test guesses. */
export interface CommitmentKeys {
  readonly algorithm: CommitmentAlgorithm;
  /** Key of row leaf values. */
  readonly leafKey: Uint8Array;
  /** Key of map keys (table, primary key); distinct from leafKey so a map key is never a leaf value. */
  readonly mapKeyKey: Uint8Array;
}

/**
 * The commitment keys of a table: HKDF-SHA256 subkeys of its table secret with labels
 * "merklesync/v1/commit/leaf/<alg>" and "merklesync/v1/commit/map-key/<alg>". Whoever may read a table
 * (holds its table secret) can verify its commitments; nobody else can test guesses.
 * @throws TypeError/RangeError for a table secret that is not 32 bytes or an unknown algorithm.
 * @example const ck = deriveCommitmentKeys(await deriver.tableSecret(ref), 'hmac-sha256');
 */
export function deriveCommitmentKeys(tableSecret: Uint8Array, algorithm: CommitmentAlgorithm = 'hmac-sha256', backend: CryptoBackend = getCryptoBackend()): CommitmentKeys {
  if (!isCommitmentAlgorithm(algorithm)) throw new RangeError(`algorithm must be 'hmac-sha256' or 'blake3', got ${JSON.stringify(algorithm)}`);
  const L = KEY_DERIVATION_LABELS;
  const hmac = algorithm === 'hmac-sha256';
  return Object.freeze({
    algorithm,
    leafKey: deriveSubkey(tableSecret, hmac ? L.leafHmacSha256 : L.leafBlake3, backend),
    mapKeyKey: deriveSubkey(tableSecret, hmac ? L.mapKeyHmacSha256 : L.mapKeyBlake3, backend),
  });
}
