// Checkpoint verification throughput for `npm run bench:crypto` (the lead's runner prints the table/JSON):
// a signed checkpoint with 5 witness cosignatures, verified against a 5-witness policy (threshold 4),
// i.e. 6 Ed25519 verifications plus strict parsing per checkpoint.
import {
  SignatureType,
  cosignCheckpoint,
  createPolicy,
  formatVerifierKey,
  signCheckpoint,
  signerKeyFromSeed,
  verifierKeyOf,
  verifyCheckpoint,
} from '@merklesync/crypto';

export interface CheckpointBenchResult {
  readonly name: 'checkpoint verify (5 cosignatures)';
  readonly verificationsPerSec: number;
  readonly iterations: number;
  readonly ms: number;
}

/**
 * Measures checkpoint verifications per second: untimed warm-up, then as many verifications as fit in
 * `durationMs` (at least `minIterations`).
 * @example const r = benchCheckpointVerify({ durationMs: 1000 }); console.log(r.verificationsPerSec)
 */
export function benchCheckpointVerify(options: { durationMs?: number; minIterations?: number } = {}): CheckpointBenchResult {
  const durationMs = options.durationMs ?? 1000;
  const minIterations = options.minIterations ?? 50;
  const seed = (i: number): Uint8Array => new Uint8Array(32).fill(i);
  const log = signerKeyFromSeed('bench.merklesync.example/log', SignatureType.Ed25519, seed(1));
  const witnesses = [2, 3, 4, 5, 6].map((i) => signerKeyFromSeed(`witness${i}.example`, SignatureType.Ed25519Cosignature, seed(i)));
  let note = signCheckpoint(
    { origin: log.name, size: 123_456_789, rootHash: seed(7), stateRoot: seed(8), seq: 4242 },
    log,
  );
  for (const w of witnesses) note = cosignCheckpoint(note, w, () => 1_700_000_000_000);
  const policy = createPolicy({ log: formatVerifierKey(verifierKeyOf(log)), witnesses: witnesses.map((w) => formatVerifierKey(verifierKeyOf(w))) });
  const check = (): void => {
    if (!verifyCheckpoint(note, policy).ok) throw new Error('benchmark checkpoint did not verify');
  };
  for (let i = 0; i < 20; i++) check();
  let iterations = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < durationMs || iterations < minIterations) {
    for (let i = 0; i < 10; i++) check();
    iterations += 10;
    elapsed = performance.now() - t0;
  }
  return { name: 'checkpoint verify (5 cosignatures)', verificationsPerSec: Math.round((iterations * 1000) / elapsed), iterations, ms: Math.round(elapsed) };
}
