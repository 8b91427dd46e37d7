// Nest's default RPC exception filter replaces any exception that is not an RpcException by
// `{ status: 'error', message: 'Internal server error' }` before the transport sees it. The transport's
// error mapping needs the real error (a ProtocolError means dead-letter; its message goes into the DLQ
// headers), so services register this filter globally on their JetStream microservice.
import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';

/**
 * Rethrows every exception unchanged to the JetStream transport, which classifies and logs it.
 * @example app.useGlobalFilters(new JetStreamErrorPassthroughFilter())
 */
@Catch()
export class JetStreamErrorPassthroughFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}
