// The NATS connection port: one connection per service, opened once, drained on shutdown (drain lets
// in-flight publishes and subscriptions finish before the socket closes).
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { validateConnectionConfig, type NatsConnectionConfig } from './config.ts';
import { MessagingError, MessagingErrorCode } from './errors.ts';

/** Nest injection token of the {@link NatsConnectionConfig}. */
export const NATS_CONNECTION_CONFIG = Symbol('NATS_CONNECTION_CONFIG');

/**
 * Owns the service's NATS connection. Injectable (provide {@link NATS_CONNECTION_CONFIG}) or constructed
 * directly. `connect()` is idempotent; `close()` drains; Nest calls `close()` on application shutdown.
 * @example
 * const nats = new NatsConnectionProvider({ servers: '127.0.0.1:4222', name: 'merkle' });
 * const js = (await nats.connect(), nats.jetstream());
 */
@Injectable()
export class NatsConnectionProvider implements OnApplicationShutdown {
  private readonly config: NatsConnectionConfig;
  private readonly logger = new Logger('NatsConnection');
  private connecting: Promise<NatsConnection> | undefined;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;

  /** @throws MessagingError(INVALID_CONFIG) for a bad config. */
  constructor(@Inject(NATS_CONNECTION_CONFIG) config: NatsConnectionConfig) {
    this.config = validateConnectionConfig(config);
  }

  /**
   * Opens the connection (once; later calls return the same one).
   * @throws MessagingError(NOT_CONNECTED) when no server can be reached within `connectTimeoutMs`.
   */
  connect(): Promise<NatsConnection> {
    this.connecting ??= this._open().catch((e: unknown) => {
      this.connecting = undefined;
      throw new MessagingError(MessagingErrorCode.NotConnected, `cannot connect to NATS ${String(this.config.servers)}: ${String(e)}`, { cause: e });
    });
    return this.connecting;
  }

  private async _open(): Promise<NatsConnection> {
    const c = this.config;
    const nc = await connect({
      servers: typeof c.servers === 'string' ? c.servers : [...c.servers],
      name: c.name,
      maxReconnectAttempts: c.reconnect?.maxAttempts ?? -1,
      reconnectTimeWait: c.reconnect?.timeWaitMs ?? 2000,
      reconnectJitter: c.reconnect?.jitterMs ?? 100,
      timeout: c.connectTimeoutMs ?? 5000,
      ...(c.user !== undefined ? { user: c.user } : {}),
      ...(c.pass !== undefined ? { pass: c.pass } : {}),
      ...(c.token !== undefined ? { token: c.token } : {}),
    });
    this.nc = nc;
    this.js = jetstream(nc, { timeout: c.requestTimeoutMs ?? 5000 });
    void this._watch(nc);
    return nc;
  }

  // Connection status changes are only logged: the client reconnects on its own.
  private async _watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') this.logger.warn(`NATS ${s.type}: ${JSON.stringify(s)}`);
    }
  }

  /** The open connection. @throws MessagingError(NOT_CONNECTED) before `connect()` resolved or after close. */
  get connection(): NatsConnection {
    if (this.nc === undefined || this.nc.isClosed()) throw new MessagingError(MessagingErrorCode.NotConnected, 'NATS connection is not open');
    return this.nc;
  }

  /** A JetStream client on the open connection. @throws MessagingError(NOT_CONNECTED) as {@link connection}. */
  jetstream(): JetStreamClient {
    void this.connection;
    if (this.js === undefined) throw new MessagingError(MessagingErrorCode.NotConnected, 'NATS connection is not open');
    return this.js;
  }

  /** A JetStream manager (stream/consumer admin API). @throws MessagingError(NOT_CONNECTED). */
  jetstreamManager(): Promise<JetStreamManager> {
    return jetstreamManager(this.connection, { timeout: this.config.requestTimeoutMs ?? 5000 });
  }

  /** Drains and closes the connection (idempotent). */
  async close(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    this.js = undefined;
    this.connecting = undefined;
    if (nc === undefined || nc.isClosed()) return;
    try {
      await nc.drain();
    } catch {
      // Already draining or closed by the peer: closing is all that is left to do.
      await nc.close();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}
