// The JetStream side: a durable pull consumer on the commitments stream, one message per worker at a time. The
// handler only translates (decode → verify → store + publish); a record that does not decode is terminated and
// dead-lettered by the runner; a store or publish failure is retried by redelivery (results are idempotent per
// transaction id).
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConsumerRunner, JetStreamPublisher, NatsConnectionProvider } from '@merklesync/messaging';
import { decodeEvent, encodeEvent } from '@merklesync/protocol';
import { initSqlAnalysis } from '@merklesync/sql-analysis';
import type { VerificationStore } from '@merklesync/verification-store';
import type { ReplayConfig } from '../config.ts';
import { REPLAY_CONFIG, RESULTS_STORE } from '../tokens.ts';
import { VerifierService } from './verifier.service.ts';
import { WorkerPool } from './worker-pool.ts';

@Injectable()
export class ReplayConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly #config: ReplayConfig;
  readonly #nats: NatsConnectionProvider;
  readonly #publisher: JetStreamPublisher;
  readonly #verifier: VerifierService;
  readonly #pool: WorkerPool;
  readonly #store: VerificationStore;
  readonly #logger = new Logger('ReplayConsumer');
  #runner: ConsumerRunner | undefined;
  /** Verified so far by this process (tests and logs). */
  verified = 0;

  constructor(
    @Inject(REPLAY_CONFIG) config: ReplayConfig,
    @Inject(NatsConnectionProvider) nats: NatsConnectionProvider,
    @Inject(JetStreamPublisher) publisher: JetStreamPublisher,
    @Inject(VerifierService) verifier: VerifierService,
    @Inject(WorkerPool) pool: WorkerPool,
    @Inject(RESULTS_STORE) store: VerificationStore,
  ) {
    this.#config = config;
    this.#nats = nats;
    this.#publisher = publisher;
    this.#verifier = verifier;
    this.#pool = pool;
    this.#store = store;
  }

  async onApplicationBootstrap(): Promise<void> {
    await initSqlAnalysis();
    await this.#store.migrate();
    await this.#pool.start();
    this.#runner = new ConsumerRunner(this.#nats.jetstream(), {
      stream: this.#config.commitments.stream,
      consumer: this.#config.commitments.consumer,
      // Twice the workers: a handler storing and publishing its verdict no longer holds a worker.
      concurrency: this.#config.workers * 2,
      batchSize: Math.max(16, this.#config.workers * 4),
      deadLetterSubject: this.#config.deadLetter.subject,
      handler: (msg) => this.#handle(msg.data),
      logger: this.#logger,
    });
    await this.#runner.start();
    this.#logger.log(`replaying ${this.#config.commitments.stream} with ${this.#config.workers} workers`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.#runner?.stop();
    await this.#pool.stop().catch((e: unknown) => this.#logger.warn(`dropping worker databases: ${String(e)}`));
  }

  async #handle(data: Uint8Array): Promise<void> {
    const record = decodeEvent('state-commitment', data);
    const result = await this.#verifier.verify(record);
    await this.#store.put(result);
    await this.#publisher.publish(this.#config.resultsStream.subject, encodeEvent('verification-result', result), {
      msgId: `verification:${result.transactionId}`,
      expectStream: this.#config.resultsStream.stream,
    });
    this.verified++;
    if (!result.success) this.#logger.warn(`transaction ${result.transactionId} NOT verified: ${result.error || result.mismatches.map((m) => `${m.table} (${m.keys.length} keys)`).join(', ')}`);
  }
}
