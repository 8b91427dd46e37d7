// The store bounded context: the pg pool (closed on shutdown), libs/store over it, and the map node cache.
// Read-only: the prover never migrates or writes (the merkle service owns the schema).
import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { CachedMapNodeSource, createStore, storeConfig, type MerkleStore } from '@merklesync/store';
import pg from 'pg';
import type { ProverConfig } from '../config.ts';
import { CachedCheckpointTables, CachedCheckpoints, CachedTableRoots } from './head-cache.ts';
import { CHECKPOINT_TABLES, CHECKPOINTS, LOG_PROOFS, MAP_NODES, MERKLE_STORE, PG_POOL, PROVER_CONFIG, TABLE_ROOTS } from '../tokens.ts';

/** The clock port of the head caches (monotonic). */
const _now = (): number => performance.now();

@Injectable()
class _PoolCloser implements OnApplicationShutdown {
  private readonly pool: pg.Pool;
  constructor(@Inject(PG_POOL) pool: pg.Pool) {
    this.pool = pool;
  }
  // Runs after the bus drained (beforeApplicationShutdown), so no request still needs the pool.
  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * Provides PG_POOL, MERKLE_STORE, MAP_NODES (cached), TABLE_ROOTS, CHECKPOINTS, CHECKPOINT_TABLES, LOG_PROOFS.
 * @example imports: [StoreModule.forRoot(config)]
 */
@Module({})
export class StoreModule {
  static forRoot(config: ProverConfig): DynamicModule {
    return {
      module: StoreModule,
      global: true,
      providers: [
        { provide: PROVER_CONFIG, useValue: config },
        {
          provide: PG_POOL,
          useFactory: () => {
            const pool = new pg.Pool({ connectionString: config.postgres.url, max: config.postgres.poolMax, application_name: config.nats.name });
            // An idle client's error (server restart) must not crash the process; the next query reconnects.
            pool.on('error', () => undefined);
            return pool;
          },
        },
        {
          provide: MERKLE_STORE,
          inject: [PG_POOL],
          useFactory: (pool: pg.Pool): MerkleStore => createStore(pool, storeConfig({ schema: config.postgres.schema }), { suite: config.suite }),
        },
        { provide: MAP_NODES, inject: [MERKLE_STORE], useFactory: (s: MerkleStore) => new CachedMapNodeSource(s.maps, config.cache) },
        { provide: TABLE_ROOTS, inject: [MERKLE_STORE], useFactory: (s: MerkleStore) => new CachedTableRoots(s.apply, config.headTtlMs, _now) },
        { provide: CHECKPOINTS, inject: [MERKLE_STORE], useFactory: (s: MerkleStore) => new CachedCheckpoints(s.checkpoints, config.headTtlMs, _now) },
        { provide: CHECKPOINT_TABLES, inject: [MERKLE_STORE], useFactory: (s: MerkleStore) => new CachedCheckpointTables(s.checkpoints) },
        { provide: LOG_PROOFS, inject: [MERKLE_STORE], useFactory: (s: MerkleStore) => s.logs },
        _PoolCloser,
      ],
      exports: [PROVER_CONFIG, PG_POOL, MERKLE_STORE, MAP_NODES, TABLE_ROOTS, CHECKPOINTS, CHECKPOINT_TABLES, LOG_PROOFS],
    };
  }
}
