// Root module of the gateway: the store (read-only), the prover client, the reads, and the two transports
// (REST controller on the Nest HTTP adapter, gRPC on its own HTTP/2 server).
import { Module, type DynamicModule } from '@nestjs/common';
import type { GatewayConfig } from './config.ts';
import { GrpcServer } from './grpc/grpc.server.ts';
import { MerkleSyncGrpc } from './grpc/merkle-sync.grpc.ts';
import { ProverModule } from './prover/prover.module.ts';
import { ReadsModule } from './reads/reads.module.ts';
import { ReadsController } from './rest/reads.controller.ts';
import { StoreModule } from './store/store.module.ts';
import { VerificationsModule } from './verifications/verifications.module.ts';

/**
 * The gateway application for one config (tests start it in-process).
 * @example const app = await createGatewayApp(config)
 */
@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [StoreModule.forRoot(config), ProverModule.forRoot(config), ReadsModule, VerificationsModule],
      controllers: [ReadsController],
      providers: [MerkleSyncGrpc, GrpcServer],
    };
  }
}
