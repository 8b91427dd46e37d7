// The verifications bounded context: replay's verdicts (REST and gRPC), read-only, on the store's pool.
import { Module } from '@nestjs/common';
import { DEFAULT_VERIFICATIONS_SCHEMA, VerificationStore } from '@merklesync/verification-store';
import type pg from 'pg';
import { PG_POOL } from '../tokens.ts';
import { VERIFICATIONS } from './tokens.ts';
import { VerificationsController } from './verifications.controller.ts';
import { VerificationsService } from './verifications.service.ts';

@Module({
  providers: [{ provide: VERIFICATIONS, inject: [PG_POOL], useFactory: (pool: pg.Pool) => new VerificationStore(pool, DEFAULT_VERIFICATIONS_SCHEMA) }, VerificationsService],
  controllers: [VerificationsController],
  exports: [VerificationsService],
})
export class VerificationsModule {}
