import { createCipheriv } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '@merklesync/merkle';
import { openBlock, sealBlock } from '../envelope/seal.ts';
import { loadNativeGcm } from './native.ts';
import { nodeBackend } from './node.ts';
import { getPortableCryptoBackend } from './index.ts';
import type { CryptoBackend } from './types.ts';

const ADDON = new URL('../../native/build/crypto_native.node', import.meta.url);
const built = existsSync(ADDON);
const gcm = loadNativeGcm();
const portable = getPortableCryptoBackend();

const reference = (key: Uint8Array, nonce: Uint8Array, pt: Uint8Array, aad: Uint8Array): string => {
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  c.setAAD(aad);
  return Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]).toString('hex');
};
const seal = (key: Uint8Array, nonce: Uint8Array, pt: Uint8Array, aad: Uint8Array): Uint8Array => {
  const out = new Uint8Array(pt.length + 16);
  gcm!.sealInto(key, nonce, pt, aad, out);
  return out;
};

describe('native AES-256-GCM addon', () => {
  it('is built and loads (required on CI)', (ctx) => {
    if (!built) {
      // CI builds the addon in `npm ci` (root postinstall); a missing addon there is a build regression.
      if (process.env.CI) throw new Error(`native addon missing on CI: ${ADDON.pathname} (run npm run build:native)`);
      ctx.skip(`native addon not built (${ADDON.pathname}); run npm run build:native`);
    }
    expect(gcm, 'addon file exists but does not load in this node').toBeDefined();
    expect(loadNativeGcm()).toBe(gcm);
  });
});

describe.skipIf(!gcm)('native AES-256-GCM sealer', () => {
  it('NIST test case 16 (256-bit key, 96-bit IV, AAD)', () => {
    const key = fromHex('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308');
    const pt = fromHex('d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39');
    const sealed = seal(key, fromHex('cafebabefacedbaddecaf888'), pt, fromHex('feedfacedeadbeeffeedfacedeadbeefabaddad2'));
    expect(toHex(sealed)).toBe('522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662' + '76fc6ece0f4e1768cddf8853bb2d551b');
  });

  it('equals node:crypto on random keys, nonces, plaintexts and AADs (short ones go through the slots)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.oneof(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 2000 })),
        fc.oneof(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 400 })),
        (key, nonce, pt, aad) => {
          expect(toHex(seal(key, nonce, pt, aad))).toBe(reference(key, nonce, pt, aad));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('inputs in views of larger buffers, and a key array changed in place, are read as they are now', () => {
    const buf = Uint8Array.from({ length: 600 }, (_, i) => (i * 7) & 0xff);
    const key = buf.slice(0, 32);
    const nonce = buf.subarray(40, 52);
    const pt = buf.subarray(100, 400);
    const aad = buf.subarray(3, 23);
    const first = toHex(seal(key, nonce, pt, aad));
    expect(first).toBe(reference(key, nonce, pt, aad));
    key[5]! ^= 0xff; // the cached key handle must not survive a changed key
    expect(toHex(seal(key, nonce, pt, aad))).toBe(reference(key, nonce, pt, aad));
    expect(toHex(seal(key, nonce, pt, aad))).not.toBe(first);
  });

  it('refuses bad arguments with typed errors and writes nothing', () => {
    const key = new Uint8Array(32);
    const nonce = new Uint8Array(12);
    const pt = new Uint8Array(100).fill(1);
    const out = new Uint8Array(116);
    const fails = (f: () => void, type: ErrorConstructor, message: RegExp): void => {
      expect(f).toThrow(type);
      expect(f).toThrow(message);
      expect(out.every((b) => b === 0)).toBe(true);
    };
    fails(() => gcm!.sealInto(new Uint8Array(16), nonce, pt, pt, out), RangeError, /key must be 32 bytes/);
    fails(() => gcm!.sealInto('k' as unknown as Uint8Array, nonce, pt, pt, out), TypeError, /key must be a Uint8Array/);
    fails(() => gcm!.sealInto(key, new Uint8Array(11), pt, pt, out), RangeError, /nonce must be 12 bytes/);
    fails(() => gcm!.sealInto(key, [1] as unknown as Uint8Array, pt, pt, out), TypeError, /nonce must be a Uint8Array/);
    fails(() => gcm!.sealInto(key, nonce, new Uint16Array(4) as unknown as Uint8Array, pt, out), TypeError, /plaintext must be a Uint8Array/);
    fails(() => gcm!.sealInto(key, nonce, pt, {} as Uint8Array, out), TypeError, /aad must be a Uint8Array/);
    fails(() => gcm!.sealInto(key, nonce, pt, pt, new Uint8Array(115)), RangeError, /out must be plaintext.length \+ 16 bytes/);
    fails(() => gcm!.sealInto(key, nonce, pt, pt, null as unknown as Uint8Array), TypeError, /out must be a Uint8Array/);
    const shared = new Uint8Array(400);
    expect(() => gcm!.sealInto(key, nonce, shared.subarray(0, 100), pt, shared.subarray(50, 166))).toThrow(/out must not overlap/);
    expect(() => gcm!.sealInto(key, nonce, pt, shared.subarray(200, 300), shared.subarray(150, 266))).toThrow(/out must not overlap/);
  });

  it('the raw addon refuses a handle that is not one of its keys', () => {
    const addon = createRequire(import.meta.url)(ADDON.pathname) as { gcmSeal: (...a: unknown[]) => void };
    expect(() => addon.gcmSeal({}, new Uint8Array(12), new Uint8Array(1), new Uint8Array(0), new Uint8Array(17))).toThrow(TypeError);
    expect(() => addon.gcmSeal({}, new Uint8Array(12), new Uint8Array(1), new Uint8Array(0), new Uint8Array(17))).toThrow(/handle from gcmKey/);
  });
});

