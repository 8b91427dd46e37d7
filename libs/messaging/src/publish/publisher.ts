// Publishing to JetStream: every publish waits for the stream's PubAck (so "published" means "stored"),
// carries Nats-Msg-Id for deduplication and the active W3C trace context in its headers.
import { Inject, Injectable } from '@nestjs/common';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { JetStreamApiError, type JetStreamClient, type JetStreamPublishOptions } from '@nats-io/jetstream';
import { errors as natsErrors, headers as natsHeaders, RequestError, type MsgHdrs } from '@nats-io/transport-node';
import { _checkInt } from '../config.ts';
import { NatsConnectionProvider } from '../connection.ts';
import { MessagingError, MessagingErrorCode } from '../errors.ts';
import { natsHeadersSetter } from '../tracing/headers-carrier.ts';

/** Anything that hands out a JetStream client ({@link NatsConnectionProvider} does). */
export interface JetStreamClientSource {
  jetstream(): JetStreamClient;
}

/** Options of one publish. */
export interface PublishOptions {
  /**
   * Deduplication id (`Nats-Msg-Id`): a second publish with the same id within the stream's duplicate window
   * is acknowledged with `duplicate: true` and not stored. Derive it from the source position so retries
   * and restarts republish the same id.
   */
  readonly msgId?: string;
  /** Extra headers (names are case-sensitive; `Nats-*` are reserved for the server). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Time to wait for the PubAck, ms (default: the connection's request timeout). */
  readonly timeoutMs?: number;
  /** Fail unless the message lands in this stream (guards against a subject captured by another stream). */
  readonly expectStream?: string;
}

/** The stream's acknowledgement of a publish. */
export interface PublishAck {
  readonly stream: string;
  /** Stream sequence of the stored message (of the original, for a duplicate). */
  readonly seq: number;
  /** True when the msgId was seen within the duplicate window: nothing new was stored. */
  readonly duplicate: boolean;
}

/** One message of {@link JetStreamPublisher.publishBatch}. */
export interface BatchMessage extends PublishOptions {
  readonly subject: string;
  readonly payload: Uint8Array;
}

/** Options of {@link JetStreamPublisher.publishBatch}. */
export interface BatchPublishOptions {
  /** Publishes awaiting their PubAck at once (default 1024): bounds memory and server-side pressure. */
  readonly maxInFlight?: number;
}

/**
 * A batch stopped at a failed publish. Messages before `failedIndex` are acknowledged (see `acks`); later ones
 * may or may not be. Republish from `failedIndex` (or the whole batch: msgIds make it safe).
 */
export class BatchPublishError extends MessagingError {
  readonly failedIndex: number;
  readonly acks: ReadonlyArray<PublishAck | undefined>;
  constructor(failedIndex: number, acks: ReadonlyArray<PublishAck | undefined>, cause: MessagingError) {
    super(cause.code, `batch publish failed at message ${failedIndex}: ${cause.message}`, { cause });
    this.name = 'BatchPublishError';
    this.failedIndex = failedIndex;
    this.acks = acks;
  }
}

const _tracer = trace.getTracer('@merklesync/messaging');

