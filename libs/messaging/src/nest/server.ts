// The Nest microservice transport (custom strategy): handlers are declared with @EventPattern(subject) /
// @MessagePattern(subject) (wildcards allowed) and receive the decoded payload and a JetStreamContext. One
// ConsumerRunner per configured durable consumer does the pulling and the ack/nak/dead-letter work.
import { EventEmitter } from 'node:events';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import type { JsMsg } from '@nats-io/jetstream';
import { isObservable, lastValueFrom } from 'rxjs';
import { ProtocolError } from '@merklesync/protocol';
import { NatsConnectionProvider } from '../connection.ts';
import type { NatsConnectionConfig } from '../config.ts';
import { MalformedPayloadError, MessagingError, MessagingErrorCode, NoHandlerError } from '../errors.ts';
import { provision } from '../provisioning/provisioner.ts';
import type { ConsumerDefinition } from '../provisioning/consumer-definition.ts';
import type { StreamDefinition } from '../provisioning/stream-definition.ts';
import type { JetStreamContext } from '../consume/context.ts';
import { ConsumerRunner, type ConsumerRunnerOptions } from '../consume/runner.ts';
import { routeSubject } from './subject-match.ts';

/** Transport id: `@EventPattern('ms.changes.>', JETSTREAM_TRANSPORT)` binds a handler to this transport only. */
export const JETSTREAM_TRANSPORT = Symbol('JETSTREAM_TRANSPORT');

/** Options of {@link JetStreamServer}. */
export interface JetStreamServerOptions {
  /** A config (the server opens and drains its own connection) or a shared provider (left open on close). */
  readonly connection: NatsConnectionConfig | NatsConnectionProvider;
  /** Streams and consumers to provision idempotently before pulling (fail fast on conflicts). */
  readonly provision?: { readonly streams?: readonly StreamDefinition[]; readonly consumers?: readonly ConsumerDefinition[] };
  /** The durable consumers to pull from, each with its runner options. */
  readonly consumers: readonly Omit<ConsumerRunnerOptions, 'handler'>[];
  /**
   * Turns the payload into the handler's `@Payload()`; throw to dead-letter it as MALFORMED_PAYLOAD (a
   * ProtocolError from decodeEvent counts as malformed too). Default: the raw Uint8Array.
   */
  readonly decode?: (data: Uint8Array, subject: string) => unknown;
}

/** The server's status stream values. */
export type JetStreamServerStatus = 'connecting' | 'connected' | 'stopping' | 'stopped';

/**
 * JetStream transport strategy for Nest microservices.
 * @example
 * const app = await NestFactory.createMicroservice(AppModule, {
 *   strategy: new JetStreamServer({ connection: { servers: '127.0.0.1:4222', name: 'merkle' },
 *     consumers: [{ stream: 'MS_CHANGES', consumer: 'merkle' }], decode: (b) => decodeEvent('change-batch', b) }),
 * });
 * app.useGlobalFilters(new JetStreamErrorPassthroughFilter());
 * await app.listen();
 */
export class JetStreamServer extends Server<Record<string, (...args: unknown[]) => void>, JetStreamServerStatus> implements CustomTransportStrategy {
  override readonly transportId = JETSTREAM_TRANSPORT;
  // Errors of event handlers come back to this transport (which settles the message) instead of being
  // logged and swallowed by Nest.
  override readonly propagatesEventHandlerErrors = true;
  private readonly options: JetStreamServerOptions;
  private readonly provider: NatsConnectionProvider;
  private readonly ownsConnection: boolean;
  private readonly events = new EventEmitter();
  private runners: ConsumerRunner[] = [];

  /** @throws MessagingError(INVALID_CONFIG) for a bad connection config or an empty consumer list. */
  constructor(options: JetStreamServerOptions) {
    super();
    if (!Array.isArray(options.consumers) || options.consumers.length === 0) {
      throw new MessagingError(MessagingErrorCode.InvalidConfig, 'jetstream.consumers: must list at least one durable consumer');
    }
    this.options = options;
    this.ownsConnection = !(options.connection instanceof NatsConnectionProvider);
    this.provider = options.connection instanceof NatsConnectionProvider ? options.connection : new NatsConnectionProvider(options.connection);
  }

  /** Connects, provisions, starts one runner per consumer; reports a failure through `callback(err)`. */
  async listen(callback: (...optionalParams: unknown[]) => unknown): Promise<void> {
    try {
      this._status$.next('connecting');
      await this.provider.connect();
      if (this.options.provision !== undefined) await provision(await this.provider.jetstreamManager(), this.options.provision);
      const js = this.provider.jetstream();
      for (const c of this.options.consumers) {
        const runner = new ConsumerRunner(js, { ...c, logger: c.logger ?? this.logger, handler: (msg, ctx) => this._dispatch(msg, ctx) });
        await runner.start();
        this.runners.push(runner);
      }
      this._status$.next('connected');
      callback();
    } catch (e) {
      await this._stopRunners();
      callback(e);
    }
  }

  /** Graceful: stops pulling, lets in-flight handlers finish and settle, then drains an owned connection. */
  async close(): Promise<void> {
    this._status$.next('stopping');
    await this._stopRunners();
    if (this.ownsConnection) await this.provider.close();
    this._status$.next('stopped');
    this.events.removeAllListeners();
  }

  /** Registers a listener; the server emits `error` when a runner cannot settle a message. */
  on(event: string, callback: (...args: unknown[]) => void): void {
    this.events.on(event, callback);
  }

  /** The NATS connection. @throws MessagingError(NOT_CONNECTED) before listen(). */
  unwrap<T>(): T {
    return this.provider.connection as T;
  }

  /** The runners (one per consumer), e.g. for their stats. */
  getRunners(): readonly ConsumerRunner[] {
    return this.runners;
  }

  private async _stopRunners(): Promise<void> {
    const runners = this.runners;
    this.runners = [];
    await Promise.all(runners.map((r) => r.stop()));
  }

  private async _dispatch(msg: JsMsg, ctx: JetStreamContext): Promise<void> {
    const pattern = routeSubject([...this.messageHandlers.keys()], msg.subject);
    const handler: MessageHandler | undefined = pattern === undefined ? undefined : this.messageHandlers.get(pattern);
    if (handler === undefined) throw new NoHandlerError(msg.subject);
    let data: unknown = msg.data;
    if (this.options.decode !== undefined) {
      try {
        data = this.options.decode(msg.data, msg.subject);
      } catch (e) {
        if (e instanceof MalformedPayloadError) throw e;
        // A ProtocolError keeps its own code and field in the DLQ message via classifyError.
        if (e instanceof ProtocolError) throw e;
        throw new MalformedPayloadError(`cannot decode payload: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    }
    // Nest returns a promise of a value or of an observable; a failed handler surfaces as a rejected promise
    // or an erroring observable carrying the exception (see errors.ts for how it survives Nest's filter).
    const result: unknown = await handler(data, ctx);
    if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
  }
}
