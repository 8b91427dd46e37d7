// The ingest pipeline: source batches → encrypted, committed ChangeBatch events → JetStream, and only once every
// PubAck of a batch is in, the source acknowledgement that lets the replication slot move past it.
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { KeyProvider } from '@merklesync/crypto';
import { MessagingError, MessagingErrorCode, type PublishAck } from '@merklesync/messaging';
import { SourceError, type ChangeBatch } from '@merklesync/sources';
import type { IngestConfig } from '../config.ts';
import { BatchEncoder, type OutgoingMessage } from './batch-encoder.ts';
import { IngestError, IngestErrorCode } from './ingest.errors.ts';
import { CHANGE_PUBLISHER, CHANGE_SOURCE, CLOCK, INGEST_CONFIG, KEY_PROVIDER, type ChangePublisher, type ChangeSource, type Clock } from './ports.ts';
import { RowSealer } from './row-sealer.ts';

/** Counters of one pipeline run (a restart starts from zero). */
export interface IngestStats {
  /** Source batches published and acknowledged to the source. */
  batchesAcked: number;
  /** Bus messages published (PubAck received), duplicates included. */
  messagesPublished: number;
  /** PubAcks that said "duplicate": the stream already held that Nats-Msg-Id (redelivery after a crash). */
  duplicates: number;
  /** Row events acknowledged. */
  changesAcked: number;
  /** The last acknowledged batch, e.g. `transaction 0/16B3748 part 0`. */
  lastAcked: string | null;
}

const _tracer = trace.getTracer('@merklesync/app-ingest');
const _TRANSIENT: ReadonlySet<string> = new Set([MessagingErrorCode.NotConnected, MessagingErrorCode.PublishTimeout, MessagingErrorCode.PublishFailed]);

/** Any failure as the typed error the pipeline stops with. */
function toIngestError(e: unknown): IngestError {
  if (e instanceof IngestError) return e;
  if (e instanceof SourceError) return new IngestError(IngestErrorCode.SourceFailed, `source ${e.code}: ${e.message}`, { cause: e });
  if (e instanceof MessagingError) return new IngestError(IngestErrorCode.PublishFailed, `${e.code}: ${e.message}`, { cause: e });
  return new IngestError(IngestErrorCode.Internal, e instanceof Error ? e.message : String(e), { cause: e });
}

/**
 * Runs the pipeline from application bootstrap (after the stream was provisioned) until shutdown or the first
 * error. Batches are encoded in order; up to `maxInFlightBatches` publishes await their PubAcks at once; source
 * acks follow in delivery order, each after all PubAcks of its batch. On an error nothing after the failing batch
 * is acknowledged: the slot keeps it and the next start redelivers it (same Nats-Msg-Ids).
 * @example const outcome = await app.get(IngestPipeline).done; // null after a clean stop, else the IngestError
 */
