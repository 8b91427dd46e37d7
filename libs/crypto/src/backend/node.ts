// Node build of '#crypto-backend': node:crypto (OpenSSL) for everything it has, @noble for BLAKE3.
import {
  type KeyObject,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  hash,
  hkdfSync,
  pbkdf2Sync,
  randomBytes,
  randomFillSync,
  scryptSync,
  sign,
  verify,
} from 'node:crypto';
import { getHashSuite } from '@merklesync/merkle';
import { perKeyArray } from './key-cache.ts';
import { type NativeGcm, loadNativeGcm, nodeCryptoGcmSeal } from './native.ts';
import { _sealInto, portableBackend } from './portable.ts';
import type { CryptoBackend } from './types.ts';

// DER prefixes that wrap a raw 32-byte Ed25519 seed (PKCS#8) or public key (SPKI), RFC 8410.
const _PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);
const _SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

/** KeyObjects cost a DER parse each; checkpoints verify against a handful of keys again and again. */
const _CACHE_MAX = 256;
const _keyCache = new Map<string, KeyObject>();
function _cached(kind: 'sk' | 'pk', raw: Uint8Array, make: () => KeyObject): KeyObject {
  const id = kind + Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('hex');
  let k = _keyCache.get(id);
  if (!k) {
    if (_keyCache.size >= _CACHE_MAX) _keyCache.clear();
    k = make();
    _keyCache.set(id, k);
  }
  return k;
}
const _der = (prefix: Uint8Array, raw: Uint8Array): Buffer => Buffer.concat([prefix, raw]);
const _privateKey = (seed: Uint8Array): KeyObject =>
  _cached('sk', seed, () => createPrivateKey({ key: _der(_PKCS8_PREFIX, seed), format: 'der', type: 'pkcs8' }));
const _publicKey = (pub: Uint8Array): KeyObject =>
  _cached('pk', pub, () => createPublicKey({ key: _der(_SPKI_PREFIX, pub), format: 'der', type: 'spki' }));
const _u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

// AES keys as KeyObjects, cached per key array: given raw bytes, node:crypto builds a KeyObject on every
// createCipheriv, which measured ≈ 3× the cost of the whole 150-byte seal (Node 24: 18 µs vs 6 µs per block).
const _aesKey = perKeyArray((raw): KeyObject => createSecretKey(raw));

// HMAC-SHA256 (RFC 2104) as H((K ^ opad) || H((K ^ ipad) || m)) on @merklesync/merkle's SHA-256 (native when the
// addon is built): two native calls instead of a createHmac object per call. The padded key blocks are cached per
// key array (commitment keys are long-lived).
const _sha256 = getHashSuite('sha256');
interface _Pads {
  readonly ipad: Uint8Array;
  readonly opad: Uint8Array;
}
const _hmacPads = perKeyArray((key): _Pads => {
  const block = key.length > 64 ? _sha256.digest(key) : key;
  const ipad = new Uint8Array(64).fill(0x36);
  const opad = new Uint8Array(64).fill(0x5c);
  for (let i = 0; i < block.length; i++) {
    ipad[i]! ^= block[i]!;
    opad[i]! ^= block[i]!;
  }
  return { ipad, opad };
});
function _hmacSha256(key: Uint8Array, msg: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array) || !(msg instanceof Uint8Array)) return _u8(createHmac('sha256', key).update(msg).digest());
  const p = _hmacPads(key);
  return _sha256.digestPrefixed(p.opad, _sha256.digestPrefixed(p.ipad, msg));
}

// Small random reads (12-byte nonces, one per sealed row) come from a pool refilled by randomFillSync: a
// randomBytes call per nonce costs a native round trip and a Buffer. Every pool byte is handed out once and
// zeroed as it is taken.
const _POOL_BYTES = 4096;
const _POOLED_MAX = 64;
const _pool = new Uint8Array(_POOL_BYTES);
let _poolAt = _POOL_BYTES;
function _randomBytes(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0 || n > _POOLED_MAX) return _u8(randomBytes(n));
  if (_poolAt + n > _POOL_BYTES) {
    randomFillSync(_pool);
    _poolAt = 0;
  }
  const out = _pool.slice(_poolAt, _poolAt + n);
  _pool.fill(0, _poolAt, _poolAt + n);
  _poolAt += n;
  return out;
}

