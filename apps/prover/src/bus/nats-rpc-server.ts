// A small request/reply server on core NATS: one queue-group subscription per subject, at most `maxInFlight`
// requests handled at once, and EVERY request with a reply subject answered exactly once (a reply or a typed
// error), so no requester hangs. Core NATS, not JetStream: a query is not an event; nothing to persist or replay.
import { Logger } from '@nestjs/common';
import { headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, propagation, trace, type Tracer } from '@opentelemetry/api';
import { natsHeadersGetter } from '@merklesync/messaging';
import { ProverStatus, type ErrorReply } from '../errors.ts';
import { ReplyHeaders } from './subjects.ts';

/** One request as a handler sees it. */
export interface RpcRequest {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: MsgHdrs | undefined;
}

/** Answers one request with the reply payload; throws to reply with an error status. */
export type RpcHandler = (request: RpcRequest) => Promise<Uint8Array>;

/** Options of {@link NatsRpcServer}. */
export interface NatsRpcServerOptions {
  /** Queue group: the server delivers each request to one member. */
  readonly queue: string;
  /** Requests handled at once; further ones wait in the subscription's buffer. */
  readonly maxInFlight: number;
  /** The one mapping from a thrown value to a status (src/errors.ts `errorReply`). */
  readonly mapError: (e: unknown) => ErrorReply;
  readonly tracer?: Tracer;
  readonly logger?: Logger;
}

/** Counters (per instance) for metrics and tests. */
export interface RpcServerStats {
  readonly received: number;
  readonly ok: number;
  readonly failed: number;
  /** Requests without a reply subject (published, not requested): dropped. */
  readonly noReply: number;
  readonly inFlight: number;
}

const _EMPTY = new Uint8Array(0);
const _MAX_MESSAGE = 1024;
/** Room left for headers under max_payload. */
const _HEADROOM = 4096;

/** A header value must be one line; long messages are cut. */
function _oneLine(s: string): string {
  const line = s.replace(/[\r\n]+/g, ' ');
  return line.length > _MAX_MESSAGE ? `${line.slice(0, _MAX_MESSAGE - 1)}…` : line;
}

/**
 * Serves request/reply subjects with a queue group. Register handlers, `start()`, and `drain()` on shutdown
 * (stops taking requests, finishes those already received, then resolves).
 * @example
 * const rpc = new NatsRpcServer(nc, { queue: 'prover', maxInFlight: 64, mapError: errorReply });
 * rpc.handle('ms.prover.map.prove', (req) => proofs.mapProve(req.data));
 * rpc.start();
 */
export class NatsRpcServer {
  private readonly _nc: NatsConnection;
  private readonly _opts: NatsRpcServerOptions;
  private readonly _tracer: Tracer;
  private readonly _logger: Logger;
  private readonly _handlers = new Map<string, RpcHandler>();
  private readonly _subs: Subscription[] = [];
  private readonly _loops: Promise<void>[] = [];
  private readonly _waiters: (() => void)[] = [];
  private _idle: (() => void)[] = [];
  private _started = false;
  private _stats = { received: 0, ok: 0, failed: 0, noReply: 0, inFlight: 0 };

  /** @throws RangeError for a non-positive maxInFlight or an empty queue name. */
  constructor(nc: NatsConnection, options: NatsRpcServerOptions) {
    if (!Number.isSafeInteger(options.maxInFlight) || options.maxInFlight < 1) throw new RangeError('maxInFlight must be a positive integer');
    if (options.queue === '') throw new RangeError('queue must not be empty');
    this._nc = nc;
    this._opts = options;
    this._tracer = options.tracer ?? trace.getTracer('@merklesync/app-prover');
    this._logger = options.logger ?? new Logger('NatsRpcServer');
  }

  /** Current counters. */
  get stats(): RpcServerStats {
    return { ...this._stats };
  }

