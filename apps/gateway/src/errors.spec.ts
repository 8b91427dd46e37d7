import { Code } from '@connectrpc/connect';
import { ProverClientError } from '@merklesync/prover-client';
import { StoreError, StoreErrorCode } from '@merklesync/store';
import { describe, expect, it } from 'vitest';
import { GatewayError, GatewayErrorCode, toGatewayError } from './errors.ts';
import { grpcCode, toConnectError } from './grpc/grpc-errors.ts';
import { httpStatus } from './rest/http-errors.filter.ts';

describe('error mapping', () => {
  it('every domain code has an HTTP status and a gRPC code', () => {
    for (const c of Object.values(GatewayErrorCode)) {
      expect(httpStatus(c)).toBeGreaterThanOrEqual(400);
      expect(grpcCode(c)).toBeGreaterThan(0);
    }
    expect(httpStatus(GatewayErrorCode.Conflict)).toBe(409);
    expect(grpcCode(GatewayErrorCode.Conflict)).toBe(Code.FailedPrecondition);
  });

  it('normalises prover, store and unknown errors', () => {
    expect(toGatewayError(new ProverClientError('NOT_FOUND', 's', 'unknown table')).code).toBe('NOT_FOUND');
    expect(toGatewayError(new ProverClientError('DEADLINE_EXCEEDED', 's', 'slow')).code).toBe('UNAVAILABLE');
    expect(toGatewayError(new StoreError(StoreErrorCode.Database, 'down')).code).toBe('UNAVAILABLE');
    const unknown = toGatewayError(new TypeError('secret internals'));
    expect(unknown.code).toBe('INTERNAL');
    expect(unknown.message).toBe('internal error');
    expect(toConnectError(new GatewayError(GatewayErrorCode.NotImplemented, 'no')).code).toBe(Code.Unimplemented);
  });
});
