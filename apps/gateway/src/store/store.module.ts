// The store bounded context: the pg pool (closed on shutdown) and libs/store adapters behind the read ports.
// Read-only: the gateway never migrates or writes (apps/merkle owns the schema).
import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { CachedMapNodeSource, createStore, storeConfig, type MerkleStore } from '@merklesync/store';
import pg from 'pg';
import type { GatewayConfig } from '../config.ts';
import { BLOCKS, CHECKPOINTS, CLOCK, GATEWAY_CONFIG, MAP_NODES, PG_POOL, TABLE_ROOTS } from '../tokens.ts';
import type { BlockReader, CheckpointReader, TableRootsReader } from './ports.ts';

@Injectable()
class _PoolCloser implements OnApplicationShutdown {
  private readonly pool: pg.Pool;
  constructor(@Inject(PG_POOL) pool: pg.Pool) {
    this.pool = pool;
  }
  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}

function _checkpoints(store: MerkleStore, logId: string): CheckpointReader {
  const c = store.checkpoints;
  return {
    latest: () => c.latest(logId),
    bySeq: (seq) => c.bySeq(logId, seq),
    list: (fromSeq, limit) => c.list(logId, fromSeq, limit),
    tableRootsAt: (seq) => c.tableRootsAt(logId, seq),
  };
}

/**
 * Provides GATEWAY_CONFIG, PG_POOL, MAP_NODES, TABLE_ROOTS, CHECKPOINTS, BLOCKS, CLOCK (global).
 * @example imports: [StoreModule.forRoot(config)]
 */
@Module({})
export class StoreModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    const cfg = storeConfig({ schema: config.postgres.schema });
    const store = Symbol('MERKLE_STORE');
    return {
      module: StoreModule,
      global: true,
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: CLOCK, useValue: () => Date.now() },
        {
          provide: PG_POOL,
          useFactory: () => {
            const pool = new pg.Pool({ connectionString: config.postgres.url, max: config.postgres.poolMax, application_name: config.nats.name });
            // An idle client's error (server restart) must not crash the process; the next query reconnects.
            pool.on('error', () => undefined);
            return pool;
          },
        },
        { provide: store, inject: [PG_POOL], useFactory: (pool: pg.Pool): MerkleStore => createStore(pool, cfg, { suite: config.suite }) },
        { provide: MAP_NODES, inject: [store], useFactory: (s: MerkleStore) => new CachedMapNodeSource(s.maps, config.cache) },
        { provide: TABLE_ROOTS, inject: [store], useFactory: (s: MerkleStore): TableRootsReader => ({ tableRoots: () => s.apply.tableRoots() }) },
        { provide: CHECKPOINTS, inject: [store], useFactory: (s: MerkleStore) => _checkpoints(s, config.logId) },
        {
          provide: BLOCKS,
          inject: [store],
          useFactory: ({ blocks: b }: MerkleStore): BlockReader => ({
            getAt: (s, t, k, at) => b.getAt(s, t, k, at),
            getManyAt: (s, t, k, ats) => b.getManyAt(s, t, k, ats),
            scan: (s, t, o) => b.scan(s, t, o),
          }),
        },
        _PoolCloser,
      ],
      exports: [GATEWAY_CONFIG, CLOCK, PG_POOL, MAP_NODES, TABLE_ROOTS, CHECKPOINTS, BLOCKS],
    };
  }
}
