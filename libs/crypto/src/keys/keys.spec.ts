import { createHash, pbkdf2Sync, scryptSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getPortableCryptoBackend } from '../backend/index.ts';
import { CryptoError } from '../errors.ts';
import {
  Keyring,
  LocalKeyProvider,
  PASSPHRASE_KDF_LIMITS,
  deriveMasterKeyFromPassphrase,
  generateMasterKey,
  masterKeyFromBase64,
  newPassphraseParams,
  parseKeyFile,
  passphraseParamsFromJson,
  passphraseParamsToJson,
  serializeKeyFile,
  type PassphraseKdfParams,
} from './index.ts';

const bytes = (n: number, start = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (start + i) & 255);
const counter = (): ((n: number) => Uint8Array) => {
  let c = 0;
  return (n) => bytes(n, c++ * 32);
};
const at = (iso: string) => (): Date => new Date(iso);
function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof CryptoError) return e.code;
    return (e as Error).name;
  }
  return 'accepted';
}

describe('master keys from the environment (base64 of 32 bytes)', () => {
  it('decodes strict base64, trims surrounding whitespace, refuses other lengths and garbage', () => {
    const key = bytes(32);
    const b64 = Buffer.from(key).toString('base64');
    expect(masterKeyFromBase64(b64)).toEqual(key);
    expect(masterKeyFromBase64(`  ${b64}\n`)).toEqual(key);
    expect(code(() => masterKeyFromBase64(Buffer.from(bytes(31)).toString('base64')))).toBe('INVALID_KEY');
    expect(code(() => masterKeyFromBase64(Buffer.from(bytes(33)).toString('base64')))).toBe('INVALID_KEY');
    expect(code(() => masterKeyFromBase64('not base64!'))).toBe('MALFORMED_INPUT');
    expect(code(() => masterKeyFromBase64(b64.replace(/=$/, '')))).toBe('MALFORMED_INPUT');
    expect(code(() => masterKeyFromBase64(42 as unknown as string))).toBe('TypeError');
  });

  it('an error message never echoes the secret', () => {
    const secret = 'c2VjcmV0LXNlY3JldC1zZWNyZXQ=';
    try {
      masterKeyFromBase64(secret + '!');
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).not.toContain('c2VjcmV0');
    }
  });

  it('generateMasterKey takes 32 bytes from the injected random source', () => {
    expect(generateMasterKey(() => bytes(32, 7))).toEqual(bytes(32, 7));
    expect(generateMasterKey()).toHaveLength(32);
    expect(code(() => generateMasterKey(() => bytes(16)))).toBe('RangeError');
  });
});

describe('keyrings and rotation', () => {
  it('rotate adds version n+1, which becomes current; old versions stay', () => {
    const r1 = Keyring.generate('prod-1', { random: counter(), now: at('2025-01-01T00:00:00Z') });
    expect(r1.currentVersion).toBe(1);
    const r2 = r1.rotate({ random: () => bytes(32, 100), now: at('2025-02-01T00:00:00Z') });
    const r3 = r2.rotate({ key: bytes(32, 200), now: at('2025-03-01T00:00:00Z') });
    expect(r3.currentVersion).toBe(3);
    expect(r3.versions.map((v) => v.version)).toEqual([1, 2, 3]);
    expect(r3.key(1)).toEqual(bytes(32, 0));
    expect(r3.key(2)).toEqual(bytes(32, 100));
    expect(r3.key(3)).toEqual(bytes(32, 200));
    expect(r3.key(4)).toBeUndefined();
    expect(r1.currentVersion).toBe(1); // immutable
  });

  it('refuses bad kids, duplicate versions, version 0, short keys, bad timestamps', () => {
    const v = { version: 1, key: bytes(32), created: '2025-01-01T00:00:00Z' };
    expect(code(() => new Keyring('has space', [v]))).toBe('RangeError');
    expect(code(() => new Keyring('x'.repeat(65), [v]))).toBe('RangeError');
    expect(code(() => new Keyring('k', []))).toBe('INVALID_KEY');
    expect(code(() => new Keyring('k', [v, v]))).toBe('INVALID_KEY');
    expect(code(() => new Keyring('k', [{ ...v, version: 0 }]))).toBe('RangeError');
    expect(code(() => new Keyring('k', [{ ...v, key: bytes(31) }]))).toBe('RangeError');
    expect(code(() => new Keyring('k', [{ ...v, created: '2025-01-01 00:00' }]))).toBe('RangeError');
  });

  it('a caller mutating the key it passed or got does not change the keyring', () => {
    const key = bytes(32);
    const ring = new Keyring('k', [{ version: 1, key, created: '2025-01-01T00:00:00Z' }]);
    key[0] = 99;
    ring.key(1)![1] = 99;
    expect(ring.key(1)).toEqual(bytes(32));
  });
});

