import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '@merklesync/merkle';
import { getCryptoBackend, getPortableCryptoBackend } from './index.ts';

const enc = new TextEncoder();
const backends = [getCryptoBackend(), getPortableCryptoBackend()];

describe.each(backends.map((b) => [b.name, b] as const))('%s crypto backend', (_name, b) => {
  it('HKDF-SHA256: RFC 5869 test case 1', () => {
    const okm = b.hkdfSha256(fromHex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b'), fromHex('000102030405060708090a0b0c'), fromHex('f0f1f2f3f4f5f6f7f8f9'), 42);
    expect(toHex(okm)).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  });
  it('HMAC-SHA256: RFC 4231 test case 2', () => {
    expect(toHex(b.hmacSha256(enc.encode('Jefe'), enc.encode('what do ya want for nothing?')))).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });
  it('PBKDF2-HMAC-SHA256: RFC 7914 §11 vector (c=1)', () => {
    expect(toHex(b.pbkdf2Sha256(enc.encode('passwd'), enc.encode('salt'), 1, 64))).toBe(
      '55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783',
    );
  });
  it('scrypt: RFC 7914 §12 vector (N=16, r=1, p=1, empty password and salt)', () => {
    expect(toHex(b.scrypt(new Uint8Array(), new Uint8Array(), { N: 16, r: 1, p: 1 }, 64))).toBe(
      '77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906',
    );
  });
  it('AES-256-GCM: NIST test case 16 (256-bit key, 96-bit IV, AAD)', () => {
    const key = fromHex('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308');
    const iv = fromHex('cafebabefacedbaddecaf888');
    const pt = fromHex('d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39');
    const aad = fromHex('feedfacedeadbeeffeedfacedeadbeefabaddad2');
    const sealed = b.aesGcmEncrypt(key, iv, pt, aad);
    expect(toHex(sealed)).toBe(
      '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662' + '76fc6ece0f4e1768cddf8853bb2d551b',
    );
    expect(toHex(b.aesGcmDecrypt(key, iv, sealed, aad)!)).toBe(toHex(pt));
    const bad = sealed.slice();
    bad[0]! ^= 1;
    expect(b.aesGcmDecrypt(key, iv, bad, aad)).toBeNull();
    expect(b.aesGcmDecrypt(key, iv, sealed, new Uint8Array())).toBeNull();
    expect(b.aesGcmDecrypt(key, iv, sealed.subarray(0, 10), aad)).toBeNull();
  });
  it('Ed25519: RFC 8032 §7.1 test 1 (empty message) and rejection of tampering', () => {
    const seed = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
    const pub = b.ed25519PublicKey(seed);
    expect(toHex(pub)).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    const sig = b.ed25519Sign(seed, new Uint8Array());
    expect(toHex(sig)).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
    expect(b.ed25519Verify(pub, new Uint8Array(), sig)).toBe(true);
    expect(b.ed25519Verify(pub, Uint8Array.of(0), sig)).toBe(false);
    const bad = sig.slice();
    bad[63]! ^= 0x10;
    expect(b.ed25519Verify(pub, new Uint8Array(), bad)).toBe(false);
    expect(b.ed25519Verify(pub.subarray(0, 31), new Uint8Array(), sig)).toBe(false);
    expect(b.ed25519Verify(pub, new Uint8Array(), sig.subarray(0, 63))).toBe(false);
  });
  it('BLAKE3 keyed hash: official test vector (input length 0)', () => {
    const key = enc.encode('whats the Elvish word for friend');
    expect(toHex(b.blake3Keyed(key, new Uint8Array()))).toBe('92b2b75604ed3c761f9d6f62392c8a9227ad0ea3f09573e783f1498a4ed60d26');
  });
});

describe('node backend caches (HMAC key pads, AES-GCM key state, random pool)', () => {
  const b = getCryptoBackend();
  it('HMAC-SHA256: RFC 4231 test case 6 (131-byte key, hashed first)', () => {
    const key = new Uint8Array(131).fill(0xaa);
    const msg = enc.encode('Test Using Larger Than Block-Size Key - Hash Key First');
    expect(toHex(b.hmacSha256(key, msg))).toBe('60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54');
    expect(toHex(b.hmacSha256(key, msg))).toBe('60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54');
  });
  it('a key array changed in place after use gives the MAC and ciphertext of its new bytes', () => {
    const portable = getPortableCryptoBackend();
    const key = new Uint8Array(32).fill(1);
    const nonce = new Uint8Array(12).fill(2);
    const msg = enc.encode('row bytes');
    b.hmacSha256(key, msg);
    b.aesGcmEncrypt(key, nonce, msg, msg);
    key[31] = 9;
    expect(toHex(b.hmacSha256(key, msg))).toBe(toHex(portable.hmacSha256(key, msg)));
    expect(toHex(b.aesGcmEncrypt(key, nonce, msg, msg))).toBe(toHex(portable.aesGcmEncrypt(key, nonce, msg, msg)));
  });
  it('AES-256-GCM agrees with the portable backend around block boundaries and the fast-path limit', () => {
    const portable = getPortableCryptoBackend();
    const key = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
    for (const n of [0, 1, 15, 16, 17, 31, 32, 33, 200, 1023, 1024, 1025, 5000]) {
      const pt = Uint8Array.from({ length: n }, (_, i) => i * 13);
      const aad = Uint8Array.from({ length: n % 97 }, (_, i) => i);
      const nonce = Uint8Array.from({ length: 12 }, (_, i) => i + n);
      const sealed = b.aesGcmEncrypt(key, nonce, pt, aad);
      expect(toHex(sealed)).toBe(toHex(portable.aesGcmEncrypt(key, nonce, pt, aad)));
      expect(toHex(b.aesGcmDecrypt(key, nonce, sealed, aad)!)).toBe(toHex(pt));
    }
  });
  it('random bytes: fresh arrays of the asked length, never repeating', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const r = b.randomBytes(12);
      expect(r.length).toBe(12);
      seen.add(toHex(r));
    }
    expect(seen.size).toBe(2000);
    expect(b.randomBytes(0).length).toBe(0);
    expect(b.randomBytes(100).length).toBe(100);
  });
});

describe('node and portable backends agree', () => {
  const [node, portable] = backends as [(typeof backends)[0], (typeof backends)[0]];
  it('on random inputs for every primitive', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 40 }), (key, nonce, msg, aad) => {
        const sealed = node.aesGcmEncrypt(key, nonce, msg, aad);
        expect(toHex(portable.aesGcmEncrypt(key, nonce, msg, aad))).toBe(toHex(sealed));
        expect(toHex(portable.aesGcmDecrypt(key, nonce, sealed, aad)!)).toBe(toHex(msg));
        expect(toHex(node.hmacSha256(key, msg))).toBe(toHex(portable.hmacSha256(key, msg)));
        expect(toHex(node.hkdfSha256(key, aad, msg, 64))).toBe(toHex(portable.hkdfSha256(key, aad, msg, 64)));
        expect(toHex(node.sha256(msg))).toBe(toHex(portable.sha256(msg)));
        const pub = portable.ed25519PublicKey(key);
        expect(toHex(node.ed25519PublicKey(key))).toBe(toHex(pub));
        const sig = node.ed25519Sign(key, msg);
        expect(toHex(portable.ed25519Sign(key, msg))).toBe(toHex(sig));
        expect(portable.ed25519Verify(pub, msg, sig) && node.ed25519Verify(pub, msg, sig)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});
