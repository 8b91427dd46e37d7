// Bootstrap only: read the configuration once, start the Nest application context (no HTTP), stop on SIGTERM.
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.ts';
import { ConfigError, loadIngestConfig, type IngestConfig } from './config.ts';
import { IngestPipeline } from './ingest/ingest-pipeline.service.ts';

const log = new Logger('ingest');

async function main(): Promise<void> {
  let config: IngestConfig;
  try {
    config = loadIngestConfig(process.env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    log.error(`invalid configuration: ${e.message}`);
    process.exitCode = 2;
    return;
  }
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { abortOnError: false });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  const outcome = await app.get(IngestPipeline).done;
  if (outcome) {
    // The error was logged by the pipeline; nothing after it was acknowledged, so a restart resumes there.
    await app.close();
    process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  log.error(`start-up failed: ${e instanceof Error ? e.message : String(e)}`, e instanceof Error ? e.stack : undefined);
  // Connections opened before the failure (NATS, Postgres) would keep the process alive.
  process.exit(1);
});
