// Binds the proof handlers to the bus: subscribes `<prefix>.<kind>` with the queue group once the
// application is up, and drains on shutdown before the NATS connection and the pool close.
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { NatsConnectionProvider } from '@merklesync/messaging';
import { NatsRpcServer, type RpcServerStats } from '../bus/nats-rpc-server.ts';
import { proverSubject } from '../bus/subjects.ts';
import type { ProverConfig } from '../config.ts';
import { errorReply } from '../errors.ts';
import { PROVER_CONFIG } from '../tokens.ts';
import { ProofHandlers } from './proof.handlers.ts';

/**
 * The prover's request/reply endpoint.
 * @example app.get(ProofRpcServer).stats.ok
 */
@Injectable()
export class ProofRpcServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ProofRpcServer');
  private readonly config: ProverConfig;
  private readonly nats: NatsConnectionProvider;
  private readonly handlers: ProofHandlers;
  private server: NatsRpcServer | undefined;

  constructor(@Inject(PROVER_CONFIG) config: ProverConfig, @Inject(NatsConnectionProvider) nats: NatsConnectionProvider, @Inject(ProofHandlers) handlers: ProofHandlers) {
    this.config = config;
    this.nats = nats;
    this.handlers = handlers;
  }

  /** Counters of this instance (zeros before start). */
  get stats(): RpcServerStats {
    return this.server?.stats ?? { received: 0, ok: 0, failed: 0, noReply: 0, inFlight: 0 };
  }

  async onApplicationBootstrap(): Promise<void> {
    const nc = await this.nats.connect();
    const server = new NatsRpcServer(nc, { queue: this.config.queueGroup, maxInFlight: this.config.maxInFlight, mapError: errorReply, logger: this.logger });
    for (const [kind, handler] of this.handlers.routes()) server.handle(proverSubject(this.config.subjectPrefix, kind), handler);
    server.start();
    // A flush makes the subscriptions known to the server before start-up reports ready.
    await nc.flush();
    this.server = server;
    this.logger.log(`serving ${this.config.subjectPrefix}.> in queue group ${this.config.queueGroup}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.server?.drain();
  }
}
