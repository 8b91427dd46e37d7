import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type MerkleError } from '../errors.ts';
import {
  SparseMerkleMap,
  decodeMapProofBinary,
  decodeMapProofJson,
  encodeMapProofBinary,
  encodeMapProofJson,
  verifyMapProof,
  type MapProofDocument,
} from './index.ts';
import { expectMalformed } from '../../test/expect-malformed.ts';

const arbKey = fc.uint8Array({ minLength: 32, maxLength: 32 });
const arbOps = fc.array(fc.record({ key: arbKey, value: fc.uint8Array({ maxLength: 16 }) }), { maxLength: 20 });

let map = new SparseMerkleMap();
function docs(ops: { key: Uint8Array; value: Uint8Array }[], probe: Uint8Array, suite: 'sha256' | 'blake3'): MapProofDocument[] {
  map = new SparseMerkleMap({ suite });
  const root = map.update(map.emptyRoot, ops);
  const out: MapProofDocument[] = [];
  for (const k of [...ops.slice(0, 3).map((o) => o.key), probe]) {
    const p = map.prove(root, k);
    if (p.kind === 'map-membership') out.push({ kind: p.kind, hash: suite, root, key: k, value: p.value, proof: p.proof });
    else out.push({ kind: p.kind, hash: suite, root, key: k, proof: p.proof });
  }
  const m = map.proveMulti(root, [...ops.slice(0, 5).map((o) => o.key), probe]);
  out.push({ kind: 'map-multi', hash: suite, root, entries: m.entries, proof: m.proof });
  return out;
}


describe('map proof codecs', () => {
  it('JSON and binary round trip and verify; a flipped binary bit never verifies', () => {
    fc.assert(
      fc.property(arbOps, arbKey, fc.constantFrom('sha256' as const, 'blake3' as const), fc.nat(), (ops, probe, suite, pick) => {
        for (const doc of docs(ops, probe, suite)) {
          expect(verifyMapProof(doc)).toBe(true);
          const json = JSON.stringify(encodeMapProofJson(doc));
          const fromJson = decodeMapProofJson(json);
          expect(fromJson).toEqual(doc);
          expect(verifyMapProof(fromJson)).toBe(true);
          const bin = encodeMapProofBinary(doc);
          const fromBin = decodeMapProofBinary(bin);
          expect(fromBin).toEqual(doc);
          const flipped = bin.slice();
          const i = pick % (bin.length * 8);
          flipped[i >> 3]! ^= 1 << (i & 7);
          try {
            const d = decodeMapProofBinary(flipped);
            // A flip inside an absent key may leave a true statement (another absent key); anything else must fail.
            if (verifyMapProof(d)) {
              expect(d.hash).toBe(doc.hash);
              expect(d.root).toEqual(doc.root);
              if (d.kind === 'map-membership') expect(map.get(d.root, d.key)).toEqual(d.value);
              else if (d.kind === 'map-non-membership') expect(map.get(d.root, d.key)).toBeUndefined();
              else for (const e of d.entries) expect(map.get(d.root, e.key) ?? null).toEqual(e.value);
              expect(d.kind).not.toBe('map-membership');
            }
          } catch (e) {
            expect((e as MerkleError).code).toBe('MALFORMED_INPUT');
          }
          expectMalformed(() => decodeMapProofBinary(bin.subarray(0, pick % bin.length)));
          expectMalformed(() => decodeMapProofBinary(Uint8Array.of(...bin, 0)));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('JSON names root, keys, values and suite', () => {
    const [doc] = docs([{ key: new Uint8Array(32), value: Uint8Array.of(1) }], new Uint8Array(32).fill(1), 'sha256');
    const j = encodeMapProofJson(doc!);
    expect(Object.keys(j).sort()).toEqual(['bits', 'hash', 'key', 'kind', 'root', 'siblings', 'v', 'value']);
    expect(j).toMatchObject({ v: 1, kind: 'map-membership', hash: 'sha256', value: '01' });
  });

  it('rejects malformed JSON with MALFORMED_INPUT', () => {
    const [m, n, , multi] = docs(
      [
        { key: new Uint8Array(32), value: Uint8Array.of(1) },
        { key: new Uint8Array(32).fill(9), value: Uint8Array.of(2) },
      ],
      new Uint8Array(32).fill(1),
      'sha256',
    );
    const good = [m!, n!, multi!].map((d) => encodeMapProofJson(d));
    expectMalformed(() => decodeMapProofJson('{'));
    expectMalformed(() => decodeMapProofJson(null));
    expectMalformed(() => decodeMapProofJson([]));
    for (const g of good) {
      expectMalformed(() => decodeMapProofJson({ ...g, v: 2 }));
      expectMalformed(() => decodeMapProofJson({ ...g, hash: 'md5' }));
      expectMalformed(() => decodeMapProofJson({ ...g, kind: 'log-inclusion' }));
      expectMalformed(() => decodeMapProofJson({ ...g, extra: 1 }));
      expectMalformed(() => decodeMapProofJson({ ...g, root: 'AB'.repeat(32) }));
      expectMalformed(() => decodeMapProofJson({ ...g, root: 'ab' }));
      const { root: _r, ...noRoot } = g;
      expectMalformed(() => decodeMapProofJson(noRoot));
    }
    expectMalformed(() => decodeMapProofJson({ ...good[0], bits: [256] }));
    expectMalformed(() => decodeMapProofJson({ ...good[0], bits: [1], siblings: [] }));
    expectMalformed(() => decodeMapProofJson({ ...good[0], value: 'xyz' }));
    expectMalformed(() => decodeMapProofJson({ ...good[1], leaf: { key: '00' } }));
    expectMalformed(() => decodeMapProofJson({ ...good[2], nodes: [{ type: 'what' }] }));
    expectMalformed(() => decodeMapProofJson({ ...good[2], nodes: [{ type: 'entry', x: 1 }] }));
    expectMalformed(() => decodeMapProofJson({ ...good[2], entries: [{ key: '00', value: null }] }));
  });

  it('rejects malformed binary with MALFORMED_INPUT', () => {
    expectMalformed(() => decodeMapProofBinary(new Uint8Array()));
    expectMalformed(() => decodeMapProofBinary(Uint8Array.of(2, 3, 0)));
    expectMalformed(() => decodeMapProofBinary(Uint8Array.of(1, 1, 0, ...new Uint8Array(32))));
    expectMalformed(() => decodeMapProofBinary(Uint8Array.of(1, 3, 9, ...new Uint8Array(32))));
    // A non-membership proof with a bad leaf flag, and one claiming 300 path items.
    expectMalformed(() => decodeMapProofBinary(Uint8Array.of(1, 4, 0, ...new Uint8Array(64), 0, 0, 2)));
    expectMalformed(() => decodeMapProofBinary(Uint8Array.of(1, 4, 0, ...new Uint8Array(64), 1, 44)));
    // A multiproof with an absurd entry count and one with an unknown node type.
    expectMalformed(() => decodeMapProofBinary(Uint8Array.of(1, 5, 0, ...new Uint8Array(32), 0xff, 0xff, 0xff, 0xff)));
    expectMalformed(() => decodeMapProofBinary(Uint8Array.of(1, 5, 0, ...new Uint8Array(32), 0, 0, 0, 0, 0, 0, 0, 1, 9)));
    expect(verifyMapProof({ kind: 'nope', hash: 'sha256' } as never)).toBe(false);
    expect(verifyMapProof(null as never)).toBe(false);
  });
});
