// DebeziumSource: a Kafka consumer group (kafkajs) reading a Debezium PostgreSQL connector's topics — one per
// captured table, the transaction metadata topic and the heartbeat topic — and delivering the same ChangeBatches
// as PgLogicalSource. Kafka offsets are committed only for records whose batches the consumer acknowledged (after
// JetStream's PubAcks); records that cannot be used go to a dead-letter topic with the reason.
import { Kafka, logLevel, type Admin, type Consumer, type EachBatchPayload, type KafkaMessage, type Producer } from 'kafkajs';
import { SourceError, SourceErrorCode } from '../errors.ts';
import type { BatchPosition, ChangeBatch } from '../types.ts';
import { DebeziumAssembler, type OffsetCommit, type RecordRef } from './assembler.ts';
import { PoisonRecord, parseDebeziumRecord, type CatalogTable } from './record.ts';
import { DEFAULT_VALUE_MODES, type DebeziumValueModes } from './values.ts';
import { Signal } from '../signal.ts';

/** Configuration of a {@link DebeziumSource}. */
export interface DebeziumSourceConfig {
  /** Kafka bootstrap servers, `host:port`. */
  brokers: string[];
  /** Consumer group: one active ingest per group (the group's committed offsets are the source position). */
  groupId: string;
  /** The connector's `topic.prefix`. Table topics are `<prefix>.<schema>.<table>`. */
  topicPrefix: string;
  /** Captured tables, `schema.table` (or `table` for public). */
  tables: string[];
  /** Default `<prefix>.transaction` (the connector's `topic.transaction` naming). */
  transactionTopic?: string;
  /** Default `__debezium-heartbeat.<prefix>`. */
  heartbeatTopic?: string;
  /** Dead-letter topic. Default `<prefix>.merklesync.dlq`. */
  deadLetterTopic?: string;
  /** Bounds of one delivered batch. Default 1000 changes. */
  batch?: { maxChanges?: number };
  /** Delivered-but-unacknowledged (plus queued) batches before consumption pauses. Default 64. */
  maxUnackedBatches?: number;
  /** The connector's value representations, for records without schemas. Default: deploy/debezium/connector.json's. */
  modes?: Partial<DebeziumValueModes>;
  /** Create missing topics (1 partition each) at start so the group subscribes to all of them. Default true. */
  createTopics?: boolean;
  clientId?: string;
  sessionTimeoutMs?: number;
}

/** Ports of a {@link DebeziumSource}. */
export interface DebeziumSourceDeps {
  /**
   * Column types of a table from the source database (`schema.table` → description). Needed for records without
   * schemas, or without `column.propagate.source.type`; called once per table at start.
   */
  catalog?: (tables: readonly string[]) => Promise<ReadonlyMap<string, CatalogTable>>;
  /** Where warnings go (dead-lettered records, ...). */
  warn?: (message: string) => void;
  /** kafkajs log level. Default WARN... NOTHING in tests. */
  kafkaLogLevel?: logLevel;
}

/** Counters for tests, tools and metrics. */
export interface DebeziumSourceStats {
  records: number;
  deadLettered: number;
  heartbeats: number;
  tombstones: number;
  lastHeartbeatMs: number | null;
  committedOffsets: number;
}

function _qualified(t: string): string {
  return t.includes('.') ? t : `public.${t}`;
}

/**
 * Debezium PostgreSQL events from Kafka as ChangeBatches. Same contract as PgLogicalSource: `start()`,
 * `batches()`, cumulative `ack(position)` in delivery order, `stop()`. Guarantees: libs/sources/README.md
 * "Debezium source".
 * @example
 * const source = new DebeziumSource({ brokers: ['127.0.0.1:9092'], groupId: 'merklesync-app', topicPrefix: 'app', tables: ['public.users'] });
 * await source.start();
 * for await (const batch of source.batches()) { await publish(batch); await source.ack(batch); }
 */
export class DebeziumSource {
  readonly #cfg: Required<Omit<DebeziumSourceConfig, 'modes' | 'batch' | 'clientId' | 'sessionTimeoutMs'>> & { maxChanges: number; modes: DebeziumValueModes; clientId: string; sessionTimeoutMs: number };
  readonly #deps: DebeziumSourceDeps;
  readonly #tables: Set<string>;
  readonly #topicTable = new Map<string, string>();
  readonly #assembler: DebeziumAssembler;
  readonly stats: DebeziumSourceStats = { records: 0, deadLettered: 0, heartbeats: 0, tombstones: 0, lastHeartbeatMs: null, committedOffsets: 0 };
  #consumer: Consumer | null = null;
  #producer: Producer | null = null;
  #catalog: ReadonlyMap<string, CatalogTable> = new Map();
  #queue: ChangeBatch[] = [];
  #failure: SourceError | null = null;
  #running = false;
  #stopped = false;
  /** A batch was queued (or the source stopped); room was freed for the reader. */
  readonly #ready = new Signal();
  readonly #room = new Signal();
  #commitChain: Promise<void> = Promise.resolve();

