// The ONE mapping from domain errors to gRPC status codes (Connect and gRPC-Web share them), applied to every
// method — unary and streaming — by one router interceptor.
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { GatewayErrorCode, toGatewayError } from '../errors.ts';

/**
 * The gRPC code of a domain error code (exhaustive).
 * @example grpcCode('NOT_FOUND') // Code.NotFound
 */
export function grpcCode(code: GatewayErrorCode): Code {
  switch (code) {
    case GatewayErrorCode.InvalidArgument:
      return Code.InvalidArgument;
    case GatewayErrorCode.NotFound:
      return Code.NotFound;
    case GatewayErrorCode.Conflict:
      return Code.FailedPrecondition;
    case GatewayErrorCode.OutOfRange:
      return Code.OutOfRange;
    case GatewayErrorCode.TooLarge:
      return Code.ResourceExhausted;
    case GatewayErrorCode.Unavailable:
      return Code.Unavailable;
    case GatewayErrorCode.NotImplemented:
      return Code.Unimplemented;
    case GatewayErrorCode.Internal:
      return Code.Internal;
    default: {
      const never: never = code;
      return never;
    }
  }
}

/** Anything thrown → a ConnectError (ConnectErrors raised by the framework pass through). */
export function toConnectError(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  const g = toGatewayError(e);
  return new ConnectError(g.message, grpcCode(g.code));
}

async function* _guard<T>(it: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* it;
  } catch (e) {
    throw toConnectError(e);
  }
}

/**
 * Router interceptor mapping errors of unary calls and of server streams (thrown while iterating).
 * @example connectNodeAdapter({ routes, interceptors: [errorInterceptor] })
 */
export const errorInterceptor: Interceptor = (next) => async (req) => {
  try {
    const res = await next(req);
    return res.stream ? { ...res, message: _guard(res.message) } : res;
  } catch (e) {
    throw toConnectError(e);
  }
};