/** Maps a NATS client error to the library's error codes. */
export function _publishError(e: unknown, subject: string): MessagingError {
  if (e instanceof MessagingError) return e;
  const cause = e instanceof Error ? e.cause : undefined;
  // JetStream answers a subject no stream captures with "no responders"; the client reports it as
  // JetStreamNotEnabled with the RequestError as cause.
  if ((e instanceof RequestError && e.isNoResponders()) || (cause instanceof RequestError && cause.isNoResponders())) {
    return new MessagingError(MessagingErrorCode.NoStream, `no stream captures ${subject} (or JetStream is unavailable)`, { cause: e });
  }
  if (e instanceof natsErrors.TimeoutError) return new MessagingError(MessagingErrorCode.PublishTimeout, `no PubAck for ${subject} in time`, { cause: e });
  if (e instanceof JetStreamApiError) return new MessagingError(MessagingErrorCode.PublishRejected, `stream refused ${subject}: ${e.message} (${e.code})`, { cause: e });
  return new MessagingError(MessagingErrorCode.PublishFailed, `publish to ${subject} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/**
 * Publishes to JetStream and awaits PubAcks. Injectable (needs {@link NatsConnectionProvider}) or built on any
 * {@link JetStreamClientSource}.
 * @example
 * const ack = await publisher.publish(changesSubject('pg', 'public.users'), bytes, { msgId: `pg:${lsn}:0` });
 * if (ack.duplicate) log('already stored at', ack.seq);
 */
@Injectable()
export class JetStreamPublisher {
  private readonly source: JetStreamClientSource;

  constructor(@Inject(NatsConnectionProvider) source: JetStreamClientSource) {
    this.source = source;
  }

  /**
   * Publishes one message and waits for its PubAck. Runs in a PRODUCER span whose context is injected as
   * `traceparent`/`tracestate` (by the globally registered propagator).
   * @throws MessagingError: NO_STREAM, PUBLISH_TIMEOUT (stored or not: republish with the same msgId),
   *   PUBLISH_REJECTED, PUBLISH_FAILED, NOT_CONNECTED.
   * @example await publisher.publish('ms.checkpoints', bytes, { msgId: `checkpoint:${seq}` })
   */
  async publish(subject: string, payload: Uint8Array, options: PublishOptions = {}): Promise<PublishAck> {
    const span = _tracer.startSpan(`send ${subject}`, { kind: SpanKind.PRODUCER, attributes: _attributes(subject, options.msgId) });
    try {
      const ack = await this._send(this.source.jetstream(), subject, payload, options, span);
      span.setAttribute('messaging.nats.stream.sequence', ack.seq);
      return ack;
    } catch (e) {
      const err = _publishError(e, subject);
      _fail(span, err);
      throw err;
    } finally {
      span.end();
    }
  }

  /**
   * Publishes many messages pipelined: up to `maxInFlight` await their PubAck at once; returns the acks in
   * input order. Stops issuing at the first failure and throws after the in-flight ones settle. One span
   * covers the batch and is the parent every message carries.
   * @throws BatchPublishError (with the failed index and the acks so far); MessagingError(INVALID_CONFIG) for
   *   a bad maxInFlight.
   * @example const acks = await publisher.publishBatch(parts.map((p, i) => ({ subject, payload: p, msgId: `${lsn}:${i}` })))
   */
  async publishBatch(messages: readonly BatchMessage[], options: BatchPublishOptions = {}): Promise<PublishAck[]> {
    const maxInFlight = options.maxInFlight ?? 1024;
    _checkInt('maxInFlight', maxInFlight, 1);
    const span = _tracer.startSpan('send batch', { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'nats', 'messaging.batch.message_count': messages.length } });
    const js = this.source.jetstream();
    const acks: (PublishAck | undefined)[] = new Array<PublishAck | undefined>(messages.length);
    const settled: Promise<void>[] = [];
    let failure: { index: number; error: MessagingError } | undefined;
    try {
      for (let i = 0; i < messages.length && failure === undefined; i++) {
        // A FIFO window: before starting message i, the one maxInFlight earlier must have settled. PubAcks
        // come back in publish order from one stream, so this rarely waits longer than needed.
        if (i >= maxInFlight) await settled[i - maxInFlight];
        if (failure !== undefined) break;
        const m = messages[i] as BatchMessage;
        settled.push(
          this._send(js, m.subject, m.payload, m, span).then(
            (ack) => {
              acks[i] = ack;
            },
            (e: unknown) => {
              if (failure === undefined || i < failure.index) failure = { index: i, error: _publishError(e, m.subject) };
            },
          ),
        );
      }
      await Promise.all(settled);
      if (failure !== undefined) {
        _fail(span, failure.error);
        throw new BatchPublishError(failure.index, acks, failure.error);
      }
      return acks as PublishAck[];
    } finally {
      span.end();
    }
  }

  private async _send(js: JetStreamClient, subject: string, payload: Uint8Array, options: PublishOptions, span: Span): Promise<PublishAck> {
    const hdrs: MsgHdrs = natsHeaders();
    if (options.headers !== undefined) for (const [k, v] of Object.entries(options.headers)) hdrs.set(k, v);
    propagation.inject(trace.setSpan(context.active(), span), hdrs, natsHeadersSetter);
    const opts: Partial<JetStreamPublishOptions> = { headers: hdrs };
    if (options.msgId !== undefined) opts.msgID = options.msgId;
    if (options.timeoutMs !== undefined) opts.timeout = options.timeoutMs;
    if (options.expectStream !== undefined) opts.expect = { streamName: options.expectStream };
    const ack = await js.publish(subject, payload, opts);
    return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
  }
}

function _attributes(subject: string, msgId: string | undefined): Record<string, string> {
  const a: Record<string, string> = { 'messaging.system': 'nats', 'messaging.operation.type': 'send', 'messaging.destination.name': subject };
  if (msgId !== undefined) a['messaging.message.id'] = msgId;
  return a;
}

function _fail(span: Span, err: MessagingError): void {
  span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.code });
}