  constructor(config: DebeziumSourceConfig, deps: DebeziumSourceDeps = {}) {
    const bad = (why: string): never => {
      throw new SourceError(SourceErrorCode.InvalidConfig, `debezium source: ${why}`);
    };
    if (!Array.isArray(config.brokers) || config.brokers.length === 0) bad('brokers must list at least one host:port');
    if (!config.groupId) bad('groupId is required');
    if (!config.topicPrefix) bad('topicPrefix is required');
    if (!Array.isArray(config.tables) || config.tables.length === 0) bad('tables must list the captured tables (schema.table)');
    const maxChanges = config.batch?.maxChanges ?? 1000;
    const maxUnackedBatches = config.maxUnackedBatches ?? 64;
    if (!Number.isSafeInteger(maxChanges) || maxChanges < 1) bad('batch.maxChanges must be a positive integer');
    if (!Number.isSafeInteger(maxUnackedBatches) || maxUnackedBatches < 1) bad('maxUnackedBatches must be a positive integer');
    const prefix = config.topicPrefix;
    this.#cfg = {
      brokers: config.brokers,
      groupId: config.groupId,
      topicPrefix: prefix,
      tables: config.tables.map(_qualified),
      transactionTopic: config.transactionTopic ?? `${prefix}.transaction`,
      heartbeatTopic: config.heartbeatTopic ?? `__debezium-heartbeat.${prefix}`,
      deadLetterTopic: config.deadLetterTopic ?? `${prefix}.merklesync.dlq`,
      maxUnackedBatches,
      createTopics: config.createTopics ?? true,
      maxChanges,
      modes: { ...DEFAULT_VALUE_MODES, ...config.modes },
      clientId: config.clientId ?? `merklesync-${config.groupId}`,
      sessionTimeoutMs: config.sessionTimeoutMs ?? 30_000,
    };
    this.#deps = deps;
    this.#tables = new Set(this.#cfg.tables);
    for (const t of this.#cfg.tables) this.#topicTable.set(`${prefix}.${t}`, t);
    this.#assembler = new DebeziumAssembler({ tables: this.#tables, maxChanges });
  }

