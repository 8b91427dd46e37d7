// Bootstrap only: tracing and the configuration from the environment (once), the Nest application context
// (no HTTP); SIGTERM/SIGINT close it, then flush the spans.
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { closeOnSignals, startTelemetry, TelemetryConfigError, type Telemetry } from '@merklesync/telemetry';
import { AppModule } from './app.module.ts';
import { ConfigError, loadIngestConfig, type IngestConfig } from './config.ts';
import { IngestPipeline } from './ingest/ingest-pipeline.service.ts';

const log = new Logger('ingest');

async function main(): Promise<void> {
  let config: IngestConfig;
  let telemetry: Telemetry;
  try {
    telemetry = startTelemetry({ serviceName: 'ingest', env: process.env, logger: new Logger('telemetry') });
    config = loadIngestConfig(process.env);
  } catch (e) {
    if (!(e instanceof ConfigError || e instanceof TelemetryConfigError)) throw e;
    log.error(`invalid configuration: ${e.message}`);
    process.exitCode = 2;
    return;
  }
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { abortOnError: false });
  closeOnSignals(app, telemetry, { signals: ['SIGTERM', 'SIGINT'], logger: log });
  const outcome = await app.get(IngestPipeline).done;
  if (outcome) {
    // The error was logged by the pipeline; nothing after it was acknowledged, so a restart resumes there.
    await app.close();
    await telemetry.shutdown();
    process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  log.error(`start-up failed: ${e instanceof Error ? e.message : String(e)}`, e instanceof Error ? e.stack : undefined);
  // Connections opened before the failure (NATS, Postgres) would keep the process alive.
  process.exit(1);
});
