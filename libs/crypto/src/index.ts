// Public API of @merklesync/crypto. Byte formats: libs/crypto/README.md.
export { CryptoError, CryptoErrorCode } from './errors.ts';
export { getCryptoBackend, getPortableCryptoBackend, type CryptoBackend } from './backend/index.ts';
export * from './encoding/index.ts';
export * from './keys/index.ts';
export * from './envelope/index.ts';
export * from './commit/index.ts';
export * from './note/index.ts';
export * from './checkpoint/index.ts';
export * from './device/index.ts';
