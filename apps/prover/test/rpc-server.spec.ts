// The request/reply helper on the real NATS server: typed errors, trace context, bounded concurrency, drain.
import { randomBytes } from 'node:crypto';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { ROOT_CONTEXT, propagation, trace, type Context, type Span, type SpanOptions, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@merklesync/messaging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsRpcServer } from '../src/bus/nats-rpc-server.ts';
import { ReplyHeaders } from '../src/bus/subjects.ts';
import { ProverError, ProverStatus, errorReply } from '../src/errors.ts';

/** A tracer that records each span's parent trace id (no SDK is installed). */
class RecordingTracer implements Tracer {
  readonly parents: (string | undefined)[] = [];
  startSpan(_name: string, _options?: SpanOptions, ctx?: Context): Span {
    this.parents.push(trace.getSpanContext(ctx ?? ROOT_CONTEXT)?.traceId);
    return trace.wrapSpanContext({ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), traceFlags: 1 });
  }
  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...args: unknown[]): ReturnType<F> {
    const fn = args[args.length - 1] as F;
    const options = args.length >= 2 ? (args[0] as SpanOptions) : undefined;
    const ctx = args.length >= 3 ? (args[1] as Context) : undefined;
    return fn(this.startSpan(name, options, ctx)) as ReturnType<F>;
  }
}

let nc: NatsConnection;
let client: NatsConnection;
const prefix = `test.rpc.${randomBytes(6).toString('hex')}`;
const released: (() => void)[] = [];

beforeAll(async () => {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  nc = await connect({ servers: '127.0.0.1:4222' });
  client = await connect({ servers: '127.0.0.1:4222' });
});
afterAll(async () => {
  propagation.disable();
  await nc?.close();
  await client?.close();
});

describe('NatsRpcServer', () => {
  it('answers, maps errors to statuses, extracts the trace context, bounds concurrency and drains', async () => {
    const tracer = new RecordingTracer();
    const server = new NatsRpcServer(nc, { queue: 'q', maxInFlight: 2, mapError: errorReply, tracer });
    let running = 0;
    let peak = 0;
    server.handle(`${prefix}.echo`, (q) => Promise.resolve(q.data));
    server.handle(`${prefix}.fail`, () => Promise.reject(new ProverError(ProverStatus.NotFound, 'nope\nsecond line')));
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a non-Error throw must not crash either
    server.handle(`${prefix}.weird`, () => Promise.reject('a string'));
    server.handle(`${prefix}.slow`, async () => {
      peak = Math.max(peak, ++running);
      await new Promise<void>((r) => released.push(r));
      running--;
      return new Uint8Array([1]);
    });
    server.start();
    await nc.flush();

    const h = headers();
    h.set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    const echo = await client.request(`${prefix}.echo`, new Uint8Array([7, 8]), { timeout: 2000, headers: h });
    expect([...echo.data]).toEqual([7, 8]);
    expect(echo.headers?.get(ReplyHeaders.Status)).toBe('OK');
    expect(tracer.parents[0]).toBe('0af7651916cd43dd8448eb211c80319c');

    const fail = await client.request(`${prefix}.fail`, new Uint8Array(0), { timeout: 2000 });
    expect(fail.headers?.get(ReplyHeaders.Status)).toBe('NOT_FOUND');
    expect(fail.headers?.get(ReplyHeaders.ErrorMessage)).toBe('nope second line');
    const weird = await client.request(`${prefix}.weird`, new Uint8Array(0), { timeout: 2000 });
    expect(weird.headers?.get(ReplyHeaders.Status)).toBe('INTERNAL');
    expect(weird.headers?.get(ReplyHeaders.ErrorMessage)).toBe('internal error');

    // A publish without a reply subject is dropped, not crashed on.
    client.publish(`${prefix}.echo`, new Uint8Array([1]));
    await client.flush();

    // Five slow requests, two at a time; drain while they are pending: all five are still answered.
    const slow = Array.from({ length: 5 }, () => client.request(`${prefix}.slow`, new Uint8Array(0), { timeout: 5000 }));
    const deadline = Date.now() + 2000;
    while (released.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(server.stats.inFlight).toBe(2);
    const drained = server.drain();
    for (let done = 0; done < 5; ) {
      const r = released.shift();
      if (r === undefined) await new Promise((res) => setTimeout(res, 5));
      else {
        r();
        done++;
      }
    }
    const replies = await Promise.all(slow);
    await drained;
    expect(replies.every((m) => m.headers?.get(ReplyHeaders.Status) === 'OK')).toBe(true);
    expect(peak).toBe(2);
    expect(server.stats).toMatchObject({ ok: 6, failed: 2, noReply: 1, inFlight: 0 });
    // Drained: nobody answers any more.
    await expect(client.request(`${prefix}.echo`, new Uint8Array(0), { timeout: 500 })).rejects.toThrow();
  });
});
