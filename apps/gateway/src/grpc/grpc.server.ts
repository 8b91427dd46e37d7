// The gRPC endpoint: an HTTP/2 cleartext server on its own port running connect-node's adapter, so gRPC,
// Connect and gRPC-Web clients are all served. Started once the application is up; closed on shutdown.
import http2 from 'node:http2';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { MerkleSyncService } from '@merklesync/protocol';
import type { GatewayConfig } from '../config.ts';
import { traceGrpcCalls } from '../server-spans.ts';
import { GATEWAY_CONFIG } from '../tokens.ts';
import { errorInterceptor } from './grpc-errors.ts';
import { MerkleSyncGrpc } from './merkle-sync.grpc.ts';

/**
 * Owns the HTTP/2 server.
 * @example app.get(GrpcServer).port // the bound port (useful with port 0)
 */
@Injectable()
export class GrpcServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('GrpcServer');
  private readonly config: GatewayConfig;
  private readonly handlers: MerkleSyncGrpc;
  private server: http2.Http2Server | undefined;
  private readonly sessions = new Set<http2.ServerHttp2Session>();

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig, @Inject(MerkleSyncGrpc) handlers: MerkleSyncGrpc) {
    this.config = config;
    this.handlers = handlers;
  }

  /** The bound port. @throws Error before start-up. */
  get port(): number {
    const a = this.server?.address();
    if (a === null || a === undefined || typeof a === 'string') throw new Error('gRPC server is not listening');
    return (a).port;
  }

  async onApplicationBootstrap(): Promise<void> {
    const handler = connectNodeAdapter({
      routes: (router) => router.service(MerkleSyncService, this.handlers.impl()),
      interceptors: [traceGrpcCalls, errorInterceptor],
    });
    const server = http2.createServer(handler);
    server.on('session', (s) => {
      this.sessions.add(s);
      s.once('close', () => this.sessions.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.grpc.port, this.config.grpc.host, () => resolve());
    });
    this.server = server;
    this.logger.log(`gRPC (merklesync.v1.MerkleSyncService) on ${this.config.grpc.host}:${this.port}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    const closed = new Promise<void>((r) => server.close(() => r()));
    // Open streams (WatchCheckpoints) would hold close() forever: GOAWAY every session, then destroy.
    for (const s of this.sessions) s.close();
    const t = setTimeout(() => {
      for (const s of this.sessions) s.destroy();
    }, 2000);
    await closed;
    clearTimeout(t);
  }
}