  /** The topics this source reads. */
  get topics(): string[] {
    return [...this.#topicTable.keys(), this.#cfg.transactionTopic, this.#cfg.heartbeatTopic];
  }

  /**
   * Connects, creates missing topics, loads the catalog (when given) and joins the consumer group.
   * @throws SourceError(CONNECTION_LOST) when Kafka cannot be reached; (INVALID_CONFIG) for a bad catalog.
   */
  async start(): Promise<void> {
    if (this.#running) return;
    if (this.#stopped) throw new SourceError(SourceErrorCode.NotRunning, 'debezium source: stopped; create a new one');
    const kafka = new Kafka({
      clientId: this.#cfg.clientId,
      brokers: this.#cfg.brokers,
      logLevel: this.#deps.kafkaLogLevel ?? logLevel.ERROR,
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 },
    });
    let admin: Admin | null = null;
    try {
      if (this.#deps.catalog) this.#catalog = await this.#deps.catalog(this.#cfg.tables);
      admin = kafka.admin();
      await admin.connect();
      if (this.#cfg.createTopics) {
        const existing = new Set(await admin.listTopics());
        const missing = [...this.topics, this.#cfg.deadLetterTopic].filter((t) => !existing.has(t));
        if (missing.length > 0) await admin.createTopics({ waitForLeaders: true, topics: missing.map((topic) => ({ topic, numPartitions: 1 })) });
      }
      await admin.disconnect();
      admin = null;
      this.#producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false });
      await this.#producer.connect();
      const consumer = kafka.consumer({ groupId: this.#cfg.groupId, sessionTimeout: this.#cfg.sessionTimeoutMs, allowAutoTopicCreation: false, maxBytesPerPartition: 4 << 20 });
      this.#consumer = consumer;
      await consumer.connect();
      await consumer.subscribe({ topics: this.topics, fromBeginning: true });
      consumer.on(consumer.events.CRASH, (e) => {
        const err = e.payload.error;
        if (!e.payload.restart) this.#fail(new SourceError(SourceErrorCode.ConnectionLost, `debezium source: Kafka consumer stopped: ${err.message}`, { cause: err }));
      });
      this.#running = true;
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch: (p) => this.#eachBatch(p) });
    } catch (e) {
      await admin?.disconnect().catch(() => undefined);
      await this.#close();
      if (e instanceof SourceError) throw e;
      throw new SourceError(SourceErrorCode.ConnectionLost, `debezium source: cannot start on ${this.#cfg.brokers.join(',')}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const topic = batch.topic;
    const kind = topic === this.#cfg.transactionTopic ? 'transaction' : topic === this.#cfg.heartbeatTopic ? 'heartbeat' : 'table';
    for (const m of batch.messages) {
      if (!payload.isRunning() || payload.isStale() || this.#failure) return;
      const ref: RecordRef = { topic, partition: batch.partition, offset: BigInt(m.offset), done: false };
      this.stats.records++;
      await this.#consume(ref, m, kind);
      payload.resolveOffset(m.offset);
    }
    for (const b of this.#assembler.flushSnapshot()) this.#queue.push(b);
    for (const b of this.#assembler.drain()) this.#queue.push(b);
    this.#ready.notify();
    void this.#commit(this.#assembler.committable());
    // Backpressure: keep the group membership alive while the consumer catches up.
    while (this.#running && !this.#failure && this.#queue.length + this.#assembler.unacknowledged >= this.#cfg.maxUnackedBatches) {
      await this.#room.wait(1000);
      if (payload.isRunning()) await payload.heartbeat().catch(() => undefined);
    }
  }

  async #consume(ref: RecordRef, m: KafkaMessage, kind: 'transaction' | 'heartbeat' | 'table'): Promise<void> {
    const table = kind === 'table' ? (this.#topicTable.get(ref.topic) ?? null) : null;
    try {
      const rec = parseDebeziumRecord(m.key ?? null, m.value ?? null, { modes: this.#cfg.modes, topicKind: kind, catalog: (t) => this.#catalog.get(t) });
      if (rec.kind === 'heartbeat') {
        this.stats.heartbeats++;
        this.stats.lastHeartbeatMs = rec.tsMs;
      } else if (rec.kind === 'tombstone') this.stats.tombstones++;
      this.#assembler.push(ref, rec);
    } catch (e) {
      const poison = e instanceof PoisonRecord ? e : new PoisonRecord('MALFORMED', e instanceof Error ? e.message : String(e));
      await this.#deadLetter(ref, m, poison);
      this.#assembler.pushPoison(ref, table, poison.xid, poison.totalOrder);
    }
  }

  async #deadLetter(ref: RecordRef, m: KafkaMessage, poison: PoisonRecord): Promise<void> {
    this.stats.deadLettered++;
    this.#deps.warn?.(`debezium source: ${ref.topic}[${ref.partition}]@${ref.offset} → ${this.#cfg.deadLetterTopic}: ${poison.code}: ${poison.message}`);
    try {
      await this.#producer!.send({
        topic: this.#cfg.deadLetterTopic,
        acks: -1,
        messages: [
          {
            key: m.key ?? null,
            value: m.value ?? null,
            headers: {
              'merklesync.dlq.code': poison.code,
              'merklesync.dlq.reason': poison.message.slice(0, 4000),
              'merklesync.dlq.topic': ref.topic,
              'merklesync.dlq.partition': String(ref.partition),
              'merklesync.dlq.offset': ref.offset.toString(),
            },
          },
        ],
      });
    } catch (e) {
      // Not dead-lettered: the record must not be committed past. Stop; the next start reads it again.
      const err = new SourceError(SourceErrorCode.ConnectionLost, `debezium source: dead-letter write to ${this.#cfg.deadLetterTopic} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      this.#fail(err);
      throw err;
    }
  }

  #commit(offsets: OffsetCommit[]): Promise<void> {
    if (offsets.length === 0) return this.#commitChain;
    const consumer = this.#consumer;
    this.#commitChain = this.#commitChain.then(async () => {
      if (!consumer || this.#failure) return;
      try {
        await consumer.commitOffsets(offsets);
        this.stats.committedOffsets += offsets.length;
      } catch (e) {
        this.#fail(new SourceError(SourceErrorCode.ConnectionLost, `debezium source: offset commit failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
      }
    });
    return this.#commitChain;
  }

  /**
   * Batches in order: snapshot chunks and transactions (commit order). Ends after `stop()`; throws the SourceError
   * the source stopped with (after the batches read before it).
   */
  async *batches(): AsyncGenerator<ChangeBatch> {
    for (;;) {
      const b = this.#queue.shift();
      if (b) {
        yield b;
        continue;
      }
      if (this.#failure) throw this.#failure;
      if (this.#stopped || !this.#running) return;
      await this.#ready.wait();
    }
  }

  /**
   * Acknowledges this batch and every one delivered before it; commits the Kafka offsets that became free.
   * @throws SourceError(INVALID_ACK) for a position never delivered; (NOT_RUNNING) after stop.
   */
  async ack(position: BatchPosition): Promise<void> {
    if (!this.#running) throw new SourceError(SourceErrorCode.NotRunning, 'debezium source: not running');
    const offsets = this.#assembler.ack(position);
    this.#room.notify();
    await this.#commit(offsets);
    if (this.#failure) throw this.#failure;
  }

  /** Stops consuming: commits what was acknowledged, leaves the group, closes the clients. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#running = false;
    this.#room.notify();
    this.#ready.notify();
    await this.#commitChain;
    await this.#close();
  }

  async #close(): Promise<void> {
    const c = this.#consumer;
    const p = this.#producer;
    this.#consumer = null;
    this.#producer = null;
    await c?.disconnect().catch(() => undefined);
    await p?.disconnect().catch(() => undefined);
  }

  #fail(err: SourceError): void {
    this.#failure ??= err;
    this.#running = false;
    this.#ready.notify();
    this.#room.notify();
  }
}