  /**
   * Registers the handler of one subject (before {@link start}).
   * @throws Error when started already or the subject has a handler.
   */
  handle(subject: string, handler: RpcHandler): void {
    if (this._started) throw new Error('handle() after start()');
    if (this._handlers.has(subject)) throw new Error(`subject ${subject} already has a handler`);
    this._handlers.set(subject, handler);
  }

  /** Subscribes every registered subject with the queue group. Idempotent. */
  start(): void {
    if (this._started) return;
    this._started = true;
    for (const [subject, handler] of this._handlers) {
      const sub = this._nc.subscribe(subject, { queue: this._opts.queue });
      this._subs.push(sub);
      this._loops.push(
        this._loop(sub, handler).catch((e: unknown) => {
          this._logger.error(`subscription ${subject} ended: ${String(e)}`);
        }),
      );
    }
  }

  /**
   * Stops taking requests (the subscriptions are drained: requests already delivered are still served)
   * and resolves once every request in flight has been answered.
   */
  async drain(): Promise<void> {
    await Promise.all(this._subs.filter((s) => !s.isClosed()).map((s) => s.drain().catch(() => s.unsubscribe())));
    await Promise.all(this._loops);
    if (this._stats.inFlight > 0) await new Promise<void>((r) => this._idle.push(r));
  }

  private async _loop(sub: Subscription, handler: RpcHandler): Promise<void> {
    for await (const msg of sub) {
      this._stats.received++;
      if (!msg.reply) {
        this._stats.noReply++;
        continue;
      }
      await this._acquire();
      void this._serve(msg, handler).finally(() => this._release());
    }
  }

  private _acquire(): Promise<void> {
    if (this._stats.inFlight < this._opts.maxInFlight) {
      this._stats.inFlight++;
      return Promise.resolve();
    }
    return new Promise((r) => this._waiters.push(r));
  }

  private _release(): void {
    const next = this._waiters.shift();
    // The slot passes straight to the next waiter: inFlight stays the same.
    if (next !== undefined) return next();
    this._stats.inFlight--;
    if (this._stats.inFlight === 0) {
      const idle = this._idle;
      this._idle = [];
      for (const r of idle) r();
    }
  }

  private async _serve(msg: Msg, handler: RpcHandler): Promise<void> {
    const parent = propagation.extract(ROOT_CONTEXT, msg.headers, natsHeadersGetter);
    await this._tracer.startActiveSpan(
      `process ${msg.subject}`,
      { kind: SpanKind.SERVER, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': msg.subject, 'messaging.operation.type': 'process' } },
      parent,
      async (span) => {
        try {
          const out = await handler({ subject: msg.subject, data: msg.data, headers: msg.headers });
          this._stats.ok++;
          this._reply(msg, out, ProverStatus.Ok);
        } catch (e) {
          this._stats.failed++;
          const r = this._opts.mapError(e);
          if (r.log) this._logger.error(`${msg.subject}: ${r.status}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
          span.setAttribute('rpc.status', r.status);
          span.setStatus({ code: SpanStatusCode.ERROR, message: r.status });
          if (e instanceof Error) span.recordException(e);
          this._reply(msg, _EMPTY, r.status, r.message);
        } finally {
          span.end();
        }
      },
    );
  }

  private _reply(msg: Msg, data: Uint8Array, status: string, message?: string): void {
    // A reply above the server's max_payload would be refused by the client: answer with an error instead.
    const max = this._nc.info?.max_payload;
    if (max !== undefined && data.length > max - _HEADROOM) {
      this._stats.ok--;
      this._stats.failed++;
      return this._reply(msg, _EMPTY, ProverStatus.ResourceExhausted, `reply of ${data.length} bytes exceeds the bus limit of ${max}; ask for fewer keys`);
    }
    const h = natsHeaders();
    h.set(ReplyHeaders.Status, status);
    if (message !== undefined) h.set(ReplyHeaders.ErrorMessage, _oneLine(message));
    try {
      msg.respond(data, { headers: h });
    } catch (e) {
      // The connection closed under us: nothing can reach the requester; its own timeout answers it.
      this._logger.warn(`cannot reply on ${msg.subject}: ${String(e)}`);
    }
  }
}
