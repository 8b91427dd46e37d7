// Wiring of the change source: the source database pool for the durable state, the state store (migrated at
// start-up), and the PgLogicalSource itself.
import { Inject, Injectable, Logger, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import pg from 'pg';
import { DebeziumSource, MongoChangeStreamSource, MongoResumeTokenStore, PgLogicalSource, loadPgCatalog } from '@merklesync/sources';
import { MongoClient } from 'mongodb';
import type { IngestConfig } from '../config.ts';
import { CHANGE_SOURCE, INGEST_CONFIG, type ChangeSource } from '../ingest/ports.ts';
import { PgSourceStateStore } from './pg-source-state.store.ts';

/** Injection token of the migrated {@link PgSourceStateStore}. */
const SOURCE_STATE_STORE = Symbol('SOURCE_STATE_STORE');

/** Owns the small pool on the source database that the state store uses; closed after the pipeline stopped. */
@Injectable()
class SourceStatePool implements OnApplicationShutdown {
  readonly pool: pg.Pool;
  constructor(@Inject(INGEST_CONFIG) config: IngestConfig) {
    // Only the pg source has a state table; for Debezium the pool stays empty (no connection is ever opened).
    this.pool = new pg.Pool({ ...(config.source.connection ?? {}), max: 2, application_name: `merklesync-ingest-${config.source.name}` });
    // An idle client that loses its server emits 'error' on the pool; without a listener the process would crash.
    this.pool.on('error', () => undefined);
  }
  #ended = false;
  async onApplicationShutdown(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    await this.pool.end();
  }
}

/** Test and tooling hook: wrap the source (e.g. to simulate a crash before an ack). */
export type SourceWrapper = (source: ChangeSource) => ChangeSource;

/** The providers of the change source. */
export function sourceProviders(wrap: SourceWrapper = (s) => s): Provider[] {
  return [
    SourceStatePool,
    {
      provide: SOURCE_STATE_STORE,
      inject: [INGEST_CONFIG, SourceStatePool],
      useFactory: async (config: IngestConfig, holder: SourceStatePool) => {
        const store = new PgSourceStateStore(holder.pool, config.source.stateSchema);
        // Debezium keeps its position in the Kafka consumer group: no state table in the source database.
        if (config.source.kind !== 'pg') return store;
        await store.migrate();
        return store;
      },
    },
    {
      provide: CHANGE_SOURCE,
      inject: [INGEST_CONFIG, SOURCE_STATE_STORE],
      useFactory: (config: IngestConfig, state: PgSourceStateStore): ChangeSource => {
        const s = config.source;
        if (s.kind === 'debezium') return wrap(debeziumSource(config));
        if (s.kind === 'mongodb') return wrap(mongoSource(config));
        if (s.connection === null) throw new Error('INGEST_PG_URL: is required for INGEST_SOURCE_KIND=pg');
        const source = new PgLogicalSource(
          {
            connection: s.connection,
            publication: s.publication,
            slot: s.slot,
            ...(s.tables ? { tables: s.tables } : {}),
            batch: s.batch,
            maxUnackedBatches: s.maxUnackedBatches,
            // Ingest keeps no plaintext state, so every row must arrive complete (libs/sources README "TOAST").
            toast: 'require-full',
          },
          { state },
        );
        return wrap(source);
      },
    },
  ];
}

/** The Debezium source of the configuration (INGEST_SOURCE_KIND=debezium). */
function debeziumSource(config: IngestConfig): DebeziumSource {
  const s = config.source;
  const d = s.debezium!;
  const log = new Logger('DebeziumSource');
  const connection = s.connection;
  return new DebeziumSource(
    {
      brokers: d.brokers,
      groupId: d.groupId,
      topicPrefix: d.topicPrefix,
      tables: s.tables ?? [],
      deadLetterTopic: d.deadLetterTopic,
      batch: { maxChanges: s.batch.maxChanges },
      maxUnackedBatches: s.maxUnackedBatches,
      modes: { decimal: d.decimalMode, binary: d.binaryMode },
      clientId: `merklesync-ingest-${s.name}`,
    },
    {
      warn: (m) => log.warn(m),
      ...(d.catalog && connection ? { catalog: (tables: readonly string[]) => loadPgCatalog(connection, tables) } : {}),
    },
  );
}

/** The MongoDB change-stream source (INGEST_SOURCE_KIND=mongodb); resume tokens in `<state database>.resume_tokens`. */
function mongoSource(config: IngestConfig): ChangeSource {
  const s = config.source;
  const m = s.mongo!;
  const log = new Logger('MongoSource');
  // A second client for the token store: the source's own client closes with the source.
  const stateClient = new MongoClient(m.url, { serverSelectionTimeoutMS: 10_000 });
  const source = new MongoChangeStreamSource(
    {
      url: m.url,
      database: m.database,
      ...(m.collections ? { collections: m.collections } : {}),
      stream: s.name,
      preImages: m.preImages,
      snapshot: m.snapshot,
      batch: { maxChanges: s.batch.maxChanges },
      maxUnackedBatches: s.maxUnackedBatches,
    },
    { tokens: new MongoResumeTokenStore(stateClient, m.stateDatabase), warn: (x) => log.warn(x) },
  );
  return {
    start: async () => {
      await stateClient.connect();
      await source.start();
    },
    batches: () => source.batches(),
    ack: (p) => source.ack(p),
    stop: async () => {
      await source.stop();
      await stateClient.close().catch(() => undefined);
    },
  };
}
