// Public API of @merklesync/prover-client: the prover's bus API (apps/prover/README.md) as typed calls.
export {
  ProverClient,
  type CheckpointResult,
  type MapProofOptions,
  type ProofResult,
  type ProverClientOptions,
  type ProverRequester,
  type RequestCallOptions,
} from './client.ts';
export { ProverClientError, ProverClientErrorCode, statusToCode } from './errors.ts';
export { DEFAULT_PROVER_PREFIX, MAP_ROOT_HEADER, ProverRequestKind, ReplyHeaders, proverSubject } from './subjects.ts';
