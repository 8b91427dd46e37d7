// The proofs bounded context: map, log and checkpoint services, their bus handlers and the RPC endpoint.
import { Module } from '@nestjs/common';
import { CheckpointService } from './checkpoint.service.ts';
import { LogProofService } from './log-proof.service.ts';
import { MapProofService } from './map-proof.service.ts';
import { ProofHandlers } from './proof.handlers.ts';
import { ProofRpcServer } from './proof-rpc.server.ts';

@Module({
  providers: [CheckpointService, LogProofService, MapProofService, ProofHandlers, ProofRpcServer],
  exports: [ProofRpcServer, MapProofService],
})
export class ProofsModule {}
