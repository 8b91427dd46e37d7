// Bootstrap only: tracing, config, the Nest application context, shutdown hooks (then the spans are flushed).
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { closeOnSignals, startTelemetry } from '@merklesync/telemetry';
import { ProverModule } from './app.module.ts';
import { loadProverConfig } from './config.ts';

async function bootstrap(): Promise<void> {
  const telemetry = startTelemetry({ serviceName: 'prover', env: process.env, logger: new Logger('telemetry') });
  const config = loadProverConfig();
  const app = await NestFactory.createApplicationContext(ProverModule.forRoot(config));
  // SIGTERM/SIGINT: drain the subscriptions (in-flight requests are answered), then NATS, then the pool, then spans.
  closeOnSignals(app, telemetry, { signals: ['SIGTERM', 'SIGINT', 'SIGHUP'], logger: new Logger('prover') });
}

bootstrap().catch((e: unknown) => {
  new Logger('prover').error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
