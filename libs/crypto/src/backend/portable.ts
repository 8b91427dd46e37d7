import { gcm } from '@noble/ciphers/aes.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { blake3 } from '@noble/hashes/blake3.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { scrypt } from '@noble/hashes/scrypt.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import type { CryptoBackend } from './types.ts';

/**
 * aesGcmEncryptInto on top of an aesGcmEncrypt: checks `out`'s size, then copies the sealed bytes into it.
 * @throws TypeError for a non-Uint8Array `out`; RangeError for one that is not plaintext.length + 16 bytes.
 */
export function _sealInto(out: Uint8Array, plaintext: Uint8Array, seal: () => Uint8Array): void {
  if (!(out instanceof Uint8Array)) throw new TypeError('out must be a Uint8Array');
  if (out.length !== plaintext.length + 16) throw new RangeError(`out must be plaintext.length + 16 bytes, got ${out.length}`);
  out.set(seal());
}

/** Pure-JS primitives (@noble/*): browsers, edge clients, and the reference for cross-checks. */
export const portableBackend: CryptoBackend = {
  name: 'portable',
  aesGcmEncrypt: (key, nonce, plaintext, aad) => gcm(key, nonce, aad).encrypt(plaintext),
  aesGcmEncryptInto: (key, nonce, plaintext, aad, out) => _sealInto(out, plaintext, () => gcm(key, nonce, aad).encrypt(plaintext)),
  aesGcmDecrypt(key, nonce, sealed, aad) {
    if (sealed.length < 16) return null;
    try {
      return gcm(key, nonce, aad).decrypt(sealed);
    } catch {
      return null;
    }
  },
  sha256: (msg) => sha256(msg),
  hmacSha256: (key, msg) => hmac(sha256, key, msg),
  hkdfSha256: (ikm, salt, info, length) => hkdf(sha256, ikm, salt, info, length),
  pbkdf2Sha256: (password, salt, iterations, length) => pbkdf2(sha256, password, salt, { c: iterations, dkLen: length }),
  scrypt: (password, salt, { N, r, p }, length) => scrypt(password, salt, { N, r, p, dkLen: length }),
  blake3Keyed: (key, msg) => blake3(msg, { key }),
  ed25519PublicKey: (seed) => ed25519.getPublicKey(seed),
  ed25519Sign: (seed, msg) => ed25519.sign(msg, seed),
  ed25519Verify(publicKey, msg, signature) {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    try {
      return ed25519.verify(signature, msg, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
  randomBytes: (n) => randomBytes(n),
};

export { portableBackend as backend };
