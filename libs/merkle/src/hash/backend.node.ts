// Node build of '#hash-backend': SHA-256 from the native addon when it is built and loads
// (see native.ts and ../../docs/native.md), the WebAssembly suites otherwise.
import type { HashSuite, HashSuiteName } from './suite.ts';
import { loadNativeSha256 } from './native.ts';
import { portableSuites } from './portable.ts';

/**
 * The fastest suites this Node process can run.
 * @throws never (a missing addon falls back to the portable suite).
 * @example suites.sha256.digest(new Uint8Array())
 */
export const suites: Readonly<Record<HashSuiteName, HashSuite>> = Object.freeze({
  ...portableSuites,
  sha256: loadNativeSha256() ?? portableSuites.sha256,
});
