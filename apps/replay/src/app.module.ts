// Root module of the replay service: NATS (commitments, results and dead-letter streams and the durable consumer
// provisioned at start-up), key material, the results store, the worker pool, the verifier and the consumer.
import { readFile } from 'node:fs/promises';
import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { LocalKeyProvider, type KeyProvider } from '@merklesync/crypto';
import { MessagingModule } from '@merklesync/messaging';
import { VerificationStore } from '@merklesync/verification-store';
import pg from 'pg';
import type { ReplayConfig } from './config.ts';
import { ReplayError, ReplayErrorCode } from './errors.ts';
import { ReplayConsumer } from './replay/replay.consumer.ts';
import { VerifierService } from './replay/verifier.service.ts';
import { WorkerPool } from './replay/worker-pool.ts';
import { KEY_PROVIDER, REPLAY_CONFIG, RESULTS_STORE } from './tokens.ts';

const RESULTS_POOL = Symbol('RESULTS_POOL');

/** @throws ReplayError(KEY_MATERIAL) naming the variable. */
export async function loadReplayKeys(config: ReplayConfig): Promise<KeyProvider> {
  let provider: LocalKeyProvider;
  try {
    provider = LocalKeyProvider.fromKeyFile(await readFile(config.keys.file, 'utf8'));
  } catch (e) {
    throw new ReplayError(ReplayErrorCode.KeyMaterial, 'KEY_MATERIAL', `REPLAY_KEY_FILE: cannot use ${config.keys.file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const ring = provider.keyring(config.keys.kid);
  if (!ring) throw new ReplayError(ReplayErrorCode.KeyMaterial, 'KEY_MATERIAL', `REPLAY_KEY_ID: key file holds ${provider.kids().join(', ')}, not ${config.keys.kid}`);
  if (!ring.key(config.keys.commitmentKeyVersion)) throw new ReplayError(ReplayErrorCode.KeyMaterial, 'KEY_MATERIAL', `REPLAY_COMMITMENT_KEY_VERSION: no version ${config.keys.commitmentKeyVersion}`);
  return provider;
}

@Injectable()
class _PoolCloser implements OnApplicationShutdown {
  readonly #pool: pg.Pool;
  constructor(@Inject(RESULTS_POOL) pool: pg.Pool) {
    this.#pool = pool;
  }
  async onApplicationShutdown(): Promise<void> {
    await this.#pool.end();
  }
}

@Module({})
export class ReplayModule {
  static forRoot(config: ReplayConfig, keys: KeyProvider): DynamicModule {
    const week = 7 * 86_400_000;
    return {
      module: ReplayModule,
      imports: [
        MessagingModule.forRoot({
          connection: { servers: config.nats.servers, name: config.nats.name },
          streams: [
            { name: config.commitments.stream, subjects: [config.commitments.subject], replicas: config.commitments.replicas, maxAgeMs: week },
            { name: config.resultsStream.stream, subjects: [config.resultsStream.subject], replicas: config.commitments.replicas, maxAgeMs: week },
            { name: config.deadLetter.stream, subjects: [config.deadLetter.subject], replicas: config.commitments.replicas },
          ],
          consumers: [{ stream: config.commitments.stream, name: config.commitments.consumer, ackWaitMs: 60_000, maxDeliver: 5, maxAckPending: 1000 }],
        }),
      ],
      providers: [
        { provide: REPLAY_CONFIG, useValue: config },
        { provide: KEY_PROVIDER, useValue: keys },
        {
          provide: RESULTS_POOL,
          useFactory: () => {
            const pool = new pg.Pool({ connectionString: config.results.url, max: 4, application_name: config.nats.name });
            pool.on('error', () => undefined);
            return pool;
          },
        },
        { provide: RESULTS_STORE, inject: [RESULTS_POOL], useFactory: (pool: pg.Pool) => new VerificationStore(pool, config.results.schema) },
        { provide: WorkerPool, useFactory: () => new WorkerPool(config.verificationUrl, config.dbPrefix, config.instanceId, config.workers) },
        VerifierService,
        ReplayConsumer,
        _PoolCloser,
      ],
      exports: [ReplayConsumer, VerifierService],
    };
  }
}
