// The ONE mapping from domain errors to HTTP statuses for the REST API (an exhaustive switch), as a global
// exception filter: `{ error: <code>, message }` bodies. Nest's own HttpExceptions (unknown route: 404) keep
// their status.
import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { GatewayErrorCode, toGatewayError } from '../errors.ts';

/**
 * The HTTP status of a domain error code (exhaustive).
 * @example httpStatus('CONFLICT') // 409
 */
export function httpStatus(code: GatewayErrorCode): number {
  switch (code) {
    case GatewayErrorCode.InvalidArgument:
    case GatewayErrorCode.OutOfRange:
      return 400;
    case GatewayErrorCode.NotFound:
      return 404;
    case GatewayErrorCode.Conflict:
      return 409;
    case GatewayErrorCode.TooLarge:
      return 413;
    case GatewayErrorCode.NotImplemented:
      return 501;
    case GatewayErrorCode.Unavailable:
      return 503;
    case GatewayErrorCode.Internal:
      return 500;
    default: {
      const never: never = code;
      return never;
    }
  }
}

/** The part of Fastify's reply the filter uses. */
interface _Reply {
  status(code: number): { send(body: unknown): unknown };
}

/** Global filter of the REST API. */
@Catch()
export class HttpErrorsFilter implements ExceptionFilter {
  catch(e: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<_Reply>();
    if (e instanceof HttpException) {
      reply.status(e.getStatus()).send({ error: e.getStatus() === 404 ? GatewayErrorCode.NotFound : 'HTTP_ERROR', message: e.message });
      return;
    }
    const g = toGatewayError(e);
    reply.status(httpStatus(g.code)).send({ error: g.code, message: g.message });
  }
}
