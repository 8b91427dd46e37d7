// The gateway's domain error and the ONE normalisation of anything thrown below the transports into it.
// Each transport then maps GatewayErrorCode with one exhaustive switch (src/grpc/grpc-errors.ts,
// src/rest/http-errors.filter.ts).
import { Logger } from '@nestjs/common';
import { MerkleError, MerkleErrorCode } from '@merklesync/merkle';
import { ProtocolError } from '@merklesync/protocol';
import { ProverClientError, ProverClientErrorCode } from '@merklesync/prover-client';
import { StoreError, StoreErrorCode } from '@merklesync/store';

/** Domain error codes. A const object, not a TS enum. */
export const GatewayErrorCode = {
  /** Malformed input: bad hex, wrong lengths, conflicting options. */
  InvalidArgument: 'INVALID_ARGUMENT',
  /** Unknown table, checkpoint, map root or row. */
  NotFound: 'NOT_FOUND',
  /** Well-formed but not answerable in the current state (e.g. the block was superseded after the checkpoint). */
  Conflict: 'CONFLICT',
  /** A size or sequence beyond what exists yet. */
  OutOfRange: 'OUT_OF_RANGE',
  /** The answer would be too large (ask for fewer keys, use SyncRequest). */
  TooLarge: 'TOO_LARGE',
  /** A dependency (Postgres, NATS, the prover) is unavailable or too slow; retry. */
  Unavailable: 'UNAVAILABLE',
  /** Not served by this gateway (by design or not yet). */
  NotImplemented: 'NOT_IMPLEMENTED',
  /** A bug or a corrupt store; logged with its stack. */
  Internal: 'INTERNAL',
} as const;
export type GatewayErrorCode = (typeof GatewayErrorCode)[keyof typeof GatewayErrorCode];

/**
 * A domain error of the gateway.
 * @example throw new GatewayError(GatewayErrorCode.NotFound, 'unknown table pg/public.nope')
 */
export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  constructor(code: GatewayErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GatewayError';
    this.code = code;
  }
}

/** Shorthand for INVALID_ARGUMENT. @throws GatewayError always. */
export function badRequest(message: string): never {
  throw new GatewayError(GatewayErrorCode.InvalidArgument, message);
}

const _logger = new Logger('GatewayErrors');

function _fromProver(e: ProverClientError): GatewayError {
  const c = ProverClientErrorCode;
  switch (e.code) {
    case c.InvalidArgument:
      return new GatewayError(GatewayErrorCode.InvalidArgument, e.message);
    case c.NotFound:
      return new GatewayError(GatewayErrorCode.NotFound, e.message);
    case c.OutOfRange:
      return new GatewayError(GatewayErrorCode.OutOfRange, e.message);
    case c.ResourceExhausted:
      return new GatewayError(GatewayErrorCode.TooLarge, e.message);
    case c.Unavailable:
    case c.DeadlineExceeded:
      return new GatewayError(GatewayErrorCode.Unavailable, `prover: ${e.message}`);
    case c.Internal:
      return new GatewayError(GatewayErrorCode.Internal, 'prover failed', { cause: e });
    default: {
      const never: never = e.code;
      return new GatewayError(GatewayErrorCode.Internal, `prover: ${String(never)}`, { cause: e });
    }
  }
}

function _fromStore(e: StoreError): GatewayError {
  switch (e.code) {
    case StoreErrorCode.OutOfRange:
      return new GatewayError(GatewayErrorCode.OutOfRange, e.message);
    case StoreErrorCode.Database:
      return new GatewayError(GatewayErrorCode.Unavailable, 'store unavailable', { cause: e });
    case StoreErrorCode.NotFound:
    case StoreErrorCode.CorruptNode:
    case StoreErrorCode.CorruptBlock:
    case StoreErrorCode.InvalidConfig:
    case StoreErrorCode.SchemaTooNew:
    case StoreErrorCode.MigrationChanged:
    case StoreErrorCode.CheckpointOutOfOrder:
      return new GatewayError(GatewayErrorCode.Internal, `store: ${e.code}`, { cause: e });
    default: {
      const never: never = e.code;
      return new GatewayError(GatewayErrorCode.Internal, `store: ${String(never)}`, { cause: e });
    }
  }
}

/**
 * Normalises anything a service threw into a GatewayError; unknown errors become INTERNAL with a generic
 * message (their text may leak internals) and are logged with their stack here, once.
 * @example const g = toGatewayError(e); switch (g.code) { ... }
 */
export function toGatewayError(e: unknown): GatewayError {
  let g: GatewayError;
  if (e instanceof GatewayError) g = e;
  else if (e instanceof ProverClientError) g = _fromProver(e);
  else if (e instanceof StoreError) g = _fromStore(e);
  else if (e instanceof ProtocolError) g = new GatewayError(GatewayErrorCode.InvalidArgument, e.message);
  else if (e instanceof MerkleError && e.code === MerkleErrorCode.NodeNotFound) g = new GatewayError(GatewayErrorCode.NotFound, 'map root not found in the store');
  else if (e instanceof MerkleError) g = new GatewayError(GatewayErrorCode.InvalidArgument, e.message);
  // libs/merkle and libs/store check argument values with RangeError (inputs are validated before: second line).
  else if (e instanceof RangeError) g = new GatewayError(GatewayErrorCode.InvalidArgument, e.message);
  else g = new GatewayError(GatewayErrorCode.Internal, 'internal error', { cause: e });
  if (g.code === GatewayErrorCode.Internal) {
    const c = g.cause ?? e;
    _logger.error(`${g.message}: ${c instanceof Error ? (c.stack ?? c.message) : String(c)}`);
  }
  return g;
}
