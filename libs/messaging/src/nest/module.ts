// Nest wiring for producers: one NATS connection and the publisher, with streams and consumers provisioned
// at start-up (start-up fails if provisioning does).
import { Inject, Injectable, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import type { NatsConnectionConfig } from '../config.ts';
import { NATS_CONNECTION_CONFIG, NatsConnectionProvider } from '../connection.ts';
import type { ConsumerDefinition } from '../provisioning/consumer-definition.ts';
import { provision } from '../provisioning/provisioner.ts';
import type { StreamDefinition } from '../provisioning/stream-definition.ts';
import { JetStreamPublisher } from '../publish/publisher.ts';

/** Injection token of the provisioning spec given to {@link MessagingModule.forRoot}. */
export const MESSAGING_PROVISION = Symbol('MESSAGING_PROVISION');

/** What {@link MessagingModule.forRoot} takes. */
export interface MessagingModuleOptions {
  readonly connection: NatsConnectionConfig;
  readonly streams?: readonly StreamDefinition[];
  readonly consumers?: readonly ConsumerDefinition[];
}

@Injectable()
class _MessagingBootstrap implements OnModuleInit {
  private readonly nats: NatsConnectionProvider;
  private readonly spec: Omit<MessagingModuleOptions, 'connection'>;
  constructor(@Inject(NatsConnectionProvider) nats: NatsConnectionProvider, @Inject(MESSAGING_PROVISION) spec: Omit<MessagingModuleOptions, 'connection'>) {
    this.nats = nats;
    this.spec = spec;
  }
  async onModuleInit(): Promise<void> {
    await this.nats.connect();
    await provision(await this.nats.jetstreamManager(), this.spec);
  }
}

/**
 * Global module exporting {@link NatsConnectionProvider} and {@link JetStreamPublisher}.
 * @throws at application init: MessagingError (NOT_CONNECTED, INVALID_CONFIG, STREAM_CONFLICT...).
 * @example MessagingModule.forRoot({ connection: config.nats, streams: [changesStream, dlqStream] })
 */
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingModuleOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      providers: [
        { provide: NATS_CONNECTION_CONFIG, useValue: options.connection },
        { provide: MESSAGING_PROVISION, useValue: { streams: options.streams ?? [], consumers: options.consumers ?? [] } },
        NatsConnectionProvider,
        JetStreamPublisher,
        _MessagingBootstrap,
      ],
      exports: [NatsConnectionProvider, JetStreamPublisher],
    };
  }
}
