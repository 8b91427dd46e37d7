// OpenTelemetry's propagation API reads and writes a "carrier" through a getter/setter pair; these adapt
// NATS message headers (MsgHdrs) to it, so any registered propagator (W3C trace context, baggage) works.
import type { TextMapGetter, TextMapSetter } from '@opentelemetry/api';
import { Match, type MsgHdrs } from '@nats-io/transport-node';

/**
 * Writes propagation fields into NATS headers (replacing earlier values).
 * @example propagation.inject(context.active(), hdrs, natsHeadersSetter)
 */
export const natsHeadersSetter: TextMapSetter<MsgHdrs> = {
  set(carrier, key, value) {
    carrier.set(key, value, Match.IgnoreCase);
  },
};

/**
 * Reads propagation fields from NATS headers, case-insensitively (HTTP header semantics, as W3C Trace
 * Context expects); a message without headers reads as empty.
 * @example propagation.extract(ROOT_CONTEXT, msg.headers, natsHeadersGetter)
 */
export const natsHeadersGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys(carrier) {
    return carrier === undefined ? [] : carrier.keys();
  },
  get(carrier, key) {
    if (carrier === undefined) return undefined;
    const values = carrier.values(key, Match.IgnoreCase);
    return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
  },
};
