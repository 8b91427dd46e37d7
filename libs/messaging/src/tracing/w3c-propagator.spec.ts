import { describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { headers } from '@nats-io/transport-node';
import { natsHeadersGetter, natsHeadersSetter } from './headers-carrier.ts';
import { parseTraceparent, W3CTraceContextPropagator } from './w3c-propagator.ts';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('W3C trace context over NATS headers', () => {
  it('parses valid traceparents and rejects invalid ones', () => {
    expect(parseTraceparent(TP)).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 });
    expect(parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeUndefined();
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01')).toBeUndefined();
    expect(parseTraceparent('ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBeUndefined();
    expect(parseTraceparent('00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01')).toBeUndefined();
    expect(parseTraceparent(`${TP}-extra`)).toBeUndefined();
    // A future version may append fields.
    expect(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz')?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('round-trips span context and tracestate through MsgHdrs, reading case-insensitively', () => {
    const p = new W3CTraceContextPropagator();
    const h = headers();
    h.set('TraceParent', TP);
    h.set('tracestate', 'vendor=abc');
    const ctx = p.extract(ROOT_CONTEXT, h, natsHeadersGetter);
    const sc = trace.getSpanContext(ctx);
    expect(sc).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED, isRemote: true });
    const out = headers();
    p.inject(ctx, out, natsHeadersSetter);
    expect(out.get('traceparent')).toBe(TP);
    expect(out.get('tracestate')).toBe('vendor=abc');
  });

  it('injects nothing without a valid span and extracts nothing from a message without headers', () => {
    const p = new W3CTraceContextPropagator();
    const out = headers();
    p.inject(ROOT_CONTEXT, out, natsHeadersSetter);
    expect([...out.keys()]).toEqual([]);
    expect(p.extract(ROOT_CONTEXT, undefined, natsHeadersGetter)).toBe(ROOT_CONTEXT);
  });
});
