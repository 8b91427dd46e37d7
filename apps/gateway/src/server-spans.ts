// Server spans for the gateway's two listeners. Every REST request and every gRPC / Connect / gRPC-Web call
// runs in a SERVER span whose parent is the caller's W3C `traceparent` (when it sends one), so the prover
// requests it makes (prover-client CLIENT spans) are its children and one client request is one trace.
// Manual spans: OpenTelemetry's Nest and Fastify instrumentations do not cover Nest 12.
import type { Interceptor } from '@connectrpc/connect';
import { ConnectError } from '@connectrpc/connect';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { context, defaultTextMapGetter, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type TextMapGetter } from '@opentelemetry/api';

const _tracer = trace.getTracer('@merklesync/app-gateway');

type Fastify = ReturnType<ReturnType<NestFastifyApplication['getHttpAdapter']>['getInstance']>;

/**
 * Adds Fastify hooks that run each request in a SERVER span named `<METHOD> <route>`: started on request
 * (parent from the request headers), made active for the handler, ended with the response status (5xx is an
 * error) or when the client aborts.
 * @example traceHttpRequests(app.getHttpAdapter().getInstance())
 */
export function traceHttpRequests(fastify: Fastify): void {
  const active = new WeakMap<object, { span: Span; ctx: Context }>();
  fastify.addHook('onRequest', (req, _reply, done) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    const route = req.routeOptions.url;
    const span = _tracer.startSpan(
      `${req.method} ${route ?? 'unmatched'}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.url.split('?')[0] ?? '', ...(route === undefined ? {} : { 'http.route': route }) } },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    active.set(req, { span, ctx });
    context.with(ctx, done);
  });
  // The body is parsed between onRequest and here, outside the request's async context: re-enter it, so the
  // handler (and everything it awaits) sees the span.
  fastify.addHook('preHandler', (req, _reply, done) => {
    const a = active.get(req);
    if (a === undefined) done();
    else context.with(a.ctx, done);
  });
  fastify.addHook('onResponse', (req, reply, done) => {
    const a = active.get(req);
    if (a !== undefined) {
      active.delete(req);
      a.span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) a.span.setStatus({ code: SpanStatusCode.ERROR });
      a.span.end();
    }
    done();
  });
  fastify.addHook('onRequestAbort', (req, done) => {
    const a = active.get(req);
    if (a !== undefined) {
      active.delete(req);
      a.span.setStatus({ code: SpanStatusCode.ERROR, message: 'aborted by the client' });
      a.span.end();
    }
    done();
  });
}

// Connect's request headers are a WHATWG Headers object.
const _headersGetter: TextMapGetter<Headers> = {
  keys: (h) => [...h.keys()],
  get: (h, key) => h.get(key) ?? undefined,
};

function _fail(span: Span, e: unknown): void {
  const err = ConnectError.from(e);
  span.setAttribute('rpc.grpc.status_code', err.code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.rawMessage });
}

// A streaming response is produced after the handler returns, while the adapter iterates it: each step runs in
// the call's context, and the span ends with the stream.
async function* _traced<T>(messages: AsyncIterable<T>, ctx: Context, span: Span): AsyncGenerator<T> {
  const it = messages[Symbol.asyncIterator]();
  try {
    for (;;) {
      const r = await context.with(ctx, () => it.next());
      if (r.done === true) return;
      yield r.value;
    }
  } catch (e) {
    _fail(span, e);
    throw e;
  } finally {
    await it.return?.();
    span.end();
  }
}

/**
 * A Connect router interceptor running each call in a SERVER span `<service>/<method>`; place it first (outermost).
 * @example connectNodeAdapter({ routes, interceptors: [traceGrpcCalls, errorInterceptor] })
 */
export const traceGrpcCalls: Interceptor = (next) => async (req) => {
  const parent = propagation.extract(ROOT_CONTEXT, req.header, _headersGetter);
  const span = _tracer.startSpan(
    `${req.service.typeName}/${req.method.name}`,
    { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.service': req.service.typeName, 'rpc.method': req.method.name } },
    parent,
  );
  const ctx = trace.setSpan(parent, span);
  try {
    const res = await context.with(ctx, () => next(req));
    if (!res.stream) {
      span.end();
      return res;
    }
    return { ...res, message: _traced(res.message, ctx, span) };
  } catch (e) {
    _fail(span, e);
    span.end();
    throw e;
  }
};
