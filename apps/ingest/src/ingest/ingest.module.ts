// The ingest bounded context: the pipeline and its ports (source, keys, clock, publisher).
import { Module, type DynamicModule } from '@nestjs/common';
import { JetStreamPublisher } from '@merklesync/messaging';
import type { IngestConfig } from '../config.ts';
import { loadKeyProvider } from '../keys/key-material.ts';
import { sourceProviders, type SourceWrapper } from '../source/source.providers.ts';
import { IngestPipeline } from './ingest-pipeline.service.ts';
import { CHANGE_PUBLISHER, CLOCK, INGEST_CONFIG, KEY_PROVIDER, systemClock, type Clock } from './ports.ts';

/** Port replacements for tests and tools; the service uses none. */
export interface IngestOverrides {
  wrapSource?: SourceWrapper;
  clock?: Clock;
  readKeyFile?: (path: string) => Promise<string>;
}

@Module({})
export class IngestModule {
  /** @example IngestModule.forRoot(config) */
  static forRoot(config: IngestConfig, overrides: IngestOverrides = {}): DynamicModule {
    return {
      module: IngestModule,
      providers: [
        { provide: INGEST_CONFIG, useValue: config },
        { provide: CLOCK, useValue: overrides.clock ?? systemClock },
        { provide: KEY_PROVIDER, useFactory: () => loadKeyProvider(config.keys, overrides.readKeyFile) },
        { provide: CHANGE_PUBLISHER, useExisting: JetStreamPublisher },
        ...sourceProviders(overrides.wrapSource),
        IngestPipeline,
      ],
      exports: [IngestPipeline],
    };
  }
}
