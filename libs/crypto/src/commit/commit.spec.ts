import { createHmac, hkdfSync } from 'node:crypto';
import { blake3 } from '@noble/hashes/blake3.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getPortableCryptoBackend } from '../backend/index.ts';
import { deriveTableSecret } from '../keys/index.ts';
import { COMMITMENT_ALGORITHMS, commitMapKey, commitRow, deriveCommitmentKeys, isCommitmentAlgorithm, mapKeyInput, verifyRowCommitment } from './index.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const master = Uint8Array.from({ length: 32 }, (_, i) => i);
const ts = deriveTableSecret(master, 'pg-main', 'public.users');
const rowBytes = new TextEncoder().encode('{"id":1,"name":"Ada"}');
const pk = Uint8Array.of(0x01, 0x02, 0x03);

// Independent reference of README.md part B §5 (node:crypto HMAC/HKDF, @noble BLAKE3 directly).
const sub = (label: string): Buffer => Buffer.from(hkdfSync('sha256', ts, Buffer.alloc(0), Buffer.from(label), 32));
function refMapInput(table: string, key: Uint8Array): Buffer {
  const t = Buffer.from(table);
  const b = Buffer.alloc(6 + t.length + key.length);
  b.writeUInt16BE(t.length, 0);
  t.copy(b, 2);
  b.writeUInt32BE(key.length, 2 + t.length);
  Buffer.from(key).copy(b, 6 + t.length);
  return b;
}
const refHmac = (k: Uint8Array, m: Uint8Array): string => createHmac('sha256', k).update(m).digest('hex');
const refBlake3 = (k: Uint8Array, m: Uint8Array): string => hex(blake3(m, { key: k }));

describe('keyed commitments (known answers from an independent implementation)', () => {
  it('HMAC-SHA256: leaf = HMAC(leafKey, row), map key = HMAC(mapKeyKey, u16 table || u32 pk)', () => {
    const ck = deriveCommitmentKeys(ts, 'hmac-sha256');
    expect(hex(ck.leafKey)).toBe(hex(sub('merklesync/v1/commit/leaf/hmac-sha256')));
    expect(hex(ck.mapKeyKey)).toBe(hex(sub('merklesync/v1/commit/map-key/hmac-sha256')));
    expect(hex(commitRow(ck, rowBytes))).toBe(refHmac(ck.leafKey, rowBytes));
    expect(hex(commitMapKey(ck, 'public.users', pk))).toBe(refHmac(ck.mapKeyKey, refMapInput('public.users', pk)));
    expect(hex(commitRow(ck, rowBytes))).toBe(DOC_LEAF_HMAC);
    expect(hex(commitMapKey(ck, 'public.users', pk))).toBe(DOC_MAPKEY_HMAC);
  });

  it('keyed BLAKE3: same inputs, keys from the blake3 labels', () => {
    const ck = deriveCommitmentKeys(ts, 'blake3');
    expect(hex(ck.leafKey)).toBe(hex(sub('merklesync/v1/commit/leaf/blake3')));
    expect(hex(ck.mapKeyKey)).toBe(hex(sub('merklesync/v1/commit/map-key/blake3')));
    expect(hex(commitRow(ck, rowBytes))).toBe(refBlake3(ck.leafKey, rowBytes));
    expect(hex(commitMapKey(ck, 'public.users', pk))).toBe(refBlake3(ck.mapKeyKey, refMapInput('public.users', pk)));
    expect(hex(commitRow(ck, rowBytes))).toBe('0daafcae7dc61040ea61d4d16e66baad0a2444f0cfe75714864ea7f26df645b6');
    expect(hex(commitMapKey(ck, 'public.users', pk))).toBe('20debda55106867bb0d4a4bc637a3707c5f70bcc16086d4082f5ddde5d089ef9');
  });

  it('the portable backend gives the same commitments', () => {
    const p = getPortableCryptoBackend();
    for (const alg of COMMITMENT_ALGORITHMS) {
      const a = deriveCommitmentKeys(ts, alg);
      const b = deriveCommitmentKeys(ts, alg, p);
      expect(b).toEqual(a);
      expect(commitRow(b, rowBytes, p)).toEqual(commitRow(a, rowBytes));
      expect(commitMapKey(b, 't', pk, p)).toEqual(commitMapKey(a, 't', pk));
    }
  });

  it('mapKeyInput has the documented framing', () => {
    expect(hex(mapKeyInput('ab', Uint8Array.of(9)))).toBe('0002' + '6162' + '00000001' + '09');
  });

  it('mapKeyInput writes both lengths big-endian in every byte (names and keys past 255 and 65,535 bytes)', () => {
    for (const [tl, pl] of [[1, 0], [255, 256], [256, 70_000], [300, 0x01_02_03], [1000, 65_535], [40, 16_777_217]] as const) {
      const table = 't'.repeat(tl);
      const pk = new Uint8Array(pl).fill(7);
      const got = mapKeyInput(table, pk);
      expect(got.length).toBe(6 + tl + pl);
      expect([got[0], got[1]]).toEqual([tl >>> 8, tl & 0xff]);
      expect([got[2 + tl], got[3 + tl], got[4 + tl], got[5 + tl]]).toEqual([pl >>> 24, (pl >>> 16) & 0xff, (pl >>> 8) & 0xff, pl & 0xff]);
      expect(got.subarray(2, 2 + tl)).toEqual(new TextEncoder().encode(table));
      expect(got.subarray(6 + tl).every((b) => b === 7)).toBe(true);
    }
  });
});