@Injectable()
export class IngestPipeline implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly #log = new Logger('IngestPipeline');
  readonly #cfg: IngestConfig;
  readonly #source: ChangeSource;
  readonly #publisher: ChangePublisher;
  readonly #clock: Clock;
  readonly #encoder: BatchEncoder;
  readonly stats: IngestStats = { batchesAcked: 0, messagesPublished: 0, duplicates: 0, changesAcked: 0, lastAcked: null };
  #stopping = false;
  #failure: IngestError | null = null;
  #ackChain: Promise<void> = Promise.resolve();
  #running: Promise<IngestError | null> | null = null;
  #halting: Promise<void> | null = null;
  #resolveDone!: (outcome: IngestError | null) => void;
  /** Resolves when the pipeline ends: null after a clean stop, the IngestError it stopped with otherwise. */
  readonly done: Promise<IngestError | null> = new Promise((resolve) => (this.#resolveDone = resolve));

  constructor(
    @Inject(INGEST_CONFIG) config: IngestConfig,
    @Inject(CHANGE_SOURCE) source: ChangeSource,
    @Inject(CHANGE_PUBLISHER) publisher: ChangePublisher,
    @Inject(KEY_PROVIDER) keys: KeyProvider,
    @Inject(CLOCK) clock: Clock,
  ) {
    this.#cfg = config;
    this.#source = source;
    this.#publisher = publisher;
    this.#clock = clock;
    const sealer = new RowSealer(keys, {
      source: config.source.name,
      kid: config.keys.kid,
      commitmentAlgorithm: config.keys.commitmentAlgorithm,
      commitmentKeyVersion: config.keys.commitmentKeyVersion,
    });
    this.#encoder = new BatchEncoder(sealer, { source: config.source.name, subjectPrefix: config.stream.subjectPrefix, nowMicros: () => BigInt(clock.nowMs()) * 1000n });
  }

  /**
   * Starts the source (publication, slot, snapshot or streaming) and the loop. A start-up error fails the
   * application's start.
   * @throws IngestError(SOURCE_FAILED) when the source cannot start.
   */
  async onApplicationBootstrap(): Promise<void> {
    const s = this.#cfg.source;
    try {
      await this.#source.start();
    } catch (e) {
      const err = toIngestError(e);
      this.#resolveDone(err);
      throw err;
    }
    this.#log.log(`source ${s.name}: ${_describeSource(s)} → stream ${this.#cfg.stream.name}`);
    this.#running = this.#loop().then((outcome) => {
      if (outcome) this.#log.error(`pipeline stopped: ${outcome.code}: ${outcome.message}`, outcome.stack);
      else this.#log.log('pipeline stopped');
      this.#resolveDone(outcome);
      return outcome;
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /**
   * Clean stop: no new batch is started, in-flight publishes finish and their acks are sent, then the source
   * stops (telling the slot the acknowledged position). Idempotent.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#ackChain;
    await this.#source.stop();
    await this.#running;
  }

  async #loop(): Promise<IngestError | null> {
    const window: Promise<void>[] = [];
    try {
      for await (const batch of this.#source.batches()) {
        if (this.#stopping || this.#failure) break;
        const span = _tracer.startSpan(`ingest ${batch.kind}`, {
          kind: SpanKind.INTERNAL,
          attributes: { 'merklesync.source': this.#cfg.source.name, 'merklesync.batch.kind': batch.kind, 'merklesync.batch.commit_lsn': batch.commitLsn, 'merklesync.batch.part': batch.part, 'merklesync.batch.changes': batch.changes.length },
        });
        let messages: OutgoingMessage[];
        try {
          messages = await this.#encoder.encode(batch);
        } catch (e) {
          _endSpan(span, e);
          throw e;
        }
        while (window.length >= this.#cfg.pipeline.maxInFlightBatches) await window.shift();
        // A stop requested meanwhile: leave the batch unpublished (it is redelivered). Checked right before the
        // synchronous append below, so stop() awaiting #ackChain sees every batch that was started.
        if (this.#stopping || this.#failure) {
          span.end();
          break;
        }
        const published = context.with(trace.setSpan(context.active(), span), () => this.#publish(messages)).then(
          (acks) => ({ acks, error: null as IngestError | null }),
          (error: unknown) => ({ acks: [] as PublishAck[], error: toIngestError(error) }),
        );
        const acked = this.#ackChain.then(async () => {
          const r = await published;
          if (this.#failure) return _endSpan(span, null);
          try {
            if (r.error !== null) throw r.error;
            await this.#source.ack(batch);
            this.#count(batch, r.acks);
            _endSpan(span, null);
          } catch (e) {
            this.#fail(e);
            _endSpan(span, e);
          }
        });
        this.#ackChain = acked;
        window.push(acked);
      }
    } catch (e) {
      this.#fail(e);
    }
    await this.#ackChain;
    await this.#halting;
    return this.#failure;
  }

  /** Records the first failure and stops the source, which also ends a loop waiting for the next batch. */
  #fail(e: unknown): void {
    this.#failure ??= toIngestError(e);
    this.#halting ??= this.#source.stop().catch((err: unknown) => this.#log.warn(`source stop after failure: ${String(err)}`));
  }

  /** Publishes one batch's messages; a transient failure republishes the whole batch (msgIds make that safe). */
  async #publish(messages: OutgoingMessage[]): Promise<PublishAck[]> {
    if (messages.length === 0) return [];
    const batch = messages.map((m) => ({ subject: m.subject, payload: m.payload, msgId: m.msgId, expectStream: this.#cfg.stream.name }));
    const attempts = this.#cfg.pipeline.publishAttempts;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#publisher.publishBatch(batch);
      } catch (e) {
        const transient = e instanceof MessagingError && _TRANSIENT.has(e.code);
        if (!transient || attempt >= attempts) {
          throw new IngestError(IngestErrorCode.PublishFailed, `publish to ${this.#cfg.stream.name} failed after ${attempt} attempt(s): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        }
        const delay = Math.min(100 * 2 ** attempt, 5000);
        this.#log.warn(`publish attempt ${attempt} failed (${e.code}); retrying in ${delay} ms`);
        await this.#clock.sleep(delay);
      }
    }
  }

  #count(batch: ChangeBatch, acks: readonly PublishAck[]): void {
    const s = this.stats;
    s.batchesAcked++;
    s.messagesPublished += acks.length;
    s.duplicates += acks.filter((a) => a.duplicate).length;
    s.changesAcked += batch.changes.length;
    s.lastAcked = `${batch.kind} ${batch.commitLsn} part ${batch.part}`;
    if (batch.kind === 'snapshot' && batch.last) this.#log.log(`snapshot at ${batch.commitLsn} published (${batch.part + 1} chunks)`);
  }
}

function _endSpan(span: Span, error: unknown): void {
  if (error !== null) {
    span.recordException(error instanceof Error ? error : toIngestError(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof IngestError ? error.code : 'error' });
  }
  span.end();
}

// Where the source reads from, for the start-up line: what an operator checks first for each kind.
function _describeSource(s: IngestConfig['source']): string {
  switch (s.kind) {
    case 'pg':
      return `logical replication, slot ${s.slot}, publication ${s.publication}`;
    case 'debezium':
      return `Debezium topics ${s.debezium!.topicPrefix}.*, consumer group ${s.debezium!.groupId}`;
    case 'mongodb':
      return `MongoDB change stream on ${s.mongo!.database}${s.mongo!.collections === null ? '' : ` (${s.mongo!.collections.join(', ')})`}`;
  }
}