describe('key files', () => {
  const ring = Keyring.generate('prod-1', { random: counter(), now: at('2025-01-31T12:00:00.000Z') }).rotate({
    random: () => bytes(32, 64),
    now: at('2025-06-30T08:00:00.000Z'),
  });

  it('has the documented JSON form and round-trips', () => {
    const text = serializeKeyFile(ring);
    expect(JSON.parse(text)).toEqual({
      v: 1,
      kid: 'prod-1',
      keys: [
        { version: 1, key: Buffer.from(bytes(32)).toString('base64'), created: '2025-01-31T12:00:00.000Z' },
        { version: 2, key: Buffer.from(bytes(32, 64)).toString('base64'), created: '2025-06-30T08:00:00.000Z' },
      ],
    });
    const back = parseKeyFile(text);
    expect(back.kid).toBe('prod-1');
    expect(back.currentVersion).toBe(2);
    expect(back.key(1)).toEqual(bytes(32));
    expect(serializeKeyFile(back)).toBe(text);
  });

  it('versions may be listed in any order; the highest is current', () => {
    const doc = JSON.parse(serializeKeyFile(ring));
    doc.keys.reverse();
    expect(parseKeyFile(JSON.stringify(doc)).currentVersion).toBe(2);
  });

  it('refuses every malformed key file with a typed error', () => {
    const good = JSON.parse(serializeKeyFile(ring));
    const variants: [unknown, string][] = [
      [{ ...good, v: 2 }, 'MALFORMED_INPUT'],
      [{ ...good, extra: 1 }, 'MALFORMED_INPUT'],
      [{ ...good, kid: 7 }, 'MALFORMED_INPUT'],
      [{ ...good, kid: 'bad kid' }, 'MALFORMED_INPUT'],
      [{ ...good, keys: [] }, 'MALFORMED_INPUT'],
      [{ ...good, keys: 'x' }, 'MALFORMED_INPUT'],
      [{ ...good, keys: [good.keys[0], good.keys[0]] }, 'INVALID_KEY'],
      [{ ...good, keys: [{ ...good.keys[0], version: 0 }] }, 'MALFORMED_INPUT'],
      [{ ...good, keys: [{ ...good.keys[0], version: '1' }] }, 'MALFORMED_INPUT'],
      [{ ...good, keys: [{ ...good.keys[0], key: Buffer.from(bytes(16)).toString('base64') }] }, 'INVALID_KEY'],
      [{ ...good, keys: [{ ...good.keys[0], key: '***' }] }, 'MALFORMED_INPUT'],
      [{ ...good, keys: [{ ...good.keys[0], created: 'yesterday' }] }, 'MALFORMED_INPUT'],
      [{ ...good, keys: [{ ...good.keys[0], note: 'x' }] }, 'MALFORMED_INPUT'],
      [[good], 'MALFORMED_INPUT'],
    ];
    for (const [doc, c] of variants) expect(code(() => parseKeyFile(JSON.stringify(doc))), JSON.stringify(doc)).toBe(c);
    expect(code(() => parseKeyFile('{'))).toBe('MALFORMED_INPUT');
    expect(code(() => parseKeyFile(' '.repeat((1 << 20) + 1)))).toBe('MALFORMED_INPUT');
  });
});

