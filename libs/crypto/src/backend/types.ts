/**
 * The primitives libs/crypto builds on. Two implementations, byte-identical: Node's (node:crypto, native
 * OpenSSL) and a portable one (@noble/*, pure JS, for browsers and edge clients). Package "imports"
 * conditions pick one as '#crypto-backend'; `portableBackend` is always available for cross-checks.
 * All functions are synchronous and never keep references to their inputs.
 */
export interface CryptoBackend {
  readonly name: 'node' | 'portable';
  /** AES-256-GCM with a 12-byte nonce and 16-byte tag: returns ciphertext || tag. */
  aesGcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /**
   * aesGcmEncrypt written into `out`, which must be exactly plaintext.length + 16 bytes and must not overlap the
   * inputs (saves the caller an array and a copy).
   * @throws RangeError for a wrong-sized `out`.
   */
  aesGcmEncryptInto(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, out: Uint8Array): void;
  /** Inverse of aesGcmEncrypt; null when authentication fails (never throws for bad tags). */
  aesGcmDecrypt(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | null;
  sha256(msg: Uint8Array): Uint8Array;
  hmacSha256(key: Uint8Array, msg: Uint8Array): Uint8Array;
  /** RFC 5869 HKDF with SHA-256. */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /** RFC 8018 PBKDF2 with HMAC-SHA256. */
  pbkdf2Sha256(password: Uint8Array, salt: Uint8Array, iterations: number, length: number): Uint8Array;
  /** RFC 7914 scrypt. */
  scrypt(password: Uint8Array, salt: Uint8Array, params: { N: number; r: number; p: number }, length: number): Uint8Array;
  /** BLAKE3 keyed hash (32-byte key), 32-byte output. */
  blake3Keyed(key: Uint8Array, msg: Uint8Array): Uint8Array;
  /** Ed25519 (RFC 8032): public key of a 32-byte seed. */
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  /** Ed25519 signature (64 bytes) of msg by the 32-byte seed. */
  ed25519Sign(seed: Uint8Array, msg: Uint8Array): Uint8Array;
  /** Ed25519 verification (RFC 8032 §5.1.7, cofactorless); false for any malformed input. */
  ed25519Verify(publicKey: Uint8Array, msg: Uint8Array, signature: Uint8Array): boolean;
  /** Cryptographically secure random bytes. */
  randomBytes(n: number): Uint8Array;
}
