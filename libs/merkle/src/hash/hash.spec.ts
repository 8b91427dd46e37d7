import { describe, expect, it } from 'vitest';
import { toHex } from '../bytes.ts';
import { MerkleError } from '../errors.ts';
import { HASH_SUITE_NAMES, getHashSuite, getPortableHashSuite } from './index.ts';

const enc = new TextEncoder();

describe('hash suites', () => {
  it('SHA-256 known answers (FIPS 180-4)', () => {
    const h = getHashSuite('sha256');
    expect(toHex(h.digest(new Uint8Array()))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(toHex(h.digest(enc.encode('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('BLAKE3 known answers (official test vectors, empty and "abc")', () => {
    const h = getHashSuite('blake3');
    expect(toHex(h.digest(new Uint8Array()))).toBe('af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262');
    expect(toHex(h.digest(enc.encode('abc')))).toBe('6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85');
  });

  it('unknown suite is a typed error', () => {
    expect(() => getHashSuite('md5')).toThrow(MerkleError);
  });

  for (const name of HASH_SUITE_NAMES) {
    it(`${name}: every method agrees with digest over the concatenation, and the best backend agrees with the portable one`, () => {
      const best = getHashSuite(name);
      const ref = getPortableHashSuite(name);
      const prefix = Uint8Array.of(0x11, 7);
      const a = new Uint8Array(32).map((_, i) => i);
      const b = new Uint8Array(32).map((_, i) => 255 - i);
      const whole = new Uint8Array([...prefix, ...a, ...b]);
      for (const h of [best, ref]) {
        expect(toHex(h.digestPair(prefix, a, b))).toBe(toHex(ref.digest(whole)));
        expect(toHex(h.digestPrefixed(prefix, new Uint8Array([...a, ...b])))).toBe(toHex(ref.digest(whole)));
        const pairs = new Uint8Array([...a, ...b, ...b, ...a]);
        const out = new Uint8Array(64);
        h.digestPairs(prefix, pairs, 2, out);
        expect(toHex(out.subarray(0, 32))).toBe(toHex(ref.digestPair(prefix, a, b)));
        expect(toHex(out.subarray(32))).toBe(toHex(ref.digestPair(prefix, b, a)));
        const many = new Uint8Array(64);
        h.digestPrefixedMany(prefix, [a, new Uint8Array(100).fill(9)], many);
        expect(toHex(many.subarray(32))).toBe(toHex(ref.digestPrefixed(prefix, new Uint8Array(100).fill(9))));
      }
    });
  }
});
