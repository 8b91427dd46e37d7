// The merkle service's one bounded context: consume change batches, keep the trees, sign checkpoints.
import { Module, type DynamicModule } from '@nestjs/common';
import { JetStreamPublisher, NatsConnectionProvider } from '@merklesync/messaging';
import type { SignerKey } from '@merklesync/crypto';
import type { MerkleStore } from '@merklesync/store';
import { ApplyService } from './apply/apply.service.ts';
import { ChangesController } from './changes/changes.controller.ts';
import { CheckpointService } from './checkpoint/checkpoint.service.ts';
import type { MerkleConfig } from './config.ts';
import { Lifecycle, type Closable } from './lifecycle.ts';
import {
  CHECKPOINT_SIGNER,
  CLOCK,
  EVENT_PUBLISHER,
  MERKLE_CONFIG,
  MERKLE_STORE,
  PG_POOL,
  SCHEDULER,
  intervalScheduler,
  systemClock,
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
