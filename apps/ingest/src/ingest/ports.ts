// The ports the ingest pipeline talks through. Each I/O is injected, so tests can wrap or replace it.
import type { BatchMessage, BatchPublishOptions, PublishAck } from '@merklesync/messaging';
import type { BatchPosition, ChangeBatch } from '@merklesync/sources';

/** Injection token of the validated {@link IngestConfig}. */
export const INGEST_CONFIG = Symbol('INGEST_CONFIG');
/** Injection token of the {@link ChangeSource}. */
export const CHANGE_SOURCE = Symbol('CHANGE_SOURCE');
/** Injection token of the `KeyProvider` (libs/crypto) holding the master keys. */
export const KEY_PROVIDER = Symbol('KEY_PROVIDER');
/** Injection token of the {@link Clock}. */
export const CLOCK = Symbol('CLOCK');
/** Injection token of the {@link ChangePublisher} (JetStreamPublisher in the service). */
export const CHANGE_PUBLISHER = Symbol('CHANGE_PUBLISHER');

/** What the pipeline needs of a change source (PgLogicalSource implements it). */
export interface ChangeSource {
  start(): Promise<void>;
  batches(): AsyncIterable<ChangeBatch>;
  /** Cumulative: acknowledges this batch and every one delivered before it. */
  ack(position: BatchPosition): Promise<void>;
  stop(): Promise<void>;
}

/** Wall clock and timer. */
export interface Clock {
  nowMs(): number;
  sleep(ms: number): Promise<void>;
}

/** Publishes pipelined messages and returns their PubAcks in order (JetStreamPublisher.publishBatch). */
export interface ChangePublisher {
  publishBatch(messages: readonly BatchMessage[], options?: BatchPublishOptions): Promise<PublishAck[]>;
}

/** The system clock. */
export const systemClock: Clock = {
  nowMs: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
