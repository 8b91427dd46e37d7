// The prover's bus API, as a client sees it: request subjects `<prefix>.<kind>` and the reply headers.
// apps/prover/README.md "Subjects" and "Replies and errors" are the contract.

/** The request kinds (the subject's last tokens). A const object, not a TS enum. */
export const ProverRequestKind = {
  /** GenerateProofRequest with map_keys holding ONE key → membership or non-membership proof. */
  MapProve: 'map.prove',
  /** GenerateProofRequest with map_keys holding 1..max keys → one multiproof. */
  MapMulti: 'map.multi',
  /** GenerateProofRequest with log_inclusion → RFC 9162 inclusion proof. */
  LogInclusion: 'log.inclusion',
  /** GenerateProofRequest with log_consistency → RFC 9162 consistency proof. */
  LogConsistency: 'log.consistency',
  /** GetCheckpointRequest without sequence → the latest checkpoint. */
  CheckpointLatest: 'checkpoint.latest',
  /** GetCheckpointRequest with sequence → that checkpoint. */
  CheckpointGet: 'checkpoint.get',
} as const;
export type ProverRequestKind = (typeof ProverRequestKind)[keyof typeof ProverRequestKind];

/** The default subject prefix of the prover (`PROVER_SUBJECT_PREFIX`). */
export const DEFAULT_PROVER_PREFIX = 'ms.prover';

/**
 * The subject of one request kind.
 * @example proverSubject('ms.prover', ProverRequestKind.MapProve) // 'ms.prover.map.prove'
 */
export function proverSubject(prefix: string, kind: ProverRequestKind): string {
  return `${prefix}.${kind}`;
}

/** Reply headers: the status (a gRPC canonical code name) and, for errors, a one-line message. */
export const ReplyHeaders = {
  Status: 'Ms-Status',
  ErrorMessage: 'Ms-Error-Message',
} as const;

/** Request header naming a map root (64 hex digits) to prove against instead of the table's current root. */
export const MAP_ROOT_HEADER = 'Ms-Map-Root';
