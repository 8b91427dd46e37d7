import { suites } from '#hash-backend';
import { MerkleError, MerkleErrorCode } from '../errors.ts';
import { portableSuites } from './portable.ts';
import { HASH_SUITE_NAMES, type HashSuite, type HashSuiteName } from './suite.ts';

export type { HashSuite, HashSuiteName } from './suite.ts';
export { HASH_SUITE_NAMES } from './suite.ts';

/** True when `name` is a suite this library implements. @example isHashSuiteName('sha256') // true */
export function isHashSuiteName(name: unknown): name is HashSuiteName {
  return typeof name === 'string' && (HASH_SUITE_NAMES as readonly string[]).includes(name);
}

/**
 * The fastest available implementation of a suite (native in Node when built, WebAssembly otherwise).
 * @throws MerkleError(UNKNOWN_HASH_SUITE) for a name other than 'sha256' or 'blake3'.
 * @example const h = getHashSuite('sha256'); h.digest(new Uint8Array())
 */
export function getHashSuite(name: string = 'sha256'): HashSuite {
  if (!isHashSuiteName(name)) throw new MerkleError(MerkleErrorCode.UnknownHashSuite, `unknown hash suite: ${String(name)}`);
  return suites[name];
}

/**
 * The WebAssembly implementation of a suite, whatever the platform (used to cross-check accelerated ones).
 * @throws MerkleError(UNKNOWN_HASH_SUITE) for an unknown name.
 * @example getPortableHashSuite('blake3')
 */
export function getPortableHashSuite(name: string = 'sha256'): HashSuite {
  if (!isHashSuiteName(name)) throw new MerkleError(MerkleErrorCode.UnknownHashSuite, `unknown hash suite: ${String(name)}`);
  return portableSuites[name];
}
