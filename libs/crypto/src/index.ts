// Public API of @merklesync/crypto. Byte formats: libs/crypto/README.md.
export { CryptoError, CryptoErrorCode } from './errors.ts';
export { getCryptoBackend, getPortableCryptoBackend, type CryptoBackend } from './backend/index.ts';
