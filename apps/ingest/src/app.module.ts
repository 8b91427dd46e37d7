// Root module of the ingest service: the NATS connection and publisher (changes stream provisioned at start-up,
// idempotently) and the ingest context.
import { Module, type DynamicModule } from '@nestjs/common';
import { MessagingModule, type StreamDefinition } from '@merklesync/messaging';
import type { IngestConfig } from './config.ts';
import { IngestModule, type IngestOverrides } from './ingest/ingest.module.ts';

/** The changes stream as ingest provisions it (name and subjects configurable so tests can isolate). */
export function changesStreamDefinition(config: IngestConfig): StreamDefinition {
  return {
    name: config.stream.name,
    subjects: config.stream.subjects,
    description: 'MerkleSync change batches (encrypted rows, keyed commitments)',
    duplicateWindowMs: config.stream.duplicateWindowMs,
    maxAgeMs: config.stream.maxAgeMs,
    // From config: provisioning updates the stream to this definition at every start.
    replicas: config.stream.replicas,
  };
}

@Module({})
export class AppModule {
  /** @example NestFactory.createApplicationContext(AppModule.forRoot(loadIngestConfig(process.env))) */
  static forRoot(config: IngestConfig, overrides: IngestOverrides = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [MessagingModule.forRoot({ connection: config.nats, streams: [changesStreamDefinition(config)] }), IngestModule.forRoot(config, overrides)],
    };
  }
}
