// Shutdown of the resources the module owns, after the transport stopped pulling: wait for the work in
// progress, then drain NATS (flushing publishes) and end the Postgres pool.
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { NatsConnectionProvider } from '@merklesync/messaging';
import { PG_POOL } from './ports.ts';
import { WorkQueue } from './state/work-queue.ts';

/** Something with an `end()` (pg.Pool), or null when the pool belongs to the caller. */
export interface Closable {
  end(): Promise<void>;
}

@Injectable()
export class Lifecycle implements OnApplicationShutdown {
  private readonly logger = new Logger('Merkle');
  private readonly queue: WorkQueue;
  private readonly nats: NatsConnectionProvider;
  private readonly pool: Closable | null;

  constructor(@Inject(WorkQueue) queue: WorkQueue, @Inject(NatsConnectionProvider) nats: NatsConnectionProvider, @Inject(PG_POOL) pool: Closable | null) {
    this.queue = queue;
    this.nats = nats;
    this.pool = pool;
  }

  async onApplicationShutdown(signal?: string): Promise<void> {
    this.logger.log(`shutting down${signal === undefined ? '' : ` (${signal})`}`);
    await this.queue.idle();
    await this.nats.close();
    await this.pool?.end();
  }
}
