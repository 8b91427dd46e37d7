import { backend } from '#crypto-backend';
import { portableBackend } from './portable.ts';
import type { CryptoBackend } from './types.ts';

export type { CryptoBackend } from './types.ts';

/**
 * The primitives for this platform: node:crypto in Node, @noble elsewhere.
 * @example getCryptoBackend().sha256(bytes)
 */
export function getCryptoBackend(): CryptoBackend {
  return backend;
}

/**
 * The pure-JS primitives, whatever the platform (cross-checks; what a browser client runs).
 * @example getPortableCryptoBackend().name // 'portable'
 */
export function getPortableCryptoBackend(): CryptoBackend {
  return portableBackend;
}
