// Public API of @merklesync/protocol. Wire formats, event catalogue and subjects: libs/protocol/README.md.
export { ProtocolError, ProtocolErrorCode } from './errors.ts';

// Generated protobuf code (merklesync.v1): message types, their schemas (for create/toBinary/fromBinary/
// toJson of @bufbuild/protobuf), enums and the service descriptor.
export * from './gen/merklesync/v1/common_pb.ts';
export * from './gen/merklesync/v1/proofs_pb.ts';
export * from './gen/merklesync/v1/events_pb.ts';
export * from './gen/merklesync/v1/service_pb.ts';

export { CURRENT_SCHEMA_VERSION, EventLimits, SUPPORTED_SCHEMA_VERSIONS } from './events/limits.ts';
export { EventKind, decodeEvent, encodeEvent, eventSchema, newChangeEvent, newEvent, validateEvent, type ChangeEventFields, type EventMessages } from './events/codec.ts';
export { proofFromMessage, proofToMessage } from './proofs.ts';
export { checkpointToMessage, consistencyToMessage, suiteToWire, tableRootProofToMessage, type CheckpointFields } from './messages.ts';
export {
  CHECKPOINTS_SUBJECT,
  PROXY_COMMITMENTS_SUBJECT,
  REPLAY_RESULTS_SUBJECT,
  SUBJECT_PREFIX,
  Streams,
  SubjectKind,
  blocksSubject,
  changesSubject,
  deadLetterSubject,
  parseSubject,
  partitionedFilter,
  rootsSubject,
  subjectToken,
  subjectTokenToName,
  type ParsedSubject,
  type StreamSpec,
} from './subjects.ts';
export {
  TableRootProofFailure,
  checkTableRootProof,
  proveTableRoot,
  stateRoot,
  stateTableName,
  verifyTableRootProof,
  type TableRootExpectation,
  type TableRootInclusion,
  type TableRootProofCheck,
  type TableRootProofLike,
  type TableState,
} from './state-root.ts';
