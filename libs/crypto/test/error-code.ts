import { CryptoError } from '../src/errors.ts';

/**
 * What `f` throws, as a comparable string: a CryptoError's code, 'TypeError' / 'RangeError' for argument
 * errors, `untyped …` for anything else (which a test should never expect), undefined when it returns.
 */
export function errorCode(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof CryptoError) return e.code;
    if (e instanceof TypeError) return 'TypeError';
    if (e instanceof RangeError) return 'RangeError';
    return `untyped ${String(e)}`;
  }
  return undefined;
}
