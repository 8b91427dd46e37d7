// The merkle service's one bounded context: consume change batches, keep the trees, sign checkpoints.
import { Module, type DynamicModule } from '@nestjs/common';
import type { MsgRequest } from '@nats-io/jetstream';
import { JetStreamPublisher, NatsConnectionProvider } from '@merklesync/messaging';
import type { SignerKey } from '@merklesync/crypto';
import type { MerkleStore } from '@merklesync/store';
import { ApplyService } from './apply/apply.service.ts';
import { ChangesController } from './changes/changes.controller.ts';
import { CheckpointService } from './checkpoint/checkpoint.service.ts';
import type { MerkleConfig } from './config.ts';
import { Lifecycle, type Closable } from './lifecycle.ts';
import {
  CHANGES_READER,
  CHECKPOINT_SIGNER,
  CLOCK,
  EVENT_PUBLISHER,
  MERKLE_CONFIG,
  MERKLE_STORE,
  PG_POOL,
  SCHEDULER,
  intervalScheduler,
  systemClock,
  type ChangesReader,
  type Clock,
  type EventPublisher,
  type Scheduler,
} from './ports.ts';
import { EventOutbox } from './publish/outbox.ts';
import { StateHolder } from './state/state-holder.ts';
import { WorkQueue } from './state/work-queue.ts';

/** The ports the module is wired with (bootstrap.ts builds them from the config). */
export interface MerklePorts {
  readonly store: MerkleStore;
  /** The pool behind `store`, ended on shutdown; null when the caller owns it. */
  readonly pool: Closable | null;
  readonly nats: NatsConnectionProvider;
  readonly signer: SignerKey;
  readonly clock?: Clock;
  readonly scheduler?: Scheduler;
  /** Default: a JetStreamPublisher on `nats`. */
  readonly publisher?: EventPublisher;
  /** Default: direct reads of the changes stream on `nats` ({@link natsChangesReader}). */
  readonly changesReader?: ChangesReader;
}

/**
 * The changes stream read through the JetStream API (`STREAM.MSG.GET` with `next_by_subj` = the consumer's
 * filter): one request per call; used only when a message does not directly follow the applied one.
 */
export function natsChangesReader(nats: NatsConnectionProvider, config: MerkleConfig): ChangesReader {
  return {
    async firstFrom(seq) {
      const jsm = await nats.jetstreamManager();
      // The server's STREAM.MSG.GET takes next_by_subj (first match at or after seq); the client's type lists it
      // for direct gets only (which need allow_direct on ingest's stream), and passes the query through as is.
      const query = { seq, next_by_subj: config.bus.changesFilter } as unknown as MsgRequest;
      const m = await jsm.streams.getMessage(config.bus.changesStream, query);
      return m === null ? undefined : { seq: m.seq, subject: m.subject, data: m.data };
    },
  };
}

@Module({})
export class MerkleModule {
  /** @example NestFactory.createMicroservice(MerkleModule.forRoot(config, ports), { strategy }) */
  static forRoot(config: MerkleConfig, ports: MerklePorts): DynamicModule {
    return {
      module: MerkleModule,
      controllers: [ChangesController],
      providers: [
        { provide: MERKLE_CONFIG, useValue: config },
        { provide: MERKLE_STORE, useValue: ports.store },
        { provide: PG_POOL, useValue: ports.pool },
        { provide: NatsConnectionProvider, useValue: ports.nats },
        { provide: CHECKPOINT_SIGNER, useValue: ports.signer },
        { provide: CLOCK, useValue: ports.clock ?? systemClock },
        { provide: SCHEDULER, useValue: ports.scheduler ?? intervalScheduler },
        ports.publisher === undefined
          ? { provide: EVENT_PUBLISHER, useFactory: (n: NatsConnectionProvider) => new JetStreamPublisher(n), inject: [NatsConnectionProvider] }
          : { provide: EVENT_PUBLISHER, useValue: ports.publisher },
        ports.changesReader === undefined
          ? { provide: CHANGES_READER, useFactory: (n: NatsConnectionProvider) => natsChangesReader(n, config), inject: [NatsConnectionProvider] }
          : { provide: CHANGES_READER, useValue: ports.changesReader },
        WorkQueue,
        StateHolder,
        EventOutbox,
        CheckpointService,
        ApplyService,
        Lifecycle,
      ],
    };
  }
}
