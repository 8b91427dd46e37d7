import { createBLAKE3, createSHA256, type IHasher } from 'hash-wasm';
import type { HashSuite, HashSuiteName } from './suite.ts';

/**
 * A HashSuite over a hash-wasm hasher (WebAssembly; runs in Node and browsers).
 * One hasher instance is reused: every method runs init/update/digest to completion synchronously,
 * so reuse is safe in single-threaded JS.
 */
function _suiteFromHasher(name: HashSuiteName, h: IHasher): HashSuite {
  const digestPrefixed = (prefix: Uint8Array, msg: Uint8Array): Uint8Array => {
    h.init();
    h.update(prefix);
    h.update(msg);
    return h.digest('binary');
  };
  return {
    name,
    outputLength: 32,
    digest(msg) {
      h.init();
      h.update(msg);
      return h.digest('binary');
    },
    digestPrefixed,
    digestPair(prefix, a, b) {
      h.init();
      h.update(prefix);
      h.update(a);
      h.update(b);
      return h.digest('binary');
    },
    digestPairs(prefix, pairs, count, out, outOffset = 0) {
      for (let i = 0; i < count; i++) {
        h.init();
        h.update(prefix);
        h.update(pairs.subarray(64 * i, 64 * i + 64));
        out.set(h.digest('binary'), outOffset + 32 * i);
      }
    },
    digestPrefixedMany(prefix, msgs, out) {
      for (let i = 0; i < msgs.length; i++) out.set(digestPrefixed(prefix, msgs[i]!), 32 * i);
    },
  };
}

/** The portable suites, ready after this module's top-level await. */
export const portableSuites: Readonly<Record<HashSuiteName, HashSuite>> = {
  sha256: _suiteFromHasher('sha256', await createSHA256()),
  blake3: _suiteFromHasher('blake3', await createBLAKE3(256)),
};
