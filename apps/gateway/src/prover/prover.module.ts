// The prover bounded context: one NATS connection (drained on shutdown) and the typed prover client over it.
import { Module, type DynamicModule } from '@nestjs/common';
import { NATS_CONNECTION_CONFIG, NatsConnectionProvider } from '@merklesync/messaging';
import { ProverClient } from '@merklesync/prover-client';
import type { GatewayConfig } from '../config.ts';
import { PROVER } from '../tokens.ts';

/**
 * Provides PROVER (a `ProverClient`) and the NatsConnectionProvider (global).
 * @example imports: [ProverModule.forRoot(config)]
 */
@Module({})
export class ProverModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: ProverModule,
      global: true,
      providers: [
        { provide: NATS_CONNECTION_CONFIG, useValue: { servers: config.nats.servers, name: config.nats.name } },
        NatsConnectionProvider,
        {
          provide: PROVER,
          inject: [NatsConnectionProvider],
          // Connects at start-up: a gateway that cannot reach NATS fails fast.
          useFactory: async (nats: NatsConnectionProvider) => new ProverClient(await nats.connect(), { prefix: config.proverPrefix, timeoutMs: config.proverTimeoutMs }),
        },
      ],
      exports: [PROVER, NatsConnectionProvider],
    };
  }
}