describe('separation', () => {
  it('leaf, map key, algorithms and tables all use different keys', () => {
    const h = deriveCommitmentKeys(ts, 'hmac-sha256');
    const b = deriveCommitmentKeys(ts, 'blake3');
    const other = deriveCommitmentKeys(deriveTableSecret(master, 'pg-main', 'public.orders'));
    const all = [h.leafKey, h.mapKeyKey, b.leafKey, b.mapKeyKey, other.leafKey, other.mapKeyKey, ts].map(hex);
    expect(new Set(all).size).toBe(all.length);
    expect(commitRow(h, rowBytes)).not.toEqual(commitRow(other, rowBytes));
  });

  it('map keys are injective in (table, pk) across the framing boundary (property)', () => {
    const ck = deriveCommitmentKeys(ts);
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), fc.string({ minLength: 1, maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (t1, k1, t2, k2) => {
        fc.pre(t1 !== t2 || hex(k1) !== hex(k2));
        expect(hex(mapKeyInput(t1, k1))).not.toBe(hex(mapKeyInput(t2, k2)));
        expect(hex(commitMapKey(ck, t1, k1))).not.toBe(hex(commitMapKey(ck, t2, k2)));
      }),
      { numRuns: 300 },
    );
    // The classic ambiguity: "ab" + [0x63] vs "abc" + [] must differ.
    expect(commitMapKey(ck, 'ab', Uint8Array.of(0x63))).not.toEqual(commitMapKey(ck, 'abc', new Uint8Array(0)));
  });
});

describe('verifyRowCommitment', () => {
  it('accepts the right leaf and rejects every tampered leaf, row or key', () => {
    for (const alg of COMMITMENT_ALGORITHMS) {
      const ck = deriveCommitmentKeys(ts, alg);
      const leaf = commitRow(ck, rowBytes);
      expect(verifyRowCommitment(ck, rowBytes, leaf)).toBe(true);
      for (let i = 0; i < 32 * 8; i += 7) {
        const t = leaf.slice();
        t[i >> 3]! ^= 1 << (i & 7);
        expect(verifyRowCommitment(ck, rowBytes, t)).toBe(false);
      }
      const row2 = rowBytes.slice();
      row2[0]! ^= 1;
      expect(verifyRowCommitment(ck, row2, leaf)).toBe(false);
      expect(verifyRowCommitment(deriveCommitmentKeys(deriveTableSecret(master, 'pg-main', 'x'), alg), rowBytes, leaf)).toBe(false);
      expect(verifyRowCommitment(ck, rowBytes, leaf.subarray(0, 31))).toBe(false);
      expect(verifyRowCommitment(ck, rowBytes, 'leaf')).toBe(false);
      expect(verifyRowCommitment(ck, rowBytes, null)).toBe(false);
    }
  });

  it('checks its arguments', () => {
    expect(() => deriveCommitmentKeys(ts, 'sha1' as 'blake3')).toThrow(RangeError);
    expect(() => deriveCommitmentKeys(ts.subarray(1))).toThrow(RangeError);
    const ck = deriveCommitmentKeys(ts);
    expect(() => commitRow({ ...ck, leafKey: new Uint8Array(31) }, rowBytes)).toThrow(/keys.leafKey/);
    expect(() => commitRow(ck, 'row' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => commitMapKey(ck, '', pk)).toThrow(/table/);
    expect(isCommitmentAlgorithm('blake3')).toBe(true);
    expect(isCommitmentAlgorithm('md5')).toBe(false);
  });
});

// The worked example of README.md part B §5.
const DOC_LEAF_HMAC = '0026d2f1b97b584d1b1511291a5ba1dccd5290e69441902417ef2aeba9e221ba';
const DOC_MAPKEY_HMAC = '641338b6dabc8c3fa01ede8369856aea751fd787f2f8c3536349e75baabd7049';
