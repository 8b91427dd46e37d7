// The consumer runner: pulls from one durable pull consumer in bounded batches, runs the handler in a
// CONSUMER span whose parent is the publisher's trace context, and settles each message per decide().
// The Nest strategy (nest/server.ts) is built on it; services and tests may use it directly.
import { Logger, type LoggerService } from '@nestjs/common';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { JetStreamApiCodes, JetStreamApiError, type ConsumerMessages, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { deadLetterSubject } from '@merklesync/protocol';
import { _checkInt, _checkName, _checkSubject, _millis } from '../config.ts';
import { MessagingError, MessagingErrorCode } from '../errors.ts';
import { JetStreamPublisher } from '../publish/publisher.ts';
import { natsHeadersGetter } from '../tracing/headers-carrier.ts';
import { JetStreamContext } from './context.ts';
import { deadLetterHeaders, deadLetterMsgId } from './dead-letter.ts';
import { classifyError, decide, DEFAULT_BACKOFF_MS, type Disposition } from './disposition.ts';

/** A message handler: resolve = processed (ack); throw = see classifyError/decide. */
export type JetStreamMessageHandler = (msg: JsMsg, ctx: JetStreamContext) => unknown;

/** Options of a {@link ConsumerRunner}. */
export interface ConsumerRunnerOptions {
  readonly stream: string;
  /** Durable name of an existing pull consumer (see ensureConsumer). */
  readonly consumer: string;
  readonly handler: JetStreamMessageHandler;
  /** Messages requested per pull; also the most a runner holds undelivered to the handler (default 128). */
  readonly batchSize?: number;
  /** Pull request lifetime, ms (default 30 000). */
  readonly expiresMs?: number;
  /**
   * Messages handled at once (default 1: in stream order — note a nak'ed message comes back later, after
   * its successors). Above 1, order is not kept.
   */
  readonly concurrency?: number;
  /** Nak delays by delivery number (default: the consumer's backoff list, else 1 s, 5 s, 30 s). */
  readonly backoffMs?: readonly number[];
  /** Where dead letters go (default `ms.dlq.<stream>`, captured by the MS_DLQ stream). */
  readonly deadLetterSubject?: string;
  /** keepWorking() period, ms (default a third of the consumer's ack wait). */
  readonly progressIntervalMs?: number;
  readonly logger?: LoggerService;
  /** Clock port (ms since epoch), for the DLQ's failed-at header. */
  readonly now?: () => number;
}

/** Counters of a runner, for metrics and tests. */
export interface ConsumerRunnerStats {
  acked: number;
  naked: number;
  deadLettered: number;
  /** Dead-letter publishes that failed even after retries (the message was nak'ed instead). */
  deadLetterFailures: number;
}

const _tracer = trace.getTracer('@merklesync/messaging');
const _DLQ_ATTEMPTS = [0, 200, 1_000];

function _sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Pulls from one durable consumer and settles every message (ack / nak with backoff / dead-letter + term).
 * @example
 * const runner = new ConsumerRunner(nats.jetstream(), { stream: 'MS_CHANGES', consumer: 'merkle', handler: (m) => apply(m.data) });
 * await runner.start();   // throws if the consumer is missing
 * ...
 * await runner.stop();    // stop pulling, finish what was delivered
 */
export class ConsumerRunner {
  readonly stats: ConsumerRunnerStats = { acked: 0, naked: 0, deadLettered: 0, deadLetterFailures: 0 };
  private readonly js: JetStreamClient;
  private readonly opts: ConsumerRunnerOptions;
  private readonly publisher: JetStreamPublisher;
  private readonly logger: LoggerService;
  private readonly inFlight = new Set<Promise<void>>();
  private maxDeliver = -1;
  private backoffMs: readonly number[] = DEFAULT_BACKOFF_MS;
  private progressIntervalMs = 10_000;
  private dlqSubject: string;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;

  /** @throws MessagingError(INVALID_CONFIG) for bad options. */
  constructor(js: JetStreamClient, options: ConsumerRunnerOptions) {
    _checkName('runner.stream', options.stream);
    _checkName('runner.consumer', options.consumer);
    if (typeof options.handler !== 'function') throw new MessagingError(MessagingErrorCode.InvalidConfig, 'runner.handler: must be a function');
    _checkInt('runner.batchSize', options.batchSize ?? 128, 1, 10_000);
    _checkInt('runner.expiresMs', options.expiresMs ?? 30_000, 1_000);
    _checkInt('runner.concurrency', options.concurrency ?? 1, 1, 10_000);
    options.backoffMs?.forEach((b, i) => _checkInt(`runner.backoffMs[${i}]`, b, 0));
    if (options.progressIntervalMs !== undefined) _checkInt('runner.progressIntervalMs', options.progressIntervalMs, 1);
    this.dlqSubject = options.deadLetterSubject ?? deadLetterSubject(options.stream);
    _checkSubject('runner.deadLetterSubject', this.dlqSubject);
    this.js = js;
    this.opts = options;
    this.publisher = new JetStreamPublisher({ jetstream: () => js });
    this.logger = options.logger ?? new Logger(`JetStream ${options.stream}/${options.consumer}`);
  }

  /** Messages being handled right now. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Reads the consumer's settings (max_deliver, ack_wait, backoff) and starts pulling in the background.
   * @throws MessagingError(CONSUMER_NOT_FOUND) when the consumer does not exist; NOT_CONNECTED.
   */
  async start(): Promise<void> {
    if (this.loop !== undefined) return;
    const { stream, consumer } = this.opts;
    let info;
    try {
      info = await (await this.js.jetstreamManager()).consumers.info(stream, consumer);
    } catch (e) {
      if (e instanceof JetStreamApiError && (e.code === JetStreamApiCodes.ConsumerNotFound || e.code === JetStreamApiCodes.StreamNotFound)) {
        throw new MessagingError(MessagingErrorCode.ConsumerNotFound, `consumer ${stream}/${consumer} does not exist (provision it at start-up)`, { cause: e });
      }
      throw new MessagingError(MessagingErrorCode.NotConnected, `cannot read consumer ${stream}/${consumer}: ${String(e)}`, { cause: e });
    }
    const cfg = info.config;
    this.maxDeliver = cfg.max_deliver !== undefined && cfg.max_deliver > 0 ? cfg.max_deliver : -1;
    this.backoffMs = this.opts.backoffMs ?? (cfg.backoff !== undefined && cfg.backoff.length > 0 ? cfg.backoff.map(_millis) : DEFAULT_BACKOFF_MS);
    this.progressIntervalMs = this.opts.progressIntervalMs ?? Math.max(1, Math.floor(_millis(cfg.ack_wait ?? 30_000_000_000) / 3));
    this.stopping = false;
    this.loop = this._run();
  }

  /**
   * Graceful stop: no new pulls, every message already delivered to this runner is handled and settled,
   * then it resolves. Idempotent.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.messages?.close();
    await this.loop;
    this.loop = undefined;
  }

  private async _run(): Promise<void> {
    const concurrency = this.opts.concurrency ?? 1;
    while (!this.stopping) {
      try {
        const consumer = await this.js.consumers.get(this.opts.stream, this.opts.consumer);
        this.messages = await consumer.consume({ max_messages: this.opts.batchSize ?? 128, expires: this.opts.expiresMs ?? 30_000 });
        if (this.stopping) await this.messages.close();
        // After close() the iterator still yields what was already delivered, then ends: those are handled too.
        for await (const msg of this.messages) {
          while (this.inFlight.size >= concurrency) await Promise.race(this.inFlight);
          const p = this._handle(msg).finally(() => this.inFlight.delete(p));
          this.inFlight.add(p);
          if (concurrency === 1) await p;
        }
      } catch (e) {
        if (this.stopping) break;
        // The client re-pulls after disconnects by itself; getting here means the consumer or stream went
        // away or the connection closed. Retry after a pause rather than crash the service.
        this.logger.error(`pulling stopped: ${String(e)}; retrying in 1 s`);
        await _sleep(1_000);
      }
    }
    await Promise.all(this.inFlight);
  }

  private async _handle(msg: JsMsg): Promise<void> {
    const ctx = new JetStreamContext(msg, this.progressIntervalMs);
    const parent = propagation.extract(ROOT_CONTEXT, msg.headers, natsHeadersGetter);
    const span = _tracer.startSpan(
      `process ${msg.subject}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.operation.type': 'process',
          'messaging.destination.name': msg.subject,
          'messaging.consumer.group.name': this.opts.consumer,
          'messaging.nats.stream': this.opts.stream,
          'messaging.nats.stream.sequence': msg.info.streamSequence,
          'messaging.nats.delivery_count': msg.info.deliveryCount,
        },
      },
      parent,
    );
    let failureCause: unknown;
    let failed = false;
    try {
      await context.with(trace.setSpan(parent, span), () => this.opts.handler(msg, ctx));
    } catch (e) {
      failed = true;
      failureCause = e;
    } finally {
      ctx._settle();
    }
    try {
      const disposition = decide(failed ? classifyError(failureCause) : undefined, msg.info.deliveryCount, this.maxDeliver, this.backoffMs);
      if (disposition.action !== 'ack') {
        span.setStatus({ code: SpanStatusCode.ERROR, message: disposition.failure.code });
        if (failureCause instanceof Error) span.recordException(failureCause);
      }
      await context.with(trace.setSpan(parent, span), () => this._settle(msg, disposition, failureCause));
    } catch (e) {
      // Settling must never kill the loop; an unsettled message is redelivered after its ack wait.
      this.logger.error(`cannot settle ${msg.subject} seq ${msg.info.streamSequence}: ${String(e)}`);
    } finally {
      span.end();
    }
  }

  private async _settle(msg: JsMsg, d: Disposition, cause: unknown): Promise<void> {
    const where = `${msg.subject} seq ${msg.info.streamSequence} delivery ${msg.info.deliveryCount}`;
    switch (d.action) {
      case 'ack':
        msg.ack();
        this.stats.acked++;
        return;
      case 'nak':
        // Unknown errors are bugs until proven otherwise: log them with the stack; retryable ones briefly.
        if (d.failure.code === 'UNKNOWN') this.logger.error(`${where}: unexpected error, retry in ${d.delayMs} ms`, cause instanceof Error ? cause.stack : undefined);
        else this.logger.warn(`${where}: ${d.failure.message}; retry in ${d.delayMs} ms`);
        msg.nak(d.delayMs);
        this.stats.naked++;
        return;
      case 'dead-letter': {
        this.logger.error(`${where}: dead-lettered (${d.reason}) to ${this.dlqSubject}: ${d.failure.code} ${d.failure.message}`);
        const headers = deadLetterHeaders(msg, d.failure, d.reason, (this.opts.now ?? Date.now)());
        let lastError: unknown;
        for (const wait of _DLQ_ATTEMPTS) {
          if (wait > 0) await _sleep(wait);
          try {
            await this.publisher.publish(this.dlqSubject, msg.data, { msgId: deadLetterMsgId(msg), headers });
            // Only once the dead letter is stored may the original be terminated: nothing is lost.
            msg.term();
            this.stats.deadLettered++;
            return;
          } catch (e) {
            lastError = e;
          }
        }
        this.stats.deadLetterFailures++;
        const delay = this.backoffMs[this.backoffMs.length - 1] ?? 30_000;
        this.logger.error(`${where}: dead-letter publish failed (${String(lastError)}); nak'ed for ${delay} ms instead — on the last delivery it stays in the stream unacknowledged`);
        msg.nak(delay);
        return;
      }
      default: {
        const _exhaustive: never = d;
        throw new TypeError(`unknown disposition ${JSON.stringify(_exhaustive)}`);
      }
    }
  }
}
