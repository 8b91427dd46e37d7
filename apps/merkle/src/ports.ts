// Injection tokens and the small port interfaces the services depend on. Production bindings are in
// merkle.module.ts; tests replace the clock and scheduler (deterministic checkpoints) and pass keys directly.
import type { BatchMessage, PublishAck } from '@merklesync/messaging';

/** Token of the validated MerkleConfig. */
export const MERKLE_CONFIG = Symbol('MERKLE_CONFIG');
/** Token of the MerkleStore (libs/store) over the service's pool. */
export const MERKLE_STORE = Symbol('MERKLE_STORE');
/** Token of the pg pool (closed on shutdown). */
export const PG_POOL = Symbol('PG_POOL');
/** Token of the log's checkpoint SignerKey (libs/crypto). */
export const CHECKPOINT_SIGNER = Symbol('CHECKPOINT_SIGNER');
/** Token of the {@link Clock}. */
export const CLOCK = Symbol('CLOCK');
/** Token of the {@link Scheduler}. */
export const SCHEDULER = Symbol('SCHEDULER');
/** Token of the {@link EventPublisher}. */
export const EVENT_PUBLISHER = Symbol('EVENT_PUBLISHER');

/** Token of the {@link ChangesReader}. */
export const CHANGES_READER = Symbol('CHANGES_READER');

/** A message of the changes stream as stored. */
export interface StoredChange {
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
}

/**
 * Reads the changes stream directly (group commit's gap check, README "Group commit"): the first message
 * at or after `seq` on the consumer's filter subject, undefined when there is none.
 */
export interface ChangesReader {
  firstFrom(seq: number): Promise<StoredChange | undefined>;
}

/** Wall clock, ms since the epoch. */
export interface Clock {
  now(): number;
}

/** Runs `fn` every `ms` until cancelled (the checkpoint timer). */
export interface Scheduler {
  every(ms: number, fn: () => void): { cancel(): void };
}

/** What the services need from the bus: publish and wait for the PubAcks (JetStreamPublisher satisfies it). */
export interface EventPublisher {
  publishBatch(messages: readonly BatchMessage[]): Promise<PublishAck[]>;
}

/** The production clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** The production scheduler (unref'ed: a pending tick never keeps the process alive). */
export const intervalScheduler: Scheduler = {
  every(ms, fn) {
    const h = setInterval(fn, ms);
    h.unref();
    return { cancel: () => clearInterval(h) };
  },
};