describe('aesGcmEncryptInto (node and portable backends)', () => {
  it('equals aesGcmEncrypt and refuses a wrong-sized out', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    const nonce = new Uint8Array(12).fill(9);
    for (const b of [nodeBackend, portable]) {
      for (const n of [0, 5, 64, 300]) {
        const pt = new Uint8Array(n).fill(n & 0xff);
        const out = new Uint8Array(n + 16);
        b.aesGcmEncryptInto(key, nonce, pt, pt, out);
        expect(toHex(out)).toBe(toHex(portable.aesGcmEncrypt(key, nonce, pt, pt)));
        expect(toHex(b.aesGcmEncrypt(key, nonce, pt, pt))).toBe(toHex(out));
      }
      expect(() => b.aesGcmEncryptInto(key, nonce, new Uint8Array(3), new Uint8Array(0), new Uint8Array(18))).toThrow(RangeError);
    }
    // A nonce that is not 12 bytes takes node:crypto (GCM allows other lengths): still the portable result.
    const long = new Uint8Array(16).fill(3);
    const out = new Uint8Array(21);
    nodeBackend.aesGcmEncryptInto(key, long, new Uint8Array(5), new Uint8Array(0), out);
    expect(toHex(out)).toBe(toHex(portable.aesGcmEncrypt(key, long, new Uint8Array(5), new Uint8Array(0))));
  });

  it('sealBlock from inside a backend call (a custom backend) gets its own AAD array', () => {
    const dataKey = { kid: 'k1', version: 1, key: new Uint8Array(32).fill(4) };
    const inner = { source: 'pg', table: 'inner', primaryKey: Uint8Array.of(1, 2, 3), rowVersion: 1 };
    const outer = { source: 'pg', table: 'outer_table_with_a_longer_name', primaryKey: Uint8Array.of(9, 9), rowVersion: 2 };
    let innerBlock: Uint8Array | undefined;
    const reentrant: CryptoBackend = {
      ...portable,
      aesGcmEncryptInto(key, nonce, pt, aad, out) {
        innerBlock ??= sealBlock(dataKey, inner, Uint8Array.of(7), { backend: portable });
        portable.aesGcmEncryptInto(key, nonce, pt, aad, out);
      },
    };
    const block = sealBlock(dataKey, outer, Uint8Array.of(5, 6), { backend: reentrant });
    const resolve = () => dataKey.key;
    expect(toHex(openBlock(block, outer, resolve))).toBe('0506');
    expect(toHex(openBlock(innerBlock!, inner, resolve))).toBe('07');
  });
});
