import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { LogTree, SparseMerkleMap, encodeProof, getHashSuite, proveLogConsistency, proveLogInclusion, verifyProof, type Proof as MerkleProof } from '@merklesync/merkle';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from './errors.ts';
import { HashSuite } from './gen/merklesync/v1/common_pb.ts';
import { ProofSchema } from './gen/merklesync/v1/proofs_pb.ts';
import { proofFromMessage, proofToMessage } from './proofs.ts';

const key = (b: number): Uint8Array => new Uint8Array(32).fill(b);

function proofs(suite: 'sha256' | 'blake3'): MerkleProof[] {
  const log = new LogTree(getHashSuite(suite));
  log.appendMany(Array.from({ length: 13 }, (_, i) => new Uint8Array([i])));
  const map = new SparseMerkleMap({ suite });
  const root = map.update(map.emptyRoot, [1, 2, 3, 0x80, 0xf0].map((b) => ({ key: key(b), value: new Uint8Array([b, b]) })));
  const mem = map.prove(root, key(2));
  const non = map.prove(root, key(4));
  const empty = map.prove(map.emptyRoot, key(4));
  const multi = map.proveMulti(root, [key(1), key(4), key(0xf0)]);
  const out: MerkleProof[] = [proveLogInclusion(log, 5), proveLogInclusion(log, 0, 1), proveLogConsistency(log, 6), proveLogConsistency(log, 13)];
  if (mem.kind !== 'map-membership' || non.kind !== 'map-non-membership' || empty.kind !== 'map-non-membership') throw new Error('fixture');
  out.push({ kind: 'map-membership', hash: suite, root, key: key(2), value: mem.value, proof: mem.proof });
  out.push({ kind: 'map-non-membership', hash: suite, root, key: key(4), proof: non.proof });
  out.push({ kind: 'map-non-membership', hash: suite, root: map.emptyRoot, key: key(4), proof: empty.proof });
  out.push({ kind: 'map-multi', hash: suite, root, entries: multi.entries, proof: multi.proof });
  return out;
}

describe('proof messages', () => {
  it.each(['sha256', 'blake3'] as const)('%s: every kind survives libs/merkle → wire → libs/merkle and still verifies', (suite) => {
    for (const p of proofs(suite)) {
      expect(verifyProof(p), p.kind).toBe(true);
      const wire = toBinary(ProofSchema, proofToMessage(p));
      const back = proofFromMessage(fromBinary(ProofSchema, wire));
      expect(verifyProof(back), p.kind).toBe(true);
      expect(encodeProof(back)).toEqual(encodeProof(p)); // same fields, byte for byte in libs/merkle's binary form
    }
  });

  it('rejects wrong hash lengths, unknown suites, oversized sizes and empty proofs', () => {
    const good = () => proofToMessage(proofs('sha256')[0]!);
    const cases: [string, (m: ReturnType<typeof good>) => void][] = [
      ['root', (m) => m.proof.case === 'logInclusion' && (m.proof.value.root = new Uint8Array(31))],
      ['path[0]', (m) => m.proof.case === 'logInclusion' && (m.proof.value.path[0] = new Uint8Array(33))],
      ['hash_suite', (m) => m.proof.case === 'logInclusion' && (m.proof.value.hashSuite = HashSuite.UNSPECIFIED)],
      ['tree_size', (m) => m.proof.case === 'logInclusion' && (m.proof.value.treeSize = 2n ** 53n)],
      ['proof', (m) => (m.proof = { case: undefined })],
    ];
    for (const [field, mutate] of cases) {
      const m = good();
      mutate(m);
      expect(() => proofFromMessage(m), field).toThrow(ProtocolError);
      try {
        proofFromMessage(m);
      } catch (e) {
        expect((e as ProtocolError).code).toBe('MALFORMED_MESSAGE');
        expect((e as ProtocolError).field).toBe(field);
      }
    }
  });

  it('a tampered wire proof decodes but does not verify', () => {
    for (const p of proofs('sha256')) {
      const m = proofToMessage(p);
      const v = m.proof.value!;
      if ('root' in v) v.root = v.root.map((b, i) => (i === 0 ? b ^ 1 : b));
      else v.root2 = v.root2.map((b, i) => (i === 0 ? b ^ 1 : b));
      expect(verifyProof(proofFromMessage(m)), p.kind).toBe(false);
    }
  });
});
