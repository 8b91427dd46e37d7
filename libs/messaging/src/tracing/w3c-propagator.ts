// A W3C Trace Context (traceparent/tracestate) propagator on @opentelemetry/api alone, for services and tests
// that do not load @opentelemetry/core. Format: https://www.w3.org/TR/trace-context/ — version 00:
// `00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>`; all-zero ids are invalid. Unknown future versions
// are parsed by their first four fields, as the spec asks.
import { isSpanContextValid, trace, type Context, type TextMapGetter, type TextMapPropagator, type TextMapSetter, type TraceState } from '@opentelemetry/api';

const _TRACEPARENT = 'traceparent';
const _TRACESTATE = 'tracestate';
const _RE = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

// tracestate is carried through opaquely: this propagator does not need to understand vendor entries.
class _OpaqueTraceState implements TraceState {
  private readonly raw: string;
  constructor(raw: string) {
    this.raw = raw;
  }
  set(): TraceState {
    return this;
  }
  unset(): TraceState {
    return this;
  }
  get(): string | undefined {
    return undefined;
  }
  serialize(): string {
    return this.raw;
  }
}

/**
 * Parses a `traceparent` header value.
 * @returns the ids and flags, or undefined when the value is not a valid traceparent.
 * @example parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
 */
export function parseTraceparent(value: string): { traceId: string; spanId: string; traceFlags: number } | undefined {
  const m = _RE.exec(value.trim());
  if (m === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) & 0xff };
}

/**
 * `TextMapPropagator` for W3C Trace Context. Register with `propagation.setGlobalPropagator(new
 * W3CTraceContextPropagator())` when no OpenTelemetry SDK does it.
 * @example propagation.setGlobalPropagator(new W3CTraceContextPropagator())
 */
export class W3CTraceContextPropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const sc = trace.getSpanContext(context);
    if (sc === undefined || !isSpanContextValid(sc)) return;
    setter.set(carrier, _TRACEPARENT, `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`);
    const state = sc.traceState?.serialize();
    if (state !== undefined && state !== '') setter.set(carrier, _TRACESTATE, state);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const raw = getter.get(carrier, _TRACEPARENT);
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (typeof value !== 'string') return context;
    const parsed = parseTraceparent(value);
    if (parsed === undefined) return context;
    const stateRaw = getter.get(carrier, _TRACESTATE);
    const state = Array.isArray(stateRaw) ? stateRaw.join(',') : stateRaw;
    return trace.setSpanContext(context, {
      ...parsed,
      isRemote: true,
      ...(typeof state === 'string' && state !== '' ? { traceState: new _OpaqueTraceState(state) } : {}),
    });
  }

  fields(): string[] {
    return [_TRACEPARENT, _TRACESTATE];
  }
}
