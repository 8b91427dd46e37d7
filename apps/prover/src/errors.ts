// The prover's error type and the ONE mapping from any thrown value to a reply status. Status names are
// gRPC's canonical codes, so the gateway can pass them through unchanged.
import { MerkleError, MerkleErrorCode } from '@merklesync/merkle';
import { ProtocolError } from '@merklesync/protocol';
import { StoreError, StoreErrorCode } from '@merklesync/store';

/** Status of a reply (header `Ms-Status`). A const object, not a TS enum. */
export const ProverStatus = {
  Ok: 'OK',
  /** The request is malformed or asks for something impossible (index ≥ size, wrong key length...). */
  InvalidArgument: 'INVALID_ARGUMENT',
  /** An unknown table, checkpoint, log or map root. */
  NotFound: 'NOT_FOUND',
  /** Well-formed, but beyond what the store holds yet (a tree size above the stored log size). */
  OutOfRange: 'OUT_OF_RANGE',
  /** The reply would exceed the bus's message size limit (too many keys in one multiproof). */
  ResourceExhausted: 'RESOURCE_EXHAUSTED',
  /** The store cannot be reached right now; retrying may help. */
  Unavailable: 'UNAVAILABLE',
  /** A bug or corrupt store; logged with its stack. */
  Internal: 'INTERNAL',
} as const;
export type ProverStatus = (typeof ProverStatus)[keyof typeof ProverStatus];

/** Error codes of {@link ProverError}: every status but OK. */
export type ProverErrorCode = Exclude<ProverStatus, 'OK'>;

/**
 * A domain error of the prover; its code is the reply status.
 * @example throw new ProverError(ProverStatus.NotFound, 'no table pg/public.users')
 */
export class ProverError extends Error {
  readonly code: ProverErrorCode;
  constructor(code: ProverErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProverError';
    this.code = code;
  }
}

/** What a failed request replies with; `log` says whether the failure deserves a stack in the logs. */
export interface ErrorReply {
  readonly status: ProverErrorCode;
  readonly message: string;
  readonly log: boolean;
}

function _fromStore(e: StoreError): ErrorReply {
  switch (e.code) {
    case StoreErrorCode.OutOfRange:
      return { status: ProverStatus.OutOfRange, message: e.message, log: false };
    case StoreErrorCode.Database:
      return { status: ProverStatus.Unavailable, message: 'store unavailable', log: true };
    // A missing or corrupt node the store itself should hold: the store is damaged, not the request.
    case StoreErrorCode.NotFound:
    case StoreErrorCode.CorruptNode:
    case StoreErrorCode.CorruptBlock:
    case StoreErrorCode.InvalidConfig:
    case StoreErrorCode.SchemaTooNew:
    case StoreErrorCode.MigrationChanged:
    case StoreErrorCode.CheckpointOutOfOrder:
      return { status: ProverStatus.Internal, message: `store: ${e.code}`, log: true };
    default: {
      const never: never = e.code;
      return { status: ProverStatus.Internal, message: `store: ${String(never)}`, log: true };
    }
  }
}

/**
 * Maps anything a handler threw to a reply status and message. Unknown errors become INTERNAL with a
 * generic message (their text may leak internals), and are flagged for logging.
 * @example const { status, message } = errorReply(e)
 */
export function errorReply(e: unknown): ErrorReply {
  if (e instanceof ProverError) return { status: e.code, message: e.message, log: e.code === ProverStatus.Internal };
  if (e instanceof StoreError) return _fromStore(e);
  if (e instanceof ProtocolError) return { status: ProverStatus.InvalidArgument, message: e.message, log: false };
  // libs/merkle and libs/store check argument values with RangeError (requests are validated before, so this
  // is a second line). A TypeError is far more likely a bug than bad input: INTERNAL, below.
  if (e instanceof RangeError) return { status: ProverStatus.InvalidArgument, message: e.message, log: false };
  if (e instanceof MerkleError) {
    // A node reachable from a stored root is missing: the store is incomplete.
    if (e.code === MerkleErrorCode.NodeNotFound) return { status: ProverStatus.Internal, message: 'store: map node missing', log: true };
    return { status: ProverStatus.InvalidArgument, message: e.message, log: false };
  }
  return { status: ProverStatus.Internal, message: 'internal error', log: true };
}