describe('LocalKeyProvider', () => {
  it('answers getKey/currentVersion and UNKNOWN_KEY for anything it lacks', () => {
    const ring = Keyring.generate('a', { random: counter() }).rotate({ random: () => bytes(32, 9) });
    const p = LocalKeyProvider.fromKeyFile(serializeKeyFile(ring));
    expect(p.currentVersion('a')).toBe(2);
    expect(p.getKey('a', 2)).toEqual(bytes(32, 9));
    expect(p.kids()).toEqual(['a']);
    expect(code(() => p.getKey('a', 3))).toBe('UNKNOWN_KEY');
    expect(code(() => p.getKey('b', 1))).toBe('UNKNOWN_KEY');
    expect(code(() => p.currentVersion('b'))).toBe('UNKNOWN_KEY');
    expect(code(() => new LocalKeyProvider([ring, ring]))).toBe('INVALID_KEY');
  });
});

describe('passphrase-derived master keys', () => {
  const salt = bytes(16, 0xa0);
  const pbkdf2: PassphraseKdfParams = { kdf: 'pbkdf2-sha256', salt, iterations: 100_000 };
  const scrypt: PassphraseKdfParams = { kdf: 'scrypt', salt, N: 1 << 15, r: 8, p: 1 };

  it('PBKDF2-SHA256 equals node:crypto on the NFC-normalized UTF-8 passphrase', () => {
    const got = deriveMasterKeyFromPassphrase('correct horse battery staple', pbkdf2);
    expect(Buffer.from(got).toString('hex')).toBe(pbkdf2Sync('correct horse battery staple', salt, 100_000, 32, 'sha256').toString('hex'));
    // "é" typed precomposed (NFC) or decomposed (NFD) is the same passphrase.
    expect(deriveMasterKeyFromPassphrase('caf\u00e9-pass', pbkdf2)).toEqual(deriveMasterKeyFromPassphrase('cafe\u0301-pass', pbkdf2));
    expect(deriveMasterKeyFromPassphrase('caf\u00e9-pass', pbkdf2)).toEqual(new Uint8Array(pbkdf2Sync(Buffer.from('caf\u00e9-pass', 'utf8'), salt, 100_000, 32, 'sha256')));
  });

  it('pins the worked examples of README.md part B', () => {
    const pw = 'correct horse battery staple';
    expect(Buffer.from(deriveMasterKeyFromPassphrase(pw, pbkdf2)).toString('hex')).toBe('6cf04f530d2e5ebe67fb641f1026a995b9ff0dbd63aab147fc2cef9494f2984e');
    expect(Buffer.from(deriveMasterKeyFromPassphrase(pw, scrypt)).toString('hex')).toBe('48accd5e46943dd88593e81452a26ebc748d9daa457d14b6277d95d2666a9895');
  });

  it('scrypt equals node:crypto, and the portable backend agrees', () => {
    const want = scryptSync('pw', salt, 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 << 20 });
    expect(Buffer.from(deriveMasterKeyFromPassphrase('pw', scrypt))).toEqual(want);
    expect(Buffer.from(deriveMasterKeyFromPassphrase('pw', scrypt, getPortableCryptoBackend()))).toEqual(want);
  });

  it('refuses parameters below the minimums (and above the maximums) with INVALID_KEY', () => {
    const bad: PassphraseKdfParams[] = [
      { ...pbkdf2, iterations: 99_999 },
      { ...pbkdf2, iterations: 1 },
      { ...pbkdf2, iterations: 10_000_001 },
      { ...pbkdf2, salt: bytes(15) },
      { ...scrypt, N: 1 << 14 },
      { ...scrypt, N: (1 << 15) + 1 },
      { ...scrypt, N: 1 << 21 },
      { ...scrypt, r: 7 },
      { ...scrypt, p: 0 },
      { ...scrypt, p: 17 },
      { ...scrypt, N: 1 << 20, r: 16 },
    ];
    for (const params of bad) expect(code(() => deriveMasterKeyFromPassphrase('pw', params)), JSON.stringify({ ...params, salt: params.salt.length })).toBe('INVALID_KEY');
    expect(code(() => deriveMasterKeyFromPassphrase('', pbkdf2))).toBe('INVALID_KEY');
    expect(code(() => deriveMasterKeyFromPassphrase('\ud800', pbkdf2))).toBe('RangeError');
  });

  it('parameters round-trip through their JSON form; bad JSON is MALFORMED_INPUT, weak JSON is INVALID_KEY', () => {
    for (const params of [pbkdf2, scrypt, newPassphraseParams('scrypt', () => bytes(16)), newPassphraseParams('pbkdf2-sha256')]) {
      const json = JSON.parse(JSON.stringify(passphraseParamsToJson(params)));
      expect(passphraseParamsFromJson(json)).toEqual(params);
    }
    expect(passphraseParamsToJson(newPassphraseParams('pbkdf2-sha256', () => bytes(16)))).toEqual({
      kdf: 'pbkdf2-sha256',
      salt: Buffer.from(bytes(16)).toString('base64'),
      iterations: PASSPHRASE_KDF_LIMITS.pbkdf2DefaultIterations,
    });
    const j = passphraseParamsToJson(pbkdf2);
    expect(code(() => passphraseParamsFromJson({ ...j, iterations: 1000 }))).toBe('INVALID_KEY');
    expect(code(() => passphraseParamsFromJson({ ...j, iterations: '100000' }))).toBe('MALFORMED_INPUT');
    expect(code(() => passphraseParamsFromJson({ ...j, kdf: 'argon2id' }))).toBe('MALFORMED_INPUT');
    expect(code(() => passphraseParamsFromJson({ ...j, extra: true }))).toBe('MALFORMED_INPUT');
    expect(code(() => passphraseParamsFromJson({ ...j, salt: '%%' }))).toBe('MALFORMED_INPUT');
    expect(code(() => passphraseParamsFromJson(null))).toBe('MALFORMED_INPUT');
  });

  it('the key depends on every input (property, cheap PBKDF2 via the minimum)', () => {
    const base = Buffer.from(deriveMasterKeyFromPassphrase('pw', pbkdf2)).toString('hex');
    expect(Buffer.from(deriveMasterKeyFromPassphrase('pw', { ...pbkdf2, iterations: 100_001 })).toString('hex')).not.toBe(base);
    expect(Buffer.from(deriveMasterKeyFromPassphrase('pw', { ...pbkdf2, salt: bytes(16, 1) })).toString('hex')).not.toBe(base);
    expect(Buffer.from(deriveMasterKeyFromPassphrase('pW', pbkdf2)).toString('hex')).not.toBe(base);
  });
});

describe('key file property', () => {
  it('any keyring survives serialize → parse', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/), fc.uniqueArray(fc.integer({ min: 1, max: 0xffffffff }), { minLength: 1, maxLength: 5 }), (kid, versions) => {
        const ring = new Keyring(
          kid,
          versions.map((version) => ({ version, key: createHash('sha256').update(String(version)).digest(), created: '2025-01-01T00:00:00Z' })),
        );
        const back = parseKeyFile(serializeKeyFile(ring));
        expect(back.kid).toBe(kid);
        expect(back.currentVersion).toBe(Math.max(...versions));
        for (const v of versions) expect(back.key(v)).toEqual(ring.key(v));
      }),
      { numRuns: 50 },
    );
  });
});
