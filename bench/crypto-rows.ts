// Row crypto throughput for `npm run bench:crypto`: encrypt+commit and decrypt+verify of N rows, in rows/s,
// through @merklesync/crypto's public API (the hot path an ingest or edge client runs per row).
import {
  BlockArena,
  CryptoError,
  Keyring,
  LocalKeyProvider,
  KeyDeriver,
  commitMapKey,
  commitRow,
  deriveCommitmentKeys,
  openBlock,
  sealBlock,
  verifyRowCommitment,
  type CommitmentAlgorithm,
  type RowBinding,
} from '@merklesync/crypto';

export interface CryptoRowsOptions {
  /** Rows per measured pass (default 20,000). */
  rows?: number;
  /** Plaintext bytes per row (default 200). */
  rowBytes?: number;
  /** Commitment algorithm (default hmac-sha256). */
  algorithm?: CommitmentAlgorithm;
}

/** Interleaved passes of each kind in the sealBlock CPU comparison (its spread between runs is wide). */
const _SEAL_ROUNDS = 6;

export interface CryptoRowsResult {
  rows: number;
  rowBytes: number;
  algorithm: CommitmentAlgorithm;
  /** sealBlock (AES-256-GCM, random nonce) + commitRow + commitMapKey per row. */
  encryptCommitRowsPerSec: number;
  /** sealBlock alone, each block a fresh array / carved out of a BlockArena (as ingest seals): µs of CPU per row, every thread (GC helpers included). */
  sealCpuUs: { fresh: number; arena: number };
  /** openBlock (authenticated decrypt) + verifyRowCommitment per row. */
  decryptVerifyRowsPerSec: number;
}

/**
 * Measures encrypt+commit and decrypt+verify of `rows` rows of `rowBytes` bytes each, after one untimed
 * warm-up pass of the same work. Keys are derived once (as a service caches them).
 * @example const r = await benchCryptoRows({ rows: 10_000 }); console.log(r.encryptCommitRowsPerSec);
 */
export async function benchCryptoRows(opts: CryptoRowsOptions = {}): Promise<CryptoRowsResult> {
  const rows = opts.rows ?? 20_000;
  const rowBytes = opts.rowBytes ?? 200;
  const algorithm = opts.algorithm ?? 'hmac-sha256';
  const ring = Keyring.generate('bench');
  const deriver = new KeyDeriver(new LocalKeyProvider([ring]));
  const ref = { kid: 'bench', version: ring.currentVersion, source: 'pg-bench', table: 'public.rows' };
  const dataKey = { kid: 'bench', version: ring.currentVersion, key: await deriver.dataKey(ref) };
  const ck = deriveCommitmentKeys(await deriver.tableSecret(ref), algorithm);

  const plain = Array.from({ length: rows }, (_, i) => {
    const b = new Uint8Array(rowBytes);
    for (let j = 0; j < rowBytes; j++) b[j] = (i * 31 + j * 7) & 255;
    return b;
  });
  const bindings: RowBinding[] = plain.map((_, i) => ({ source: ref.source, table: ref.table, primaryKey: Uint8Array.of(i >>> 24, i >>> 16, i >>> 8, i), rowVersion: i + 1 }));
  const blocks: Uint8Array[] = new Array<Uint8Array>(rows);
  const leaves: Uint8Array[] = new Array<Uint8Array>(rows);

  const encryptPass = (): void => {
    for (let i = 0; i < rows; i++) {
      blocks[i] = sealBlock(dataKey, bindings[i]!, plain[i]!);
      leaves[i] = commitRow(ck, plain[i]!);
      commitMapKey(ck, ref.table, bindings[i]!.primaryKey);
    }
  };
  const decryptPass = (): void => {
    const resolve = (): Uint8Array => dataKey.key;
    for (let i = 0; i < rows; i++) {
      const row = openBlock(blocks[i]!, bindings[i]!, resolve);
      if (!verifyRowCommitment(ck, row, leaves[i])) throw new CryptoError('VERIFICATION_FAILED', `row ${i} did not verify`);
    }
  };
  const time = (f: () => void): number => {
    f(); // warm-up
    const t = performance.now();
    f();
    return (performance.now() - t) / 1000;
  };
  const enc = time(encryptPass);
  const dec = time(decryptPass);
  // Fresh arrays vs an arena, interleaved passes; blocks are dropped a bus message (500) at a time.
  const sealCpuUs = { fresh: 0, arena: 0 };
  // sealBlock alone (the commitments do not change with the arena); row i overwrites row i − 500: a message's
  // blocks go together.
  const message = new Array<Uint8Array>(500);
  const messagePass = (sealOpts: { arena?: BlockArena }): void => {
    for (let i = 0; i < rows; i++) message[i % 500] = sealBlock(dataKey, bindings[i]!, plain[i]!, sealOpts);
  };
  for (let round = 0; round < _SEAL_ROUNDS; round++) {
    for (const kind of ['fresh', 'arena'] as const) {
      const c0 = process.cpuUsage();
      messagePass(kind === 'arena' ? { arena: new BlockArena() } : {});
      const c = process.cpuUsage(c0);
      sealCpuUs[kind] += (c.user + c.system) / rows / _SEAL_ROUNDS;
    }
  }
  return { rows, rowBytes, algorithm, encryptCommitRowsPerSec: Math.round(rows / enc), sealCpuUs, decryptVerifyRowsPerSec: Math.round(rows / dec) };
}
