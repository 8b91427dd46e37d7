// Runs libs/merkle end to end; the browser-compat spec runs it natively and bundled for browsers, and compares.
import {
  LogTree,
  SparseMerkleMap,
  getHashSuite,
  proofFromJson,
  proofToJson,
  proveLogConsistency,
  proveLogInclusion,
  tableRoot,
  toHex,
  verifyProof,
  OzStandardTree,
} from '@merklesync/merkle';

export function run(): string {
  const out: Record<string, unknown> = {};
  for (const name of ['sha256', 'blake3'] as const) {
    const log = new LogTree(getHashSuite(name));
    log.appendMany(Array.from({ length: 1000 }, (_, i) => new TextEncoder().encode(`leaf-${i}`)));
    const inclusion = proofToJson(proveLogInclusion(log, 417, 900));
    const consistency = proofToJson(proveLogConsistency(log, 100, 1000));
    const map = new SparseMerkleMap({ suite: name });
    const entries = Array.from({ length: 300 }, (_, i) => ({ key: getHashSuite('sha256').digest(Uint8Array.of(i, i >> 8)), value: Uint8Array.of(i) }));
    const root = map.update(map.emptyRoot, entries);
    const member = map.prove(root, entries[7]!.key);
    out[name] = {
      logRoot: toHex(log.root()),
      inclusion,
      inclusionOk: verifyProof(proofFromJson(JSON.stringify(inclusion))),
      consistencyOk: verifyProof(proofFromJson(JSON.stringify(consistency))),
      mapRoot: toHex(root),
      member: member.kind,
      table: toHex(tableRoot(getHashSuite(name), [{ key: Uint8Array.of(1), row: Uint8Array.of(2) }])),
    };
  }
  out['oz'] = toHex(OzStandardTree.of(Array.from({ length: 5 }, (_, i) => new Uint8Array(32).fill(i))).root);
  return JSON.stringify(out);
}
