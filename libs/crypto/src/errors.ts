/**
 * Codes of the domain errors raised by `@merklesync/crypto`. A const object (erasable TS), switched on by
 * callers; messages are for people.
 */
export const CryptoErrorCode = {
  /** Truncated, oversized or garbled encoding (block, key file, note, policy, handshake message...). */
  MalformedInput: 'MALFORMED_INPUT',
  /** Authentication failed: wrong key, wrong AAD, or tampered ciphertext/tag/nonce/header. */
  DecryptionFailed: 'DECRYPTION_FAILED',
  /** The key id/version a block or signature names is not in the keyring / key set. */
  UnknownKey: 'UNKNOWN_KEY',
  /** A signature, cosignature or checkpoint did not verify, or a policy threshold was not met. */
  VerificationFailed: 'VERIFICATION_FAILED',
  /** A value that canonical encoding cannot represent (unsupported type, NaN in JSON, lone surrogate...). */
  UnsupportedValue: 'UNSUPPORTED_VALUE',
  /** A handshake challenge that expired or was already used (replay). */
  Expired: 'EXPIRED',
  Replayed: 'REPLAYED',
  /** Key material that is not acceptable (wrong length, weak passphrase parameters, ...). */
  InvalidKey: 'INVALID_KEY',
} as const;
export type CryptoErrorCode = (typeof CryptoErrorCode)[keyof typeof CryptoErrorCode];

/**
 * The one error class of this library; `code` says what went wrong.
 * @example if (e instanceof CryptoError && e.code === CryptoErrorCode.DecryptionFailed) ...
 */
export class CryptoError extends Error {
  readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CryptoError';
    this.code = code;
  }
}
