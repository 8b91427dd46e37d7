import type { HashSuiteName } from './hash/suite.ts';

/**
 * Proof kinds. The JSON form carries the string; the binary form carries the code in byte 1.
 * Both encodings are specified in libs/merkle/README.md.
 */
export const ProofKind = {
  LogInclusion: 'log-inclusion',
  LogConsistency: 'log-consistency',
  MapMembership: 'map-membership',
  MapNonMembership: 'map-non-membership',
  MapMulti: 'map-multi',
} as const;
export type ProofKind = (typeof ProofKind)[keyof typeof ProofKind];

/** Binary kind codes (byte 1 of every binary proof). */
export const ProofKindCode: Readonly<Record<ProofKind, number>> = {
  'log-inclusion': 1,
  'log-consistency': 2,
  'map-membership': 3,
  'map-non-membership': 4,
  'map-multi': 5,
};

/** Binary suite codes (byte 2 of every binary proof). */
export const SuiteCode: Readonly<Record<HashSuiteName, number>> = { sha256: 0, blake3: 1 };

/** Version of both proof encodings: JSON field `"v"`, binary byte 0. */
export const PROOF_FORMAT_VERSION = 1;

/** Upper bound on any list inside a decoded proof: rejects absurd lengths before allocating. */
export const MAX_PROOF_ITEMS = 1 << 20;
