import { expect } from 'vitest';
import { MerkleError, MerkleErrorCode } from '../src/errors.ts';

/** Asserts that `f` throws a MerkleError with code MALFORMED_INPUT (and nothing else). */
export function expectMalformed(f: () => unknown): void {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a MALFORMED_INPUT error').toBeInstanceOf(MerkleError);
  expect((thrown as MerkleError).code).toBe(MerkleErrorCode.MalformedInput);
}
