// The TCP listener: one Session per client connection, a connection limit, metrics, graceful shutdown
// (stop accepting, end sessions, wait for records being published).
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { errorResponse } from '@merklesync/pgwire';
import { initSqlAnalysis } from '@merklesync/sql-analysis';
import type { TableCatalog, TxCapture } from '@merklesync/state-capture';
import { ProxyMetrics } from '../capture/metrics.ts';
import { RecordService } from '../capture/record.service.ts';
import type { ProxyConfig } from '../config.ts';
import { ProxyErrorCode, sqlstateOf } from '../errors.ts';
import { PROXY_CONFIG } from '../tokens.ts';
import { type OpenTransaction, Session, type SessionHost } from './session.ts';

@Injectable()
export class ProxyServer implements OnApplicationBootstrap, OnApplicationShutdown, SessionHost {
  readonly #config: ProxyConfig;
  readonly #records: RecordService;
  readonly #metrics: ProxyMetrics;
  readonly #logger = new Logger('ProxyServer');
  readonly #sessions = new Set<Session>();
  #server: Server | undefined;
  #http: HttpServer | undefined;

  readonly backend: { host: string; port: number };
  readonly maxMessageBytes: number;
  readonly captureEnabled: boolean;

  constructor(@Inject(PROXY_CONFIG) config: ProxyConfig, @Inject(RecordService) records: RecordService, @Inject(ProxyMetrics) metrics: ProxyMetrics) {
    this.#config = config;
    this.#records = records;
    this.#metrics = metrics;
    this.backend = config.backend;
    this.maxMessageBytes = config.maxMessageBytes;
    this.captureEnabled = config.capture;
  }

  /** The address the proxy listens on (after bootstrap). */
  address(): AddressInfo {
    return this.#server!.address() as AddressInfo;
  }

  async onApplicationBootstrap(): Promise<void> {
    await initSqlAnalysis();
    const server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#config.listen.port, this.#config.listen.host, () => resolve());
    });
    const a = this.address();
    this.#logger.log(`listening on ${a.address}:${a.port}, backend ${this.backend.host}:${this.backend.port}, capture ${this.captureEnabled ? 'on' : 'off'}`);
    if (this.#config.metricsPort > 0) {
      this.#http = createHttpServer((req, res) => {
        if (req.url === '/metrics') res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(this.#metrics.render());
        else if (req.url === '/healthz') res.writeHead(200).end('ok');
        else res.writeHead(404).end();
      });
      this.#http.listen(this.#config.metricsPort, this.#config.listen.host);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
    this.#http?.close();
    for (const s of this.#sessions) s.shutdown();
    await Promise.allSettled([...this.#sessions].map((s) => s.closed));
    await this.#records.drain();
  }

  #accept(socket: Socket): void {
    this.#metrics.inc('connections_total');
    if (this.#sessions.size >= this.#config.maxConnections) {
      this.#metrics.inc('connections_refused');
      socket.on('error', () => socket.destroy());
      socket.end(errorResponse(sqlstateOf(ProxyErrorCode.TooManyConnections), 'sorry, too many clients already (proxy)', 'FATAL'));
      return;
    }
    const session = new Session(socket, this);
    this.#sessions.add(session);
    this.#metrics.activeConnections = this.#sessions.size;
    void session.closed.then(() => {
      this.#sessions.delete(session);
      this.#metrics.activeConnections = this.#sessions.size;
    });
  }

  // SessionHost ---------------------------------------------------------------------------------------------

  newCapture(catalog: TableCatalog): TxCapture {
    return this.#records.newCapture(catalog);
  }

  committed(tx: OpenTransaction): void {
    this.#records.committed(tx);
  }

  warned(warnings: readonly string[]): void {
    this.#metrics.inc('nondeterministic_warnings', warnings.length);
    for (const w of warnings) this.#logger.warn(w);
  }

  log(level: 'log' | 'warn' | 'error', message: string): void {
    this.#logger[level](message);
  }

  count(metric: 'malformed' | 'capture_failed' | 'statements' | 'transactions_captured'): void {
    this.#metrics.inc(metric);
  }
}
