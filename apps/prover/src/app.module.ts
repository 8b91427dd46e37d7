// Root module of the prover: the store (read-only), one NATS connection, the proofs context.
import { Module, type DynamicModule } from '@nestjs/common';
import { NATS_CONNECTION_CONFIG, NatsConnectionProvider } from '@merklesync/messaging';
import type { ProverConfig } from './config.ts';
import { ProofsModule } from './proofs/proofs.module.ts';
import { StoreModule } from './store/store.module.ts';

@Module({})
class _BusModule {
  static forRoot(config: ProverConfig): DynamicModule {
    return {
      module: _BusModule,
      global: true,
      providers: [{ provide: NATS_CONNECTION_CONFIG, useValue: { servers: config.nats.servers, name: config.nats.name } }, NatsConnectionProvider],
      exports: [NatsConnectionProvider],
    };
  }
}

/**
 * The prover application for one config (tests start several in one process).
 * @example const app = await NestFactory.createApplicationContext(ProverModule.forRoot(config))
 */
@Module({})
export class ProverModule {
  static forRoot(config: ProverConfig): DynamicModule {
    return { module: ProverModule, imports: [StoreModule.forRoot(config), _BusModule.forRoot(config), ProofsModule] };
  }
}