// OpenSSL's GCM throughout: its GHASH is constant-time (CLMUL). A faster JS GHASH with key-dependent table
// lookups was measured (~10 µs/row less) and rejected: ingest holds the data keys, so no timing side channel.
const _aesGcmEncrypt = (key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array =>
  nodeCryptoGcmSeal(_aesKey(key), nonce, plaintext, aad);

// The same OpenSSL functions called from the crypto addon when it is built (native.ts): one call per seal with the
// key schedule kept per key, instead of a Cipheriv object per row (≈ 7 µs of ≈ 9 µs per 300-byte row). The addon
// takes 12-byte nonces only; other lengths, and a node without the addon, use node:crypto. Loaded at the first seal:
// services that never seal (merkle, prover, gateway) do not load it.
const _native = (nonce: Uint8Array): NativeGcm | undefined => (nonce instanceof Uint8Array && nonce.length === 12 ? loadNativeGcm() : undefined);

/** node:crypto primitives (native OpenSSL); byte-identical to the portable backend. */
export const nodeBackend: CryptoBackend = {
  name: 'node',
  aesGcmEncrypt(key, nonce, plaintext, aad) {
    const gcm = _native(nonce);
    if (gcm === undefined || !(plaintext instanceof Uint8Array)) return _aesGcmEncrypt(key, nonce, plaintext, aad);
    const out = new Uint8Array(plaintext.length + 16);
    gcm.sealInto(key, nonce, plaintext, aad, out);
    return out;
  },
  aesGcmEncryptInto(key, nonce, plaintext, aad, out) {
    const gcm = _native(nonce);
    if (gcm !== undefined) gcm.sealInto(key, nonce, plaintext, aad, out);
    else _sealInto(out, plaintext, () => _aesGcmEncrypt(key, nonce, plaintext, aad));
  },
  aesGcmDecrypt(key, nonce, sealed, aad) {
    if (sealed.length < 16) return null;
    try {
      const d = createDecipheriv('aes-256-gcm', _aesKey(key), nonce, { authTagLength: 16 });
      d.setAAD(aad);
      d.setAuthTag(sealed.subarray(sealed.length - 16));
      return _u8(Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]));
    } catch {
      return null;
    }
  },
  sha256: (msg) => _u8(hash('sha256', msg, 'buffer')),
  hmacSha256: _hmacSha256,
  hkdfSha256: (ikm, salt, info, length) => new Uint8Array(hkdfSync('sha256', ikm, salt, info, length)),
  pbkdf2Sha256: (password, salt, iterations, length) => _u8(pbkdf2Sync(password, salt, iterations, length, 'sha256')),
  scrypt: (password, salt, { N, r, p }, length) =>
    // maxmem: OpenSSL's default (32 MiB) refuses N=2^17, r=8 (128 MiB), a common interactive setting.
    _u8(scryptSync(password, salt, length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 })),
  blake3Keyed: (key, msg) => portableBackend.blake3Keyed(key, msg),
  ed25519PublicKey(seed) {
    const jwk = createPublicKey(_privateKey(seed)).export({ format: 'jwk' });
    return _u8(Buffer.from(jwk.x!, 'base64url'));
  },
  ed25519Sign: (seed, msg) => _u8(sign(null, msg, _privateKey(seed))),
  ed25519Verify(publicKey, msg, signature) {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    try {
      return verify(null, msg, _publicKey(publicKey), signature);
    } catch {
      return false;
    }
  },
  randomBytes: _randomBytes,
};

export { nodeBackend as backend };
