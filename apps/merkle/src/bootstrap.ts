// Builds the merkle microservice from a config: the Postgres pool and store, the NATS connection shared by
// the transport and the publisher, the JetStream transport (provisioning its streams and the durable
// consumer) and the module. main.ts and the tests both start the service through here.
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice, LoggerService, LogLevel } from '@nestjs/common';
import pg from 'pg';
import { parseSignerKey, type SignerKey } from '@merklesync/crypto';
import { JetStreamErrorPassthroughFilter, JetStreamServer, NatsConnectionProvider, streamDefinitionFor } from '@merklesync/messaging';
import { decodeEvent } from '@merklesync/protocol';
import { createStore, storeConfig, type MerkleStore } from '@merklesync/store';
import { busSubjects } from './bus-subjects.ts';
import type { MerkleConfig } from './config.ts';
import { MerkleModule } from './merkle.module.ts';
import type { Clock, EventPublisher, Scheduler } from './ports.ts';

/** Replaceable parts (tests); everything else comes from the config. */
export interface MerkleAppOptions {
  /** The log's checkpoint key (main.ts reads it from MERKLE_CHECKPOINT_KEY_FILE with {@link readSignerKey}). */
  readonly signer: SignerKey;
  readonly clock?: Clock;
  readonly scheduler?: Scheduler;
  readonly publisher?: EventPublisher;
  /** Wraps the store (tests inject persist failures). */
  readonly wrapStore?: (store: MerkleStore) => MerkleStore;
  /** Nak delays of failed messages, ms (default 1 s, 5 s, 30 s). */
  readonly retryBackoffMs?: readonly number[];
  readonly logger?: LoggerService | LogLevel[] | false;
}

/**
 * Parses the text of a signer key file (`PRIVATE+KEY+<name>+<id>+<base64>`, surrounding whitespace ignored).
 * @throws CryptoError(INVALID_KEY) for anything else, or a key that is not an Ed25519 log key (type 0x01).
 * @example readSignerKey(readFileSync(config.checkpoint.signerKeyFile, 'utf8'))
 */
export function readSignerKey(text: string): SignerKey {
  const key = parseSignerKey(text.trim());
  if (key.type !== 1) throw new RangeError('checkpoint signer key must be a log key (type 0x01), not a witness key');
  return key;
}

/**
 * Creates the microservice (not yet listening): `await app.listen()` migrates, loads the state, provisions
 * the streams and the consumer, then consumes; `await app.close()` stops gracefully.
 * @throws MessagingError(INVALID_CONFIG) for a bad NATS config.
 * @example const app = await createMerkleApp(config, { signer }); await app.listen();
 */
export async function createMerkleApp(config: MerkleConfig, options: MerkleAppOptions): Promise<INestMicroservice> {
  const pool = new pg.Pool({ connectionString: config.database.url, max: config.database.poolMax, application_name: config.nats.name });
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const base = createStore(pool, storeConfig({ schema: config.database.schema }), { suite: config.hashSuite });
  const store = options.wrapStore === undefined ? base : options.wrapStore(base);
  const nats = new NatsConnectionProvider(config.nats);
  const subjects = busSubjects(config.bus.subjectPrefix);
  const bus = config.bus;
  const server = new JetStreamServer({
    connection: nats,
    provision: {
      streams: [
        // Replicas come from config: provisioning updates a stream to its definition, so a count raised by hand
        // would be set back at the next start.
        streamDefinitionFor({ name: bus.rootsStream, subjects: [subjects.rootsAll], event: 'root-update' }, { replicas: bus.streamReplicas }),
        streamDefinitionFor({ name: bus.checkpointsStream, subjects: [subjects.checkpoints], event: 'checkpoint' }, { replicas: bus.streamReplicas }),
        streamDefinitionFor({ name: bus.deadLetterStream, subjects: [subjects.deadLetterAll], event: 'any' }, { replicas: bus.streamReplicas }),
      ],
      // maxAckPending = maxInFlight. At 1 the server hands out message n+1 only once n is acknowledged (or
      // terminated), so messages are applied strictly in stream order even across naks, crashes and restarts.
      // Above 1 the handlers see up to maxInFlight messages at once, and ApplyService persists consecutive ones
      // together (group commit); order is then ApplyService's job: it applies a message only right after its
      // predecessor on the filter (or after a gap of malformed / deleted messages), and naks the others. Either
      // way "applied up to stream sequence s" stays a sound idempotency key (README "Group commit").
      consumers: [
        { stream: bus.changesStream, name: bus.consumer, filterSubjects: [bus.changesFilter], maxDeliver: bus.maxDeliver, ackWaitMs: 60_000, maxAckPending: bus.maxInFlight },
      ],
    },
    consumers: [
      {
        stream: bus.changesStream,
        consumer: bus.consumer,
        batchSize: Math.max(bus.pullBatch, bus.maxInFlight),
        concurrency: bus.maxInFlight,
        deadLetterSubject: subjects.deadLetter(bus.changesStream),
        ...(options.retryBackoffMs === undefined ? {} : { backoffMs: options.retryBackoffMs }),
      },
    ],
    decode: (bytes) => decodeEvent('change-batch', bytes),
  });
  const app = await NestFactory.createMicroservice(
    MerkleModule.forRoot(config, {
      store,
      pool,
      nats,
      signer: options.signer,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.scheduler === undefined ? {} : { scheduler: options.scheduler }),
      ...(options.publisher === undefined ? {} : { publisher: options.publisher }),
    }),
    { strategy: server, ...(options.logger === undefined ? {} : { logger: options.logger }) },
  );
  app.useGlobalFilters(new JetStreamErrorPassthroughFilter());
  return app;
}
