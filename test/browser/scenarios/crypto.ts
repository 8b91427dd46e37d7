// Runs libs/crypto end to end with deterministic inputs; compared natively vs bundled for browsers.
import {
  Keyring,
  SignatureType,
  commitMapKey,
  commitRow,
  cosignCheckpoint,
  createPolicy,
  deriveCommitmentKeys,
  deriveDataKey,
  deriveTableSecret,
  encodeRow,
  formatVerifierKey,
  fromPgText,
  getCryptoBackend,
  openBlock,
  sealBlock,
  signCheckpoint,
  signerKeyFromSeed,
  verifierKeyOf,
  verifyCheckpoint,
} from '@merklesync/crypto';
import { toHex } from '@merklesync/merkle';

export function run(): string {
  const master = new Uint8Array(32).map((_, i) => i);
  const ring = new Keyring('k1', [{ version: 1, key: master, created: '2026-01-01T00:00:00Z' }]);
  const secret = deriveTableSecret(ring.key(1)!, 'pg', 'public.users');
  const row = encodeRow({
    id: fromPgText('int8', '42'),
    amount: fromPgText('numeric', '12.340'),
    at: fromPgText('timestamptz', '2024-02-29 12:34:56.789+05:30'),
    doc: fromPgText('jsonb', '{"b": [1, 2.50], "a": null}'),
    tags: fromPgText('_text', '{x,"y z",NULL}'),
  });
  const binding = { source: 'pg', table: 'public.users', primaryKey: Uint8Array.of(42), rowVersion: 7 };
  const dataKey = { kid: 'k1', version: 1, key: deriveDataKey(secret) };
  const block = sealBlock(dataKey, binding, row, { random: (n) => new Uint8Array(n).fill(9) });
  const opened = openBlock(block, binding, () => dataKey.key);
  const ck = deriveCommitmentKeys(secret, 'hmac-sha256');
  const log = signerKeyFromSeed('log.example', SignatureType.Ed25519, new Uint8Array(32).fill(1));
  const witnesses = [2, 3, 4].map((i) => signerKeyFromSeed(`w${i}.example`, SignatureType.Ed25519Cosignature, new Uint8Array(32).fill(i)));
  let note = signCheckpoint({ origin: 'log.example', size: 10, rootHash: new Uint8Array(32).fill(5), stateRoot: new Uint8Array(32).fill(6), seq: 3 }, log);
  for (const w of witnesses) note = cosignCheckpoint(note, w, () => 1_700_000_000_000);
  const policy = createPolicy({ log: formatVerifierKey(verifierKeyOf(log)), witnesses: witnesses.map((w) => formatVerifierKey(verifierKeyOf(w))) });
  return JSON.stringify({
    row: toHex(row),
    block: toHex(block),
    roundTrip: toHex(opened) === toHex(row),
    leaf: toHex(commitRow(ck, row)),
    mapKey: toHex(commitMapKey(ck, 'public.users', Uint8Array.of(42))),
    note,
    checkpointOk: verifyCheckpoint(note, policy).ok,
    backend: getCryptoBackend().name === 'node' ? 'node' : 'portable',
  });
}
