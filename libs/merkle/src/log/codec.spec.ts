import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../bytes.ts';
import { type MerkleError } from '../errors.ts';
import { getHashSuite } from '../hash/index.ts';
import {
  decodeLogProof,
  encodeLogProof,
  logProofFromJson,
  logProofToJson,
  proveLogConsistency,
  proveLogInclusion,
  verifyLogProof,
  type LogProof,
} from './codec.ts';
import { LogTree } from './log-tree.ts';
import { expectMalformed } from '../../test/expect-malformed.ts';

const trees = (['sha256', 'blake3'] as const).map((n) => {
  const t = new LogTree(getHashSuite(n));
  t.appendMany(Array.from({ length: 40 }, (_, i) => Uint8Array.of(i, n.length)));
  return t;
});
const [sha, blake] = trees as [LogTree, LogTree];


describe('log proof codecs', () => {
  it('JSON form of an inclusion proof has the documented fields', () => {
    const p = proveLogInclusion(sha, 5, 17);
    const j = logProofToJson(p);
    expect(Object.keys(j).sort()).toEqual(['hash', 'kind', 'leafHash', 'leafIndex', 'path', 'root', 'treeSize', 'v']);
    expect(j).toMatchObject({ v: 1, kind: 'log-inclusion', hash: 'sha256', treeSize: 17, leafIndex: 5, root: toHex(sha.root(17)) });
    expect(verifyLogProof(logProofFromJson(JSON.stringify(j)))).toBe(true);
  });

  it('binary layout: header, u64 sizes, hashes, u32 count, path', () => {
    const p = proveLogConsistency(blake, 3, 20);
    const b = encodeLogProof(p);
    expect([...b.subarray(0, 3)]).toEqual([1, 2, 1]);
    expect(b.length).toBe(3 + 16 + 64 + 4 + 32 * p.path.length);
    expect(new DataView(b.buffer).getBigUint64(3)).toBe(3n);
    expect(new DataView(b.buffer).getBigUint64(11)).toBe(20n);
    expect(new DataView(b.buffer).getUint32(83)).toBe(p.path.length);
  });

  it('round-trips (JSON and binary) and verifies for random proofs of both suites and kinds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 1, max: 40 }), fc.nat(), fc.boolean(), (ti, n, x, inc) => {
        const t = trees[ti]!;
        const p: LogProof = inc ? proveLogInclusion(t, x % n, n) : proveLogConsistency(t, 1 + (x % n), n);
        const viaJson = logProofFromJson(JSON.parse(JSON.stringify(logProofToJson(p))));
        const viaBin = decodeLogProof(encodeLogProof(p));
        expect(viaJson).toEqual(p);
        expect(viaBin).toEqual(p);
        expect(verifyLogProof(viaJson)).toBe(true);
        expect(verifyLogProof(viaBin)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('a tampered decoded proof fails verification (suite named in the proof is used)', () => {
    const p = proveLogInclusion(blake, 9);
    expect(verifyLogProof({ ...p, hash: 'sha256' })).toBe(false);
    expect(verifyLogProof({ ...p, leafIndex: 8 })).toBe(false);
    expect(verifyLogProof({ ...p, hash: 'md5' as never })).toBe(false);
    expect(verifyLogProof({ ...p, kind: 'map-multi' as never })).toBe(false);
    expect(verifyLogProof(null as never)).toBe(false);
    const c = proveLogConsistency(sha, 7, 30);
    expect(verifyLogProof({ ...c, root1: c.root2 })).toBe(false);
    expect(verifyLogProof({ ...c, size2: 8 })).toBe(false); // (7,31) would pass: same verifier steps as (7,30); the root binds the size
  });

  it('every one-byte change of a binary proof decodes to a rejected proof or fails to decode', () => {
    const b = encodeLogProof(proveLogInclusion(sha, 3, 11));
    for (let i = 0; i < b.length; i++) {
      const c = b.slice();
      c[i]! ^= 0x40;
      let ok = false;
      try {
        ok = verifyLogProof(decodeLogProof(c));
      } catch (e) {
        expect((e as MerkleError).code).toBe('MALFORMED_INPUT');
      }
      expect(ok).toBe(false);
    }
  });

  it('binary decoder rejects garbage with MALFORMED_INPUT', () => {
    const good = encodeLogProof(proveLogInclusion(sha, 3, 11));
    expectMalformed(() => decodeLogProof(new Uint8Array()));
    expectMalformed(() => decodeLogProof(good.subarray(0, good.length - 1)));
    expectMalformed(() => decodeLogProof(Uint8Array.of(...good, 0)));
    expectMalformed(() => decodeLogProof(Uint8Array.of(2, ...good.subarray(1))));
    expectMalformed(() => decodeLogProof(Uint8Array.of(1, 3, ...good.subarray(2))));
    expectMalformed(() => decodeLogProof(Uint8Array.of(1, 1, 9, ...good.subarray(3))));
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(3 + 16 + 64, 0xffffffff);
    expectMalformed(() => decodeLogProof(huge));
    const big = good.slice();
    new DataView(big.buffer).setBigUint64(3, 1n << 60n);
    expectMalformed(() => decodeLogProof(big));
    expect(() => decodeLogProof('x' as never)).toThrow(TypeError);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (g) => {
        try {
          decodeLogProof(g);
        } catch (e) {
          expect((e as MerkleError).code).toBe('MALFORMED_INPUT');
        }
      }),
      { numRuns: 200 },
    );
  });

  it('JSON decoder rejects garbage with MALFORMED_INPUT', () => {
    const j = logProofToJson(proveLogConsistency(sha, 2, 9)) as unknown as Record<string, unknown>;
    const bad: unknown[] = [
      '{',
      'null',
      [],
      42,
      { ...j, v: 2 },
      { ...j, kind: 'map-multi' },
      { ...j, hash: 'md5' },
      { ...j, extra: 1 },
      { ...j, size1: -1 },
      { ...j, size2: 1.5 },
      { ...j, size2: 2 ** 53 },
      { ...j, root1: String(j.root1).toUpperCase() },
      { ...j, root2: String(j.root2).slice(2) },
      { ...j, path: 'ab' },
      { ...j, path: [123] },
      { ...j, path: [...(j.path as string[]), '00'] },
      Object.fromEntries(Object.entries(j).filter(([k]) => k !== 'root2')),
    ];
    for (const b of bad) expectMalformed(() => logProofFromJson(b));
  });

  it('encoders reject ill-typed proofs with TypeError/RangeError', () => {
    const p = proveLogInclusion(sha, 1);
    expect(() => encodeLogProof({ ...p, root: new Uint8Array(31) })).toThrow(RangeError);
    expect(() => logProofToJson({ ...p, treeSize: -1 })).toThrow(RangeError);
    expect(() => logProofToJson({ ...p, path: 'x' as never })).toThrow(TypeError);
    expect(() => encodeLogProof({ ...p, kind: 'nope' as never })).toThrow(RangeError);
  });
});
