// The reads bounded context: roots, checkpoints, blocks, proofs, diffs and sync — the services both
// transports delegate to.
import { Module } from '@nestjs/common';
import { AnchorsService } from './anchors.service.ts';
import { BlocksService } from './blocks.service.ts';
import { DiffService } from './diff.service.ts';
import { ProofsService } from './proofs.service.ts';
import { StateService } from './state.service.ts';
import { SyncService } from './sync.service.ts';

const SERVICES = [AnchorsService, BlocksService, DiffService, ProofsService, StateService, SyncService];

/** Needs the global StoreModule and ProverModule. */
@Module({ providers: SERVICES, exports: SERVICES })
export class ReadsModule {}
